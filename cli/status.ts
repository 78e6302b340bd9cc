/**
 * `rs-cleanup status RUN`: the progress of a running run, or the summary of
 * an ended one (with that run's exit code). A run whose workflow task fails
 * on every attempt is said to be stuck, with the error and how to end it.
 */
import { setMaxListeners } from 'node:events';
import type { cleanupWorkflow } from '../workflows/cleanup';
import { progressQuery } from '../workflows/cleanup';
import { CLI_DEFAULTS } from '../common/options';
import { withTarget, type TemporalTarget } from './temporal-target';
import { formatProgress, ProgressLine } from './progress';
import { exitCodeOf, formatSummary } from './follow-run';
import { describeFailingTask, failingWorkflowTask, type FailingWorkflowTask } from './workflow-task-failure';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';

/** A progress query needs a worker; without one it would wait for ever. */
const PROGRESS_QUERY_DEADLINE_MS = 15_000;

export interface StatusOptions {
  watch: boolean;
  json: boolean;
}

export async function statusCommand(runId: string, options: StatusOptions, io: CommandIo): Promise<number> {
  return withTarget(io, async (target) => {
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
  });
}

async function report(target: TemporalTarget, runId: string, options: StatusOptions, io: CommandIo, signal: AbortSignal): Promise<number> {
  const handle = target.client.workflow.getHandle<typeof cleanupWorkflow>(runId);
  let description = await handle.describe();
  let stuck = await failingWorkflowTask(target.client, description);
  if (description.status.name === 'RUNNING' && !stuck && options.watch && !options.json) {
    const line = new ProgressLine(io.stdout);
    while (description.status.name === 'RUNNING' && !stuck) {
      const progress = await handle.query(progressQuery).catch(() => undefined); // between continue-as-new runs
      if (signal.aborted) return EXIT.interrupted;
      if (progress) line.update(progress);
      await new Promise((r) => setTimeout(r, CLI_DEFAULTS.progressPollMs));
      description = await handle.describe();
      stuck = await failingWorkflowTask(target.client, description);
    }
    line.end();
  }
  if (stuck) return reportStuck(runId, stuck, options, io);
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
      if (stuckNow) return reportStuck(runId, stuckNow, options, io);
      // A query needs a worker: none polls this run's task queue right now.
      const hint = target.kind === 'cluster' ? 'is a worker running on its task queue?' : 'run the same `rs-cleanup run` command again to resume it';
      io.stdout.write(
        options.json
          ? JSON.stringify({ workflowId: runId, status: 'RUNNING', progress: null }, null, 2) + '\n'
          : `Run ${runId}: running since ${description.startTime.toISOString()}; no worker answered for its progress (${hint})\n`,
      );
      return EXIT.ok;
    }
    io.stdout.write(
      options.json
        ? JSON.stringify({ workflowId: runId, status: 'RUNNING', progress }, null, 2) + '\n'
        : `Run ${runId}: running since ${progress.startedAt}\n${formatProgress(progress)}\n`,
    );
    return EXIT.ok;
  }
  if (description.status.name === 'COMPLETED') {
    const summary = await handle.result();
    io.stdout.write(options.json ? JSON.stringify({ workflowId: runId, status: 'COMPLETED', summary }, null, 2) + '\n' : formatSummary(summary));
    return exitCodeOf(summary);
  }
  const failure = await handle.result().then(
    () => undefined,
    (err: Error) => (err.cause instanceof Error ? err.cause.message : err.message),
  );
  io.stdout.write(
    options.json
      ? JSON.stringify({ workflowId: runId, status: description.status.name, failure }, null, 2) + '\n'
      : `Run ${runId}: ${description.status.name}${failure ? ` (${failure})` : ''}\n`,
  );
  // Terminated or cancelled: stopped early (3); failed or timed out: 1.
  return description.status.name === 'TERMINATED' || description.status.name === 'CANCELLED' ? EXIT.stopped : EXIT.failures;
}

function reportStuck(runId: string, stuck: FailingWorkflowTask, options: StatusOptions, io: CommandIo): number {
  io.stdout.write(
    options.json
      ? JSON.stringify({ workflowId: runId, status: 'RUNNING', stuck }, null, 2) + '\n'
      : `Run ${runId}: running, but STUCK: ${describeFailingTask(runId, stuck)}\n`,
  );
  return EXIT.failures;
}
