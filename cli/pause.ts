/**
 * `rs-cleanup pause RUN [--reason TEXT]`: returns once the run holds still.
 * Deletes still waiting in a worker's limiter are called back and run again
 * after `resume`; a DeleteResourceServer already sent finishes and is
 * recorded. After this command returns, no delete starts until `resume`.
 */
import { pauseUpdate } from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { runningRun } from './running-run';
import { describeFailingTask } from './workflow-task-failure';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function pauseCommand(runId: string, options: { json: boolean; reason?: string }, io: CommandIo): Promise<number> {
  return withTarget(io, async (target) => {
    const { handle, stuck } = await runningRun(target, runId);
    if (stuck) throw new UsageError(`run ${runId} cannot be paused: it is stuck: ${describeFailingTask(runId, stuck)}`);
    const progress = await handle.executeUpdate(pauseUpdate, { args: [options.reason ? { reason: options.reason } : {}] });
    io.stdout.write(
      options.json
        ? JSON.stringify({ workflowId: runId, paused: true, progress }) + '\n'
        : `Paused ${runId}: nothing is in flight (${progress.done} of ${progress.total} done${progress.requeued ? `, ${progress.requeued} to run again after resume` : ''}). Resume with: rs-cleanup resume ${runId}\n`,
    );
    return EXIT.ok;
  });
}
