/**
 * Commands on runs: `status`, `list`, `pause`, `resume`, `cancel`, `set-rate`.
 * They only query, signal and update the workflow; the workers do the work.
 */
import {
  cancelSignal,
  pauseSignal,
  progressQuery,
  resumeSignal,
  setLimitsUpdate,
  type cleanupWorkflow,
  type LimitsUpdate,
} from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { formatProgress, ProgressLine } from './progress';
import { exitCodeOf, formatSummary } from './run';
import { EXIT, UsageError } from './exit-codes';

export async function statusCommand(runId: string, options: { watch: boolean; json: boolean }): Promise<number> {
  return withTarget(async ({ client }) => {
    const handle = client.workflow.getHandle<typeof cleanupWorkflow>(runId);
    let description = await handle.describe();
    if (description.status.name === 'RUNNING' && options.watch && !options.json) {
      const line = new ProgressLine(process.stdout);
      while (description.status.name === 'RUNNING') {
        const progress = await handle.query(progressQuery).catch(() => undefined); // between continue-as-new runs
        if (progress) line.update(progress);
        await new Promise((r) => setTimeout(r, 1_000));
        description = await handle.describe();
      }
      line.end();
    }
    if (description.status.name === 'RUNNING') {
      const progress = await handle.query(progressQuery);
      process.stdout.write(
        options.json
          ? JSON.stringify({ workflowId: runId, status: 'RUNNING', progress }, null, 2) + '\n'
          : `Run ${runId}: running since ${progress.startedAt}\n${formatProgress(progress)}\n`,
      );
      return EXIT.ok;
    }
    if (description.status.name === 'COMPLETED') {
      const summary = await handle.result();
      process.stdout.write(options.json ? JSON.stringify({ workflowId: runId, status: 'COMPLETED', summary }, null, 2) + '\n' : formatSummary(summary));
      return exitCodeOf(summary);
    }
    const failure = await handle.result().then(
      () => undefined,
      (err: Error) => (err.cause instanceof Error ? err.cause.message : err.message),
    );
    process.stdout.write(
      options.json
        ? JSON.stringify({ workflowId: runId, status: description.status.name, failure }, null, 2) + '\n'
        : `Run ${runId}: ${description.status.name}${failure ? ` (${failure})` : ''}\n`,
    );
    return EXIT.failures;
  });
}

export async function listCommand(options: { limit: number; json: boolean }): Promise<number> {
  return withTarget(async ({ client }) => {
    const rows: { workflowId: string; status: string; startTime: string; closeTime?: string; progress?: string }[] = [];
    const runs = client.workflow.list({
      // A continue-as-new chain is one run for the operator: show its current execution only.
      query: `WorkflowType = 'cleanupWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`,
    });
    for await (const run of runs) {
      const row = {
        workflowId: run.workflowId,
        status: run.status.name,
        startTime: run.startTime.toISOString(),
        ...(run.closeTime ? { closeTime: run.closeTime.toISOString() } : {}),
      };
      if (run.status.name === 'RUNNING') {
        const progress = await client.workflow.getHandle<typeof cleanupWorkflow>(run.workflowId).query(progressQuery).catch(() => undefined);
        if (progress) Object.assign(row, { progress: `${progress.done}/${progress.total}${progress.paused ? ' paused' : ''}` });
      }
      rows.push(row);
      if (rows.length >= options.limit) break;
    }
    if (options.json) {
      process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    } else if (rows.length === 0) {
      process.stdout.write('No runs yet.\n');
    } else {
      for (const r of rows) {
        process.stdout.write(`${r.workflowId}  ${r.status.padEnd(10)} started ${r.startTime}${r.closeTime ? `  closed ${r.closeTime}` : ''}${r.progress ? `  ${r.progress}` : ''}\n`);
      }
    }
    return EXIT.ok;
  });
}

export async function signalCommand(
  runId: string,
  action: 'pause' | 'resume' | 'cancel',
  options: { reason?: string; json: boolean },
): Promise<number> {
  return withTarget(async ({ client }) => {
    const handle = client.workflow.getHandle<typeof cleanupWorkflow>(runId);
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') throw new UsageError(`run ${runId} is not running: it ended ${status.name}`);
    if (action === 'pause') await handle.signal(pauseSignal);
    else if (action === 'resume') await handle.signal(resumeSignal);
    else await handle.signal(cancelSignal, options.reason);
    const verb = { pause: 'Paused (in-flight items finish)', resume: 'Resumed', cancel: 'Cancelling (in-flight items finish; the rest is recorded as cancelled)' }[action];
    process.stdout.write(options.json ? JSON.stringify({ workflowId: runId, signal: action }) + '\n' : `${verb}: ${runId}\n`);
    return EXIT.ok;
  });
}

export async function setRateCommand(runId: string, update: LimitsUpdate, options: { json: boolean }): Promise<number> {
  if (update.rate === undefined && update.poolRate === undefined && update.window === undefined) {
    throw new UsageError('give at least one of --rate, --pool-rate, --window');
  }
  return withTarget(async ({ client }) => {
    const handle = client.workflow.getHandle<typeof cleanupWorkflow>(runId);
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') throw new UsageError(`run ${runId} is not running: it ended ${status.name}`);
    try {
      const limits = await handle.executeUpdate(setLimitsUpdate, { args: [update] });
      process.stdout.write(options.json ? JSON.stringify(limits) + '\n' : `Limits of ${runId} now: ${limits.rate}/s, ${limits.poolRate}/s per pool, window ${limits.window}\n`);
      return EXIT.ok;
    } catch (err) {
      const cause = (err as Error).cause as Error | undefined;
      throw new UsageError(`the run refused the new limits: ${cause?.message ?? (err as Error).message}`);
    }
  });
}
