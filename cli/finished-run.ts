/** The summary of a run that has ended, for `report` and `redrive`: a running or failed run is a usage error. */
import type { cleanupWorkflow, CleanupSummary } from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function finishedSummary(runId: string, io: CommandIo): Promise<CleanupSummary> {
  return withTarget(io, async ({ client }) => {
    const handle = client.workflow.getHandle<typeof cleanupWorkflow>(runId);
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') throw new UsageError(`run ${runId} is still running; see: rs-cleanup status ${runId} --watch`);
    if (status.name !== 'COMPLETED') throw new UsageError(`run ${runId} ended ${status.name} and wrote no manifest`);
    return handle.result();
  });
}
