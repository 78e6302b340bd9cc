/**
 * The summary of a run that has ended, for `report` and `redrive`: a running
 * or failed run is a usage error. With the embedded default and no server
 * running, it comes from the run's manifest on disk; no server is started.
 */
import type { cleanupWorkflow, CleanupSummary } from '../workflows/cleanup';
import { embeddedAuditDir, withRunningTarget } from './temporal-target';
import { recordedRuns } from './recorded-runs';
import { UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function finishedSummary(runId: string, io: CommandIo): Promise<CleanupSummary> {
  return withRunningTarget(
    io,
    async ({ client }) => {
      const handle = client.workflow.getHandle<typeof cleanupWorkflow>(runId);
      const { status } = await handle.describe();
      if (status.name === 'RUNNING') throw new UsageError(`run ${runId} is still running; see: rs-cleanup status ${runId} --watch`);
      if (status.name !== 'COMPLETED') throw new UsageError(`run ${runId} ended ${status.name} and wrote no manifest`);
      return handle.result();
    },
    async () => {
      const auditDir = embeddedAuditDir(io.env);
      const latest = recordedRuns(auditDir, runId)[0];
      if (!latest) throw new UsageError(`no run with workflow ID '${runId}' is recorded in ${auditDir}; see the runs with: rs-cleanup list`);
      if (!latest.summary) {
        throw new UsageError(
          `run ${runId} (started ${latest.startedAt.toISOString()}) has not finished: run the same \`rs-cleanup run\` command again to resume it`,
        );
      }
      return latest.summary;
    },
  );
}
