/**
 * `rs-cleanup list`: recent and running runs, newest first. With the embedded
 * default and no server running, it starts none: it lists the runs recorded
 * in the audit directory (cli/recorded-runs.ts), finished or not.
 */
import type { cleanupWorkflow } from '../workflows/cleanup';
import { embeddedAuditDir, withRunningTarget } from './temporal-target';
import { recordedRuns } from './recorded-runs';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';

export interface ListOptions {
  limit: number;
  json: boolean;
}

interface Row {
  workflowId: string;
  status: string;
  startTime: string;
  closeTime?: string;
  progress?: string;
  /** From disk: how the run ended (its summary's status). */
  outcome?: string;
}

/** A progress query needs a worker; a listing does not wait long for one. */
const QUERY_DEADLINE_MS = 5_000;

export async function listCommand(options: ListOptions, io: CommandIo): Promise<number> {
  const rows = await withRunningTarget(
    io,
    async ({ client, connection }) => {
      const { progressQuery } = await import('../workflows/cleanup');
      const rows: Row[] = [];
      const runs = client.workflow.list({
        // A continue-as-new chain is one run for the operator: show its current execution only.
        query: `WorkflowType = 'cleanupWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`,
      });
      for await (const run of runs) {
        const row: Row = {
          workflowId: run.workflowId,
          status: run.status.name,
          startTime: run.startTime.toISOString(),
          ...(run.closeTime ? { closeTime: run.closeTime.toISOString() } : {}),
        };
        if (run.status.name === 'RUNNING') {
          const handle = client.workflow.getHandle<typeof cleanupWorkflow>(run.workflowId);
          const progress = await connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery)).catch(() => undefined);
          if (progress) row.progress = `${progress.done}/${progress.total}${progress.paused ? ' paused' : ''}`;
        }
        rows.push(row);
        if (rows.length >= options.limit) break;
      }
      return rows;
    },
    async () => {
      const auditDir = embeddedAuditDir(io.env);
      if (!options.json) io.stderr.write(`No Temporal server is running (the embedded one runs while an rs-cleanup run does): the runs recorded in ${auditDir}.\n`);
      return recordedRuns(auditDir)
        .slice(0, options.limit)
        .map((run): Row => ({
          workflowId: run.workflowId,
          // A run with a manifest completed as a workflow; one without has not finished.
          status: run.summary ? 'COMPLETED' : 'UNFINISHED',
          startTime: run.startedAt.toISOString(),
          ...(run.summary ? { closeTime: run.summary.finishedAt, outcome: run.summary.status } : {}),
        }));
    },
  );
  if (options.json) {
    io.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  } else if (rows.length === 0) {
    io.stdout.write('No runs yet.\n');
  } else {
    for (const r of rows) {
      io.stdout.write(
        `${r.workflowId}  ${r.status.padEnd(10)} started ${r.startTime}${r.closeTime ? `  closed ${r.closeTime}` : ''}` +
          `${r.outcome ? `  ${r.outcome}` : ''}${r.progress ? `  ${r.progress}` : ''}\n`,
      );
    }
  }
  return EXIT.ok;
}
