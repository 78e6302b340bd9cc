/** `rs-cleanup report RUN`: the outcome table of a finished run, from its manifest. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CleanupSummary } from '../workflows/cleanup';
import { finishedSummary } from './finished-run';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export async function reportCommand(runId: string, options: { json: boolean }, io: CommandIo): Promise<number> {
  const summary = await finishedSummary(runId, io);
  if (!summary.summaryFile) throw new UsageError(`run ${runId} ended ${summary.status} before writing a manifest${summary.stopReason ? `: ${summary.stopReason}` : ''}`);
  if (!existsSync(summary.summaryFile)) {
    throw new UsageError(`the manifest ${summary.summaryFile} is not readable here (it is on the workers' audit volume)`);
  }
  const manifest = JSON.parse(readFileSync(summary.summaryFile, 'utf8')) as CleanupSummary & { files: Record<string, string> };
  if (options.json) {
    io.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
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
  io.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
