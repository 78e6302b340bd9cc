/**
 * Writes the run's manifest when it ends: summary.json, one CSV per outcome
 * (failed.csv is itself a valid input, so re-running the failures is one
 * command) and backups.jsonl for restore.
 *
 * It walks the plan and looks up each item's recorded outcome, so the manifest
 * lists every input item exactly once. Every item has a recorded outcome (the
 * workflow records the items it never started with recordRemainder); one that
 * has none is counted as missing and listed as `cancelled`: that would be a
 * bug, and the summary says so rather than hiding it.
 *
 * A file the disk refuses (full, read-only) fails it with AuditUnavailable:
 * the workflow pauses with the reason and writes the manifest after resume.
 */
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { FileRef, ItemResult, OutcomeCounts } from '../common/types';
import { emptyCounts, OUTCOMES } from '../common/types';
import { planItems } from '../common/plan-file';
import { runFiles } from '../common/run-files';
import { csvField } from '../common/csv';
import { ACCOUNT_ID_COLUMNS } from '../common/input-reader';
import { BackupReader } from './batch-journal';
import { LineFile, writeFileAtomically } from '../common/files';
import { isWriteUnavailable } from './audit-log';
import { auditUnavailable } from './delete-resource-server';

export interface WriteManifestRequest {
  runDir: string;
  plan: FileRef;
  /** Set when the run ended before starting every item. */
  stopReason?: string;
  /** The run's job options, kept in summary.json for `report` and `redrive`. */
  options?: Record<string, unknown>;
  /** Everything else the summary should carry (run IDs, limits, timings). */
  summary: Record<string, unknown>;
}

export interface ManifestResult {
  counts: OutcomeCounts;
  total: number;
  /** Plan items with no recorded outcome (always 0 unless something is badly wrong). */
  missing: number;
  manifestDir: string;
  summaryFile: string;
  auditFile: string;
  files: Record<string, string>;
}

/** Columns the manifest adds; input columns of the same name are replaced. */
// The input reader's own name for it: failed.csv is read back as an input.
const ACCOUNT_COLUMN = ACCOUNT_ID_COLUMNS[0]!;
const RESULT_COLUMNS = ['userPoolId', 'identifier', 'outcome', 'reason', 'errorCode', 'errorMessage', 'attempts', 'requestId', 'row', 'finishedAt'];

export async function writeManifest(request: WriteManifestRequest): Promise<ManifestResult> {
  try {
    return await writeAll(request);
  } catch (err) {
    if (isWriteUnavailable(err)) throw auditUnavailable('the manifest', err);
    throw err;
  }
}

async function writeAll(request: WriteManifestRequest): Promise<ManifestResult> {
  const files = runFiles(request.runDir);
  await mkdir(files.manifestDir, { recursive: true });
  const context = Context.current();

  // Two streaming passes over the plan and the recorded outcomes, in step: the
  // extra input columns (and whether any item names an account) make the CSV
  // header, which is known only after every item is read; then the rows. Memory
  // stays one outcome page whatever the number of items.
  const extraColumns = new Set<string>();
  for await (const { result } of itemResults(request)) {
    for (const column of Object.keys(result.extra ?? {})) if (!RESULT_COLUMNS.includes(column)) extraColumns.add(column);
    // A run across accounts names each item's account (and failed.csv, an input itself, keeps it).
    if (result.accountId !== undefined) extraColumns.add(ACCOUNT_COLUMN);
  }

  const counts = emptyCounts();
  const header = [...RESULT_COLUMNS, ...extraColumns];
  const outputFiles: Record<string, string> = {};
  const writers = new Map<string, LineFile>();
  for (const outcome of OUTCOMES) {
    const file = path.join(files.manifestDir, `${outcome}.csv`);
    outputFiles[outcome] = file;
    const writer = new LineFile(file);
    await writer.write(header.map(csvField).join(',') + '\n');
    writers.set(outcome, writer);
  }
  const backups = new LineFile(files.backupsJsonl);
  const backupReader = new BackupReader(request.runDir);
  let total = 0;
  let missing = 0;
  let finished = false;
  try {
    for await (const { result, recorded } of itemResults(request)) {
      if (total % 1_000 === 0) context.heartbeat({ written: total });
      total += 1;
      if (!recorded) missing += 1;
      counts[result.outcome] += 1;
      await writers.get(result.outcome)!.write(csvRow(header, result) + '\n');
      if (result.outcome === 'deleted') {
        const backup = await backupReader.read(result);
        if (backup) await backups.write(JSON.stringify(backup) + '\n');
      }
    }
    finished = true;
  } finally {
    // Every file ended, also after an error (which stays the one thrown); else the first error closing one.
    const closed = await Promise.allSettled([...writers.values(), backups].map((w) => w.close()));
    const failure = closed.find((c) => c.status === 'rejected');
    if (finished && failure) throw failure.reason;
  }
  outputFiles.backups = files.backupsJsonl;

  const summary = {
    ...request.summary,
    ...(request.options ? { options: request.options } : {}),
    total,
    counts,
    missing,
    ...(request.stopReason ? { stopReason: request.stopReason } : {}),
    files: outputFiles,
    audit: files.audit,
  };
  await writeFileAtomically(files.summary, JSON.stringify(summary, null, 2) + '\n');
  return {
    counts,
    total,
    missing,
    manifestDir: files.manifestDir,
    summaryFile: files.summary,
    auditFile: files.audit,
    files: outputFiles,
  };
}

