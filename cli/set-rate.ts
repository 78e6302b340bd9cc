/** `rs-cleanup set-rate RUN`: changes the rate and window of a running run (the workflow's setLimits update). */
import { setLimitsUpdate, type LimitsUpdate } from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { runningRun } from './running-run';
import { describeFailingTask } from './workflow-task-failure';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function setRateCommand(runId: string, update: LimitsUpdate, options: { json: boolean }, io: CommandIo): Promise<number> {
  if (update.rate === undefined && update.poolRate === undefined && update.window === undefined) {
    throw new UsageError('give at least one of --rate, --pool-rate, --window');
  }
  return withTarget(io, async (target) => {
    const { handle, stuck } = await runningRun(target, runId);
    // An update waits for the workflow task that a stuck run never completes.
    if (stuck) throw new UsageError(`run ${runId} cannot take new limits: it is stuck: ${describeFailingTask(runId, stuck)}`);
    try {
      const limits = await handle.executeUpdate(setLimitsUpdate, { args: [update] });
      io.stdout.write(
        options.json ? JSON.stringify(limits) + '\n' : `Limits of ${runId} now: ${limits.rate}/s, ${limits.poolRate}/s per pool, window ${limits.window}\n`,
      );
      return EXIT.ok;
    } catch (err) {
      const cause = (err as Error).cause as Error | undefined;
      throw new UsageError(`the run refused the new limits: ${cause?.message ?? (err as Error).message}`);
    }
  });
}
