/**
 * `rs-cleanup status RUN`: the progress of a running run, or the summary of
 * an ended one (with that run's exit code), and its link in the Temporal Web
 * UI when the embedded server serves one. A run whose workflow task fails on
 * every attempt is said to be stuck, with the error and how to end it.
 *
 * With the embedded default and no server running, it starts none: it reads
 * the run's manifest on disk (cli/recorded-runs.ts), or says that the run has
 * not finished and how to resume it.
 */
import { setMaxListeners } from 'node:events';
import type { cleanupWorkflow } from '../workflows/cleanup';
import { CLI_DEFAULTS } from '../common/options';
import { runFiles } from '../common/run-files';
import { embeddedAuditDir, runLink, withRunningTarget, type TemporalTarget } from './temporal-target';
import { formatProgress, ProgressLine } from './progress';
import { exitCodeOf, formatSummary } from './run-summary';
import { recordedRuns } from './recorded-runs';
import type { FailingWorkflowTask } from './workflow-task-failure';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

/** A progress query needs a worker; without one it would wait for ever. */
const PROGRESS_QUERY_DEADLINE_MS = 15_000;

export interface StatusOptions {
  watch: boolean;
  json: boolean;
}

export async function statusCommand(runId: string, options: StatusOptions, io: CommandIo): Promise<number> {
  return withRunningTarget(io, async (target) => {
    // Ctrl-C during --watch cancels the pending calls; nothing is left waiting.
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    const interrupt = () => stop.abort();
    io.signal.addEventListener('abort', interrupt, { once: true });
    try {
      return await target.connection.withAbortSignal(stop.signal, () => report(target, runId, options, io, stop.signal));
    } catch (err) {
      if (stop.signal.aborted) return EXIT.interrupted;
      throw err;
    } finally {
      io.signal.removeEventListener('abort', interrupt);
    }
  }, async () => fromDisk(runId, options, io));
}

/** No server is running: what the audit directory says about the run. */
async function fromDisk(runId: string, options: StatusOptions, io: CommandIo): Promise<number> {
  const auditDir = embeddedAuditDir(io.env);
  const latest = recordedRuns(auditDir, runId)[0];
  if (!latest) {
    throw new UsageError(
      `no run with workflow ID '${runId}' is recorded in ${auditDir}, and no Temporal server is running (the embedded one runs while an rs-cleanup run does); see the runs with: rs-cleanup list`,
    );
  }
  if (latest.summary) {
    io.stdout.write(
      options.json
        ? JSON.stringify({ workflowId: runId, status: 'COMPLETED', summary: latest.summary, source: latest.summary.summaryFile }, null, 2) + '\n'
        : formatSummary(latest.summary),
    );
    if (!options.json) io.stderr.write(`(from ${latest.summary.summaryFile}: no Temporal server is running)\n`);
    return exitCodeOf(latest.summary);
  }
  const resume = 'run the same `rs-cleanup run` command again to resume it';
  io.stdout.write(
    options.json
      ? JSON.stringify({ workflowId: runId, status: 'UNFINISHED', startedAt: latest.startedAt.toISOString(), runDir: latest.runDir }, null, 2) + '\n'
      : `Run ${runId}: started ${latest.startedAt.toISOString()} and not finished; no rs-cleanup command is running it now (${resume}). ` +
          `What it did so far: ${runFiles(latest.runDir).audit}\n`,
  );
  return EXIT.ok;
}

async function report(target: TemporalTarget, runId: string, options: StatusOptions, io: CommandIo, signal: AbortSignal): Promise<number> {
  const { progressQuery } = await import('../workflows/cleanup');
  const { describeFailingTask, failingWorkflowTask } = await import('./workflow-task-failure');
  const link = runLink(target, target.client.options.namespace, runId);
  const json = (fields: object) => JSON.stringify({ workflowId: runId, ...fields, ...(link ? { uiLink: link } : {}) }, null, 2) + '\n';
  const reportStuck = (stuck: FailingWorkflowTask) => {
    io.stdout.write(
      options.json
        ? json({ status: 'RUNNING', stuck })
        : `Run ${runId}: running, but STUCK: ${describeFailingTask(runId, stuck)}\n`,
    );
    return EXIT.failures;
  };
  const handle = target.client.workflow.getHandle<typeof cleanupWorkflow>(runId);
  let description = await handle.describe();
  if (link && !options.json) io.stdout.write(`Temporal UI: ${link}\n`);
  let stuck = await failingWorkflowTask(target.client, description);
  if (description.status.name === 'RUNNING' && !stuck && options.watch && !options.json) {
    const line = new ProgressLine(io.stdout);
    while (description.status.name === 'RUNNING' && !stuck) {
      const progress = await handle.query(progressQuery).catch(() => undefined); // between continue-as-new runs
      if (signal.aborted) return EXIT.interrupted;
      if (progress) line.update(formatProgress(progress));
      await new Promise((r) => setTimeout(r, CLI_DEFAULTS.progressPollMs));
      description = await handle.describe();
      stuck = await failingWorkflowTask(target.client, description);
    }
    line.end();
  }
  if (stuck) return reportStuck(stuck);
  if (description.status.name === 'RUNNING') {
    const progress = await target.connection
      .withDeadline(Date.now() + PROGRESS_QUERY_DEADLINE_MS, () => handle.query(progressQuery))
      .catch((err) => {
        if (signal.aborted) throw err;
        return undefined;
      });
    if (!progress) {
      // The run may have got stuck meanwhile (a stuck run answers no query).
      const stuckNow = await failingWorkflowTask(target.client, await handle.describe());
      if (stuckNow) return reportStuck(stuckNow);
      // A query needs a worker: none polls this run's task queue right now.
      const hint = target.kind === 'cluster' ? 'is a worker running on its task queue?' : 'run the same `rs-cleanup run` command again to resume it';
      io.stdout.write(
        options.json
          ? json({ status: 'RUNNING', progress: null })
          : `Run ${runId}: running since ${description.startTime.toISOString()}; no worker answered for its progress (${hint})\n`,
      );
      return EXIT.ok;
    }
    io.stdout.write(
      options.json
        ? json({ status: 'RUNNING', progress })
        : `Run ${runId}: running since ${progress.startedAt}\n${formatProgress(progress)}\n`,
    );
    return EXIT.ok;
  }
  if (description.status.name === 'COMPLETED') {
    const summary = await handle.result();
    io.stdout.write(options.json ? json({ status: 'COMPLETED', summary }) : formatSummary(summary));
    return exitCodeOf(summary);
  }
  const failure = await handle.result().then(
    () => undefined,
    (err: Error) => (err.cause instanceof Error ? err.cause.message : err.message),
  );
  io.stdout.write(
    options.json
      ? json({ status: description.status.name, failure })
      : `Run ${runId}: ${description.status.name}${failure ? ` (${failure})` : ''}\n`,
  );
  // Terminated or cancelled: stopped early (3); failed or timed out: 1.
  return description.status.name === 'TERMINATED' || description.status.name === 'CANCELLED' ? EXIT.stopped : EXIT.failures;
}
