/**
 * `rs-cleanup redrive RUN`: runs again the items of a finished run that did
 * not get done: the failed and the cancelled ones (and, with
 * --include-pool-not-found, those of pools that did not exist), with that
 * run's options (--in-use, rates, protection, --verify, ...) unless given anew.
 * A dry-run unless --execute, like `run`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Outcome } from '../common/types';
import type { CleanupSummary } from '../workflows/cleanup';
import { finishedSummary } from './finished-run';
import { runCommand } from './run';
import type { JobOptions } from './job-options';
import { inheritOptions, optionsAsFlags } from './run-options';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

export interface RedriveOptions extends JobOptions {
  json: boolean;
  includePoolNotFound: boolean;
}

export async function redriveCommand(
  runId: string,
  options: RedriveOptions,
  io: CommandIo,
  setOnCommandLine: ReadonlySet<string> = new Set(),
): Promise<number> {
  const summary = await finishedSummary(runId, io);
  if (!summary.manifestDir) throw new UsageError(`run ${runId} ended ${summary.status} before writing a manifest`);
  const outcomes: Outcome[] = ['failed', 'cancelled', ...(options.includePoolNotFound ? (['pool-not-found'] as const) : [])];
  const count = outcomes.reduce((n, outcome) => n + summary.counts[outcome], 0);
  if (count === 0) {
    const left = summary.counts['pool-not-found'] > 0 ? ` (${summary.counts['pool-not-found']} pool-not-found: add --include-pool-not-found once the pools are right)` : '';
    io.stderr.write(`Run ${runId} has no failed or cancelled items: nothing to redrive${left}.\n`);
    return EXIT.ok;
  }
  const input = combinedInput(summary, outcomes);
  const merged = summary.options ? inheritOptions(options, setOnCommandLine, summary.options) : options;
  const what = outcomes.filter((o) => summary.counts[o] > 0).map((o) => `${summary.counts[o]} ${o}`).join(', ');
  io.stderr.write(
    `Redriving ${count} item(s) of ${runId} (${what}) from ${input.file}` +
      (summary.options ? `, with its options: ${optionsAsFlags({ ...summary.options, protect: merged.protect ?? [] }).join(' ')}` : '') +
      (setOnCommandLine.size > 0 ? ` (overridden here: ${[...setOnCommandLine].map(flagName).join(', ')})` : '') +
      '\n',
  );
  return runCommand({ ...merged, input: input.file, id: `${runId}-redrive-${input.checksum}` }, io);
}

/**
 * One input of the chosen outcomes' manifest CSVs. They share one header (the
 * manifest writes them together), so the rows simply follow each other; the
 * file is named by its content, so the same redrive twice attaches to one run.
 */
function combinedInput(summary: CleanupSummary, outcomes: Outcome[]): { file: string; checksum: string } {
  const manifestDir = summary.manifestDir!;
  let header: string | undefined;
  const rows: string[] = [];
  for (const outcome of outcomes) {
    if (summary.counts[outcome] === 0) continue;
    const file = path.join(manifestDir, `${outcome}.csv`);
    if (!existsSync(file)) throw new UsageError(`${file} is not readable here (it is on the workers' audit volume)`);
    const text = readFileSync(file, 'utf8');
    const newline = text.indexOf('\n');
    const fileHeader = newline === -1 ? text : text.slice(0, newline);
    if (header !== undefined && fileHeader !== header) throw new UsageError(`${file} has another header than the other manifest files; redrive them one by one with run --input`);
    header = fileHeader;
    const body = newline === -1 ? '' : text.slice(newline + 1);
    if (body) rows.push(body.endsWith('\n') ? body : `${body}\n`);
  }
  const content = `${header}\n${rows.join('')}`;
  const checksum = createHash('sha256').update(content).digest('hex').slice(0, 12);
  const file = path.join(manifestDir, `redrive-${checksum}.csv`);
  if (!existsSync(file)) writeFileSync(file, content);
  return { file, checksum };
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
