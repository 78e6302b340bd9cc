/** `rs-cleanup pause RUN`: in-flight items finish, nothing new starts until `resume`. */
import { pauseSignal } from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { runningRun } from './running-run';
import { describeFailingTask } from './workflow-task-failure';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function pauseCommand(runId: string, options: { json: boolean }, io: CommandIo): Promise<number> {
  return withTarget(io, async (target) => {
    const { handle, stuck } = await runningRun(target, runId);
    if (stuck) throw new UsageError(`run ${runId} cannot be paused: it is stuck: ${describeFailingTask(runId, stuck)}`);
    await handle.signal(pauseSignal);
    io.stdout.write(options.json ? JSON.stringify({ workflowId: runId, signal: 'pause' }) + '\n' : `Paused (in-flight items finish): ${runId}\n`);
    return EXIT.ok;
  });
}
