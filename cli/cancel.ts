/**
 * `rs-cleanup cancel RUN`: in-flight items finish, the rest is recorded as
 * `cancelled`, and the run writes its manifest.
 *
 * A stuck run (its workflow task fails on every attempt) cannot take the
 * cancel signal: it would wait for ever. The operator asked for the run to
 * stop, and terminating is the only way left, so cancel terminates it and
 * says so: no manifest (the workflow cannot write one), the audit log keeps
 * what was done.
 */
import { cancelSignal } from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { runningRun } from './running-run';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';

export async function cancelCommand(runId: string, options: { reason?: string; json: boolean }, io: CommandIo): Promise<number> {
  return withTarget(io, async (target) => {
    const { handle, stuck } = await runningRun(target, runId);
    if (stuck) {
      const reason = `cancelled while stuck (${stuck.error})${options.reason ? `: ${options.reason}` : ''}`;
      await handle.terminate(reason);
      io.stdout.write(
        options.json
          ? JSON.stringify({ workflowId: runId, terminated: true, stuck }) + '\n'
          : `Run ${runId} was stuck (its workflow task fails on every attempt: ${stuck.error}), so it could not take a cancel: ` +
              'terminated it instead. It writes no manifest; its audit log has what it did.\n',
      );
      return EXIT.ok;
    }
    await handle.signal(cancelSignal, options.reason);
    io.stdout.write(
      options.json
        ? JSON.stringify({ workflowId: runId, signal: 'cancel' }) + '\n'
        : `Cancelling (in-flight items finish; the rest is recorded as cancelled): ${runId}\n`,
    );
    return EXIT.ok;
  });
}
