/** `rs-cleanup redrive RUN`: runs again only the items that failed in a finished run (its manifest's failed.csv). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { sha256File } from '../common/plan-file';
import { finishedSummary } from './finished-run';
import { runCommand } from './run';
import type { JobOptions } from './job-options';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function redriveCommand(runId: string, options: JobOptions & { json: boolean }, io: CommandIo): Promise<number> {
  const summary = await finishedSummary(runId, io);
  if (!summary.manifestDir) throw new UsageError(`run ${runId} ended ${summary.status} before writing a manifest`);
  const failedCsv = path.join(summary.manifestDir, 'failed.csv');
  if (summary.counts.failed === 0) {
    io.stderr.write(`Run ${runId} has no failed items: nothing to redrive.\n`);
    return EXIT.ok;
  }
  if (!existsSync(failedCsv)) throw new UsageError(`${failedCsv} is not readable here (it is on the workers' audit volume)`);
  io.stderr.write(`Redriving the ${summary.counts.failed} failed item(s) of ${runId} from ${failedCsv}\n`);
  const checksum = (await sha256File(failedCsv)).slice(0, 12);
  return runCommand({ ...options, input: failedCsv, id: `${runId}-redrive-${checksum}` }, io);
}
