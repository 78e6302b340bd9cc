/**
 * Starting a cleanup run and staying with it to its end, for `run` and
 * `redrive`: start the workflow (or attach to the same run when it is already
 * going), show progress, notice when the run is stuck or the command is
 * interrupted, print the summary and pick the exit code.
 */
import { setMaxListeners } from 'node:events';
import {
  ActivityFailure,
  ApplicationFailure,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { cleanupWorkflow, progressQuery, type CleanupInput, type CleanupSummary } from '../workflows/cleanup';
import { CLI_DEFAULTS } from '../common/options';
import { runLink, type TemporalTarget } from './temporal-target';
import type { CommandIo, OutputStream } from './command-io';
import { formatProgress, ProgressLine } from './progress';
import { UNRECORDED } from './startup-phases';
import { EXIT, UsageError } from './exit-codes';
import { describeFailingTask, failingWorkflowTask, type FailingWorkflowTask } from './workflow-task-failure';
import { dataDirectory, isAlive, registerFollower } from './embedded-temporal';
import { isMissingCredentials, PROVIDE_CREDENTIALS } from './aws-credentials';
import { describeMissingPoolsNotice, exitCodeOf, formatSummary } from './run-summary';

export { describeMissingPoolsNotice, exitCodeOf, formatSummary } from './run-summary';

/** A progress query gets this long; a run whose workflow task is stuck never answers one. */
const QUERY_DEADLINE_MS = 5_000;

export interface StartOptions {
  json: boolean;
  /** Items the run will go through, for the first line. */
  count: number;
}

/**
 * Starts the run `workflowId` with `input`, or attaches to it when it is
 * already running, and follows it to its end. Returns the exit code.
 * A stuck run of the same ID is not attached to: nothing starts (exit 2).
 */
export async function startAndFollow(
  target: TemporalTarget,
  workflowId: string,
  input: CleanupInput,
  options: StartOptions,
  io: CommandIo,
): Promise<number> {
  const existing = await describeRun(target, workflowId);
  const running = existing?.status.name === 'RUNNING' ? existing : undefined;
  if (running) {
    const failing = await failingWorkflowTask(target.client, running);
    if (failing) {
      io.stderr.write(
        `rs-cleanup: the same input's run ${workflowId} is already running but stuck: ${describeFailingTask(workflowId, failing)}, then run this command again. Nothing new was started.\n`,
      );
      return EXIT.invalidInput;
    }
  }
  if (target.kind === 'held' && !running) throw new UsageError(await refusalOnHeldServer(target, workflowId, io));

  const phases = io.phases ?? UNRECORDED;
  const requestedAt = Date.now();
  let startTime = running?.startTime;
  if (!running) {
    startTime = await phases.time('workflow started', async () => {
      const handle = await target.client.workflow.start(cleanupWorkflow, {
        taskQueue: target.taskQueue,
        workflowId,
        args: [input],
        // Two starts of the same input at once: the second attaches to the first's run.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
      return (await handle.describe()).startTime;
    });
  }
  const attached = running !== undefined || startTime!.getTime() < requestedAt - 1_000;
  if (attached) {
    const through = target.kind === 'held' ? ` through the embedded Temporal server of rs-cleanup process ${target.holderPid}, whose worker runs it` : '';
    io.stderr.write(`Attached to the run already going since ${startTime!.toISOString()} (workflow ID ${workflowId})${through}; not starting a second one.\n`);
  } else {
    io.stderr.write(
      `${input.execute ? 'EXECUTE: deleting' : 'Dry-run (pass --execute to delete): checking'} ${options.count} resource server(s); workflow ID ${workflowId}\n`,
    );
  }
  const link = runLink(target, target.client.options.namespace, workflowId);
  if (link) io.stderr.write(`Temporal UI: ${link}\n`);
  if (target.kind === 'embedded') await noteOtherRuns(target, workflowId, io);

  const unregister = target.kind === 'held' ? registerFollower(io.env, workflowId) : undefined;
  let end: FollowEnd;
  const since = performance.now();
  try {
    end = await followToEnd(target, workflowId, options.json ? undefined : io.stderr, io, { items: options.count });
  } finally {
    unregister?.();
  }
  phases.record(`run followed to its end (${end.kind})`, since);
  return reportEnd(end, target, workflowId, options, io);
}

async function describeRun(target: TemporalTarget, workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await target.client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Another process's embedded worker would run a new run with that process's
 * AWS credentials and settings, which this command may not mean: only the
 * same input's running run is attached to; anything else is refused.
 */
async function refusalOnHeldServer(target: TemporalTarget, workflowId: string, io: CommandIo): Promise<string> {
  const runs: string[] = [];
  for await (const run of target.client.workflow.list({ query: `WorkflowType = 'cleanupWorkflow' AND ExecutionStatus = 'Running'` })) {
    runs.push(run.workflowId);
  }
  const going = runs.length > 0 ? ` with run ${runs.join(', ')}` : '';
  const follow = runs.length > 0 ? `follow it with: rs-cleanup status ${runs[0]} --watch; ` : '';
  return (
    `rs-cleanup process ${target.holderPid} runs the embedded Temporal server in ${dataDirectory(io.env)}${going}, ` +
    `and this input's run (${workflowId}) is not running there; its worker would delete with that process's AWS credentials and settings, so nothing was started. ` +
    `${follow}start this run when that process has ended, or set TEMPORAL_ADDRESS to use a shared server`
  );
}

/**
 * The embedded worker resumes every interrupted run in its database, not only
 * the one asked for: say so, so nothing goes on unseen.
 */
async function noteOtherRuns(target: TemporalTarget, workflowId: string, io: CommandIo): Promise<void> {
  const others: string[] = [];
  for await (const run of target.client.workflow.list({ query: `WorkflowType = 'cleanupWorkflow' AND ExecutionStatus = 'Running'` })) {
    if (run.workflowId !== workflowId) others.push(run.workflowId);
  }
  if (others.length > 0) {
    io.stderr.write(
      `Note: ${others.length} earlier interrupted run(s) resume in this process too: ${others.join(', ')}. ` +
        'See them with `rs-cleanup status ID`; stop one with `rs-cleanup cancel ID`.\n',
    );
  }
}

export type FollowEnd =
  /** `missingPoolsTold`: the missing-pools warning was printed while the run went on. */
  | { kind: 'completed'; summary: CleanupSummary; missingPoolsTold: boolean }
  | { kind: 'failed'; error: WorkflowFailedError }
  /** The run's workflow task fails on every attempt: it will never end by itself. */
  | { kind: 'stuck'; failing: FailingWorkflowTask }
  /** Ctrl-C: this command stops waiting; the run goes on (or resumes next time, when embedded). */
  | { kind: 'interrupted' }
  /** The rs-cleanup process whose embedded server this command followed the run through has ended. */
  | { kind: 'holder-ended' };

/**
 * Waits for the run's result (following continue-as-new), showing progress
 * on `progress` when given. Every Temporal call made here listens to one
 * abort signal: Ctrl-C, a stuck run or a holder that ended cancels them, so
 * nothing is left pending when this returns.
 */
async function followToEnd(
  target: TemporalTarget,
  workflowId: string,
  progress: OutputStream | undefined,
  io: CommandIo,
  hints: { items?: number } = {},
): Promise<FollowEnd> {
  if (io.signal.aborted) return { kind: 'interrupted' };
  const handle = target.client.workflow.getHandle<typeof cleanupWorkflow>(workflowId);
  const stop = new AbortController();
  // Each call in scope adds a listener to this signal.
  setMaxListeners(0, stop.signal);
  const interrupt = () => stop.abort();
  io.signal.addEventListener('abort', interrupt, { once: true });
  const line = progress ? new ProgressLine(progress) : undefined;
  let stuck: FailingWorkflowTask | undefined;
  let holderEnded = false;
  let missingPoolsTold = false;
  try {
    return await target.connection.withAbortSignal(stop.signal, async () => {
      const watch = (async () => {
        while (!stop.signal.aborted) {
          if (target.kind === 'held' && target.holderPid !== undefined && !isAlive(target.holderPid)) {
            holderEnded = true;
            stop.abort();
            return;
          }
          // A describe each poll: cheap, and history is read only once the workflow task has failed.
          const description = await handle.describe().catch(() => undefined);
          const failing = description ? await failingWorkflowTask(target.client, description).catch(() => undefined) : undefined;
          if (failing) {
            stuck = failing;
            stop.abort();
            return;
          }
          // Between runs of a continue-as-new chain a query can fail; the next poll answers.
          const current = await target.connection
            .withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery))
            .catch(() => undefined);
          if (current && !stop.signal.aborted) {
            // Known from the dependency check, before any delete: say it at once, not only in the summary.
            if (current.missingPools?.length && !missingPoolsTold) {
              missingPoolsTold = true;
              line?.end();
              io.stderr.write(`${describeMissingPoolsNotice(current.missingPools, current.execute)}\n`);
            }
            line?.update(formatProgress(current, hints));
          }
          await sleep(CLI_DEFAULTS.progressPollMs, stop.signal);
        }
      })();
      try {
        const summary = await handle.result();
        return { kind: 'completed', summary, missingPoolsTold } as const;
      } catch (err) {
        if (stuck) return { kind: 'stuck', failing: stuck } as const;
        if (holderEnded) return { kind: 'holder-ended' } as const;
        if (io.signal.aborted) return { kind: 'interrupted' } as const;
        if (err instanceof WorkflowFailedError) return { kind: 'failed', error: err } as const;
        throw err;
      } finally {
        stop.abort();
        await watch;
      }
    });
  } finally {
    io.signal.removeEventListener('abort', interrupt);
    line?.end();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function reportEnd(end: FollowEnd, target: TemporalTarget, workflowId: string, options: StartOptions, io: CommandIo): number {
  switch (end.kind) {
    case 'completed':
      // A run can end before the first look at its progress: the warning still comes, before the summary.
      if (end.summary.missingPools?.length && !end.missingPoolsTold) {
        io.stderr.write(`${describeMissingPoolsNotice(end.summary.missingPools, end.summary.execute)}\n`);
      }
      io.stdout.write(options.json ? JSON.stringify(end.summary, null, 2) + '\n' : formatSummary(end.summary));
      return exitCodeOf(end.summary);
    case 'failed': {
      const { line, code } = explainFailure(end.error, workflowId);
      io.stderr.write(`${line}\n`);
      return code;
    }
    case 'stuck':
      io.stderr.write(`\nrs-cleanup: run ${workflowId} is stuck: ${describeFailingTask(workflowId, end.failing)}\n`);
      return EXIT.failures;
    case 'interrupted': {
      const where = {
        embedded: 'Run the same command again to resume',
        cluster: `The run goes on in Temporal; follow it with: rs-cleanup status ${workflowId} --watch`,
        held: `The run goes on in rs-cleanup process ${target.holderPid}; follow it with: rs-cleanup status ${workflowId} --watch`,
      }[target.kind];
      io.stderr.write(`\nInterrupted. ${where} (workflow ID ${workflowId}).\n`);
      return EXIT.interrupted;
    }
    case 'holder-ended':
      io.stderr.write(
        `\nrs-cleanup process ${target.holderPid}, whose embedded Temporal server this command followed the run through, has ended. ` +
          `Run the same command again to resume (workflow ID ${workflowId}).\n`,
      );
      return EXIT.interrupted;
  }
}

/** One line on why a run failed, and its exit code: 2 when it failed before anything could be deleted. */
export function explainFailure(error: WorkflowFailedError, workflowId: string): { line: string; code: number } {
  const activity = error.cause instanceof ActivityFailure ? error.cause : undefined;
  const cause = activity?.cause ?? error.cause;
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  const message = cause?.message ?? error.message;
  if (activity?.activityType === 'prepareInput' && type === 'InputChangedError') {
    // prepareInput runs before the plan exists: nothing can have been deleted.
    return {
      line: `rs-cleanup: ${message}; nothing was deleted. Run the command again to check the file as it is now (run ${workflowId} failed).`,
      code: EXIT.invalidInput,
    };
  }
  if (isMissingCredentials({ type, message })) {
    // The dependency check runs before the first delete.
    const beforeDeletes = type?.startsWith('DependencyCheck') ?? false;
    const where = message.split(' failed with ')[0];
    return {
      line:
        `rs-cleanup: run ${workflowId} failed: the worker found no AWS credentials (${where}); ${PROVIDE_CREDENTIALS} where the worker runs.` +
        (beforeDeletes ? ' Nothing was deleted.' : ''),
      code: beforeDeletes ? EXIT.invalidInput : EXIT.failures,
    };
  }
  return { line: `Run ${workflowId} failed: ${message}`, code: EXIT.failures };
}
