/**
 * `report` prints the outcome table of a finished run from its manifest;
 * `redrive` runs again only the items that failed (manifest/failed.csv).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { cleanupWorkflow, CleanupSummary } from '../workflows/cleanup';
import { withTarget } from './temporal-target';
import { runCommand, type JobOptions } from './run';
import { EXIT, UsageError } from './exit-codes';
import { sha256File } from '../common/plan-file';

async function finishedSummary(runId: string): Promise<CleanupSummary> {
  return withTarget(async ({ client }) => {
    const handle = client.workflow.getHandle<typeof cleanupWorkflow>(runId);
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') throw new UsageError(`run ${runId} is still running; see: rs-cleanup status ${runId} --watch`);
    if (status.name !== 'COMPLETED') throw new UsageError(`run ${runId} ended ${status.name} and wrote no manifest`);
    return handle.result();
  });
}

export async function reportCommand(runId: string, options: { json: boolean }): Promise<number> {
  const summary = await finishedSummary(runId);
  if (!summary.summaryFile) throw new UsageError(`run ${runId} ended ${summary.status} before writing a manifest${summary.stopReason ? `: ${summary.stopReason}` : ''}`);
  if (!existsSync(summary.summaryFile)) {
    throw new UsageError(`the manifest ${summary.summaryFile} is not readable here (it is on the workers' audit volume)`);
  }
  const manifest = JSON.parse(readFileSync(summary.summaryFile, 'utf8')) as CleanupSummary & { files: Record<string, string> };
  if (options.json) {
    process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
    return EXIT.ok;
  }
  const lines = [
    `Run ${runId} (${manifest.execute ? 'execute' : 'dry-run'}), ${manifest.startedAt} to ${manifest.finishedAt}`,
    '',
    `  ${'outcome'.padEnd(18)}${'items'.padStart(8)}  file`,
    ...Object.entries(manifest.counts).map(
      ([outcome, n]) => `  ${outcome.padEnd(18)}${String(n).padStart(8)}  ${manifest.files[outcome] ?? ''}`,
    ),
    `  ${'total'.padEnd(18)}${String(manifest.total).padStart(8)}`,
    '',
    `  audit      ${path.join(path.dirname(path.dirname(summary.summaryFile)), 'audit.jsonl')}`,
    `  backups    ${manifest.files.backups}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

export async function redriveCommand(
  runId: string,
  options: JobOptions & { json: boolean; yes: boolean; taskQueue?: string },
): Promise<number> {
  const summary = await finishedSummary(runId);
  if (!summary.manifestDir) throw new UsageError(`run ${runId} ended ${summary.status} before writing a manifest`);
  const failedCsv = path.join(summary.manifestDir, 'failed.csv');
  if (summary.counts.failed === 0) {
    process.stderr.write(`Run ${runId} has no failed items: nothing to redrive.\n`);
    return EXIT.ok;
  }
  if (!existsSync(failedCsv)) throw new UsageError(`${failedCsv} is not readable here (it is on the workers' audit volume)`);
  process.stderr.write(`Redriving the ${summary.counts.failed} failed item(s) of ${runId} from ${failedCsv}\n`);
  const checksum = (await sha256File(failedCsv)).slice(0, 12);
  return runCommand({ ...options, input: failedCsv, id: `${runId}-redrive-${checksum}` });
}
