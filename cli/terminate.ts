/**
 * `rs-cleanup terminate RUN`: ends a run at once, without its workflow code
 * (the way out for a stuck run). Deletes already sent to workers may still
 * finish and are in the audit log; the run writes no manifest.
 */
import { withTarget } from './temporal-target';
import { runningRun } from './running-run';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';

export async function terminateCommand(runId: string, options: { reason?: string; json: boolean }, io: CommandIo): Promise<number> {
  return withTarget(io, async (target) => {
    const { handle, stuck } = await runningRun(target, runId);
    const reason = options.reason ?? (stuck ? `terminated while stuck: ${stuck.error}` : 'terminated by the operator');
    await handle.terminate(reason);
    io.stdout.write(
      options.json
        ? JSON.stringify({ workflowId: runId, terminated: true, reason }) + '\n'
        : `Terminated ${runId} (${reason}). Nothing more starts; deletes already sent may still finish and are in the audit log; the run writes no manifest.\n`,
    );
    return EXIT.ok;
  });
}
