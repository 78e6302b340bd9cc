/** `rs-cleanup list`: recent and running runs, newest first. */
import { progressQuery, type cleanupWorkflow } from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';

export interface ListOptions {
  limit: number;
  json: boolean;
}

/** A progress query needs a worker; a listing does not wait long for one. */
const QUERY_DEADLINE_MS = 5_000;

export async function listCommand(options: ListOptions, io: CommandIo): Promise<number> {
  return withTarget(io, async ({ client, connection }) => {
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
        const handle = client.workflow.getHandle<typeof cleanupWorkflow>(run.workflowId);
        const progress = await connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery)).catch(() => undefined);
        if (progress) Object.assign(row, { progress: `${progress.done}/${progress.total}${progress.paused ? ' paused' : ''}` });
      }
      rows.push(row);
      if (rows.length >= options.limit) break;
    }
    if (options.json) {
      io.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    } else if (rows.length === 0) {
      io.stdout.write('No runs yet.\n');
    } else {
      for (const r of rows) {
        io.stdout.write(`${r.workflowId}  ${r.status.padEnd(10)} started ${r.startTime}${r.closeTime ? `  closed ${r.closeTime}` : ''}${r.progress ? `  ${r.progress}` : ''}\n`);
      }
    }
    return EXIT.ok;
  });
}