function key(item: { userPoolId: string; identifier: string }): string {
  return `${item.userPoolId}\n${item.identifier}`;
}

/**
 * Every plan item with its recorded outcome, in plan order, or a `cancelled`
 * stand-in when none was recorded. The outcome pages hold the plan's pages in
 * order (page N: the plan's items N x pageSize onwards, in their order), so
 * the plan and the pages are read in step, one page of outcomes at a time.
 * An item looks in the current page, then in the next one (a page whose
 * outcomes ran out, or that holds outcomes of no item left in the plan, gives
 * way to the next); in neither, it has no recorded outcome. At most two pages
 * are held.
 */
async function* itemResults(request: WriteManifestRequest): AsyncGenerator<{ result: ItemResult; recorded: boolean }> {
  const pages = outcomePages(runFiles(request.runDir).outcomesDir);
  let page = await pages.next();
  while (page?.empty) page = await pages.next();
  let ahead: OutcomePage | undefined;
  for await (const item of planItems(request.plan)) {
    const k = key(item);
    let result = page?.take(k);
    if (!result && page) {
      ahead ??= await pages.next();
      result = ahead?.take(k);
      // Found ahead: what is left of this page belongs to no item still to come.
      if (result) [page, ahead] = [ahead, undefined];
    }
    while (page?.empty) [page, ahead] = [ahead ?? (await pages.next()), undefined];
    yield {
      result: result ?? {
        ...item,
        outcome: 'cancelled',
        attempts: 0,
        reason: request.stopReason ?? 'no outcome was recorded',
        finishedAt: new Date().toISOString(),
      },
      recorded: result !== undefined,
    };
  }
}

/** One outcome page's results by item key (a key twice in a page: taken in order). */
class OutcomePage {
  private readonly results = new Map<string, ItemResult[]>();
  private left = 0;

  constructor(text: string) {
    for (const line of text.split('\n')) {
      if (!line) continue;
      const result = JSON.parse(line) as ItemResult;
      const k = key(result);
      const same = this.results.get(k);
      if (same) same.push(result);
      else this.results.set(k, [result]);
      this.left += 1;
    }
  }

  get empty(): boolean {
    return this.left === 0;
  }

  take(k: string): ItemResult | undefined {
    const same = this.results.get(k);
    const result = same?.shift();
    if (!result) return undefined;
    if (same!.length === 0) this.results.delete(k);
    this.left -= 1;
    return result;
  }
}

/** The outcome pages in page order, read one at a time. */
function outcomePages(outcomesDir: string): { next(): Promise<OutcomePage | undefined> } {
  let names: Promise<string[]> | undefined;
  let index = 0;
  return {
    async next() {
      names ??= readdir(outcomesDir).then(
        (all) => all.filter((n) => /^page-\d+\.jsonl$/.test(n)).sort(),
        () => [],
      );
      const list = await names;
      if (index >= list.length) return undefined;
      return new OutcomePage(await readFile(path.join(outcomesDir, list[index++]!), 'utf8'));
    },
  };
}

function csvRow(header: string[], result: ItemResult): string {
  const values: Record<string, string> = { ...(result.extra ?? {}), ...(result.accountId ? { [ACCOUNT_COLUMN]: result.accountId } : {}) };
  for (const column of RESULT_COLUMNS) {
    const value = (result as unknown as Record<string, unknown>)[column];
    values[column] = value === undefined ? '' : String(value);
  }
  return header.map((column) => csvField(values[column] ?? '')).join(',');
}
