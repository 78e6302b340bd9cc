/** `rs-cleanup resume RUN`: a paused run goes on. */
import { resumeSignal } from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { runningRun } from './running-run';
import { describeFailingTask } from './workflow-task-failure';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function resumeCommand(runId: string, options: { json: boolean }, io: CommandIo): Promise<number> {
  return withTarget(io, async (target) => {
    const { handle, stuck } = await runningRun(target, runId);
    if (stuck) throw new UsageError(`run ${runId} cannot be resumed: it is stuck: ${describeFailingTask(runId, stuck)}`);
    await handle.signal(resumeSignal);
    io.stdout.write(options.json ? JSON.stringify({ workflowId: runId, signal: 'resume' }) + '\n' : `Resumed: ${runId}\n`);
    return EXIT.ok;
  });
}
