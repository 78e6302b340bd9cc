/**
 * `rs-cleanup report RUN`: the outcome table of a finished run from its
 * manifest, the options it ran with, the error codes behind each outcome that
 * is not a success (most frequent first, with a sample message), and the
 * exact command that runs the failed and cancelled items again.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse';
import { displayName } from '../common/display-text';
import { runFiles } from '../common/run-files';
import type { Outcome } from '../common/types';
import type { CleanupSummary } from '../workflows/cleanup';
import { finishedSummary } from './finished-run';
import { optionsAsFlags } from './run-options';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

/** Outcomes whose reasons the operator needs to see. */
const EXPLAINED: readonly Outcome[] = ['failed', 'pool-not-found', 'cancelled', 'skipped-in-use', 'skipped-protected'];
const TOP_CODES = 5;

export interface ErrorCount {
  /** The AWS error code, or the reason when there is none. */
  code: string;
  count: number;
  /** One message of that code, shortened, control characters escaped. */
  sample: string;
}

export async function reportCommand(runId: string, options: { json: boolean }, io: CommandIo): Promise<number> {
  const summary = await finishedSummary(runId, io);
  if (!summary.summaryFile) throw new UsageError(`run ${runId} ended ${summary.status} before writing a manifest${summary.stopReason ? `: ${summary.stopReason}` : ''}`);
  if (!existsSync(summary.summaryFile)) {
    throw new UsageError(`the manifest ${summary.summaryFile} is not readable here (it is on the workers' audit volume)`);
  }
  const manifest = JSON.parse(readFileSync(summary.summaryFile, 'utf8')) as CleanupSummary & { files: Record<string, string> };
  const errors: Partial<Record<Outcome, ErrorCount[]>> = {};
  for (const outcome of EXPLAINED) {
    const file = manifest.files[outcome];
    if (manifest.counts[outcome] > 0 && file && existsSync(file)) errors[outcome] = await countErrors(file);
  }
  const redrive = manifest.counts.failed + manifest.counts.cancelled > 0 ? `rs-cleanup redrive ${runId}${manifest.execute ? ' --execute' : ''}` : undefined;
  if (options.json) {
    io.stdout.write(JSON.stringify({ ...manifest, errors, ...(redrive ? { redrive } : {}) }, null, 2) + '\n');
    return EXIT.ok;
  }
  const lines = [
    `Run ${runId} (${manifest.execute ? 'execute' : 'dry-run'}), ${manifest.startedAt} to ${manifest.finishedAt}${manifest.stopReason ? `: ${manifest.stopReason}` : ''}`,
    ...(manifest.options ? [`  options    ${optionsAsFlags(manifest.options).join(' ')}`] : []),
    '',
    `  ${'outcome'.padEnd(18)}${'items'.padStart(8)}  file`,
    ...Object.entries(manifest.counts).map(
      ([outcome, n]) => `  ${outcome.padEnd(18)}${String(n).padStart(8)}  ${manifest.files[outcome] ?? ''}`,
    ),
    `  ${'total'.padEnd(18)}${String(manifest.total).padStart(8)}`,
  ];
  for (const [outcome, counts] of Object.entries(errors)) {
    lines.push('', `  ${outcome}, by error code (most frequent first):`);
    for (const { code, count, sample } of counts.slice(0, TOP_CODES)) lines.push(`    ${String(count).padStart(7)}  ${code}: ${sample}`);
    if (counts.length > TOP_CODES) lines.push(`    ... and ${counts.length - TOP_CODES} more codes (report --json lists them all)`);
  }
  lines.push(
    '',
    `  audit      ${runFiles(path.dirname(path.dirname(summary.summaryFile))).audit}`,
    `  backups    ${manifest.files.backups}`,
  );
  if (redrive) lines.push('', `Run the failed and cancelled items again, with this run's options: ${redrive}`);
  io.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}

/** Error codes of one manifest CSV, streamed (a manifest can hold a million rows). */
async function countErrors(file: string): Promise<ErrorCount[]> {
  const byCode = new Map<string, ErrorCount>();
  const rows = createReadStream(file).pipe(parse({ columns: true, relax_column_count: true }));
  for await (const row of rows as AsyncIterable<Record<string, string>>) {
    const code = row.errorCode || row.reason || 'no reason recorded';
    const entry = byCode.get(code);
    if (entry) entry.count += 1;
    else byCode.set(code, { code: displayName(code, 60), count: 1, sample: displayName(row.errorMessage || row.reason || '', 120) });
  }
  return [...byCode.values()].sort((a, b) => b.count - a.count);
}
