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
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { Context } from '@temporalio/activity';
import type { FileRef, ItemResult, OutcomeCounts } from '../common/types';
import { emptyCounts, OUTCOMES } from '../common/types';
import { planItems } from '../common/plan-file';
import { runFiles } from '../common/run-files';
import { csvField } from '../common/csv';
import { ACCOUNT_ID_COLUMNS } from '../common/input-reader';
import { readBackup } from './record-outcomes';
import { writeFileAtomically } from '../common/files';
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
  const recorded = await loadRecordedOutcomes(files.outcomesDir);

  // Extra input columns are known only after reading every item; collect results first.
  const results: ItemResult[] = [];
  const extraColumns = new Set<string>();
  let missing = 0;
  for await (const item of planItems(request.plan)) {
    const recordedResult = recorded.get(key(item));
    if (!recordedResult) missing += 1;
    const result: ItemResult = recordedResult ?? {
      ...item,
      outcome: 'cancelled',
      attempts: 0,
      reason: request.stopReason ?? 'no outcome was recorded',
      finishedAt: new Date().toISOString(),
    };
    for (const column of Object.keys(result.extra ?? {})) if (!RESULT_COLUMNS.includes(column)) extraColumns.add(column);
    // A run across accounts names each item's account (and failed.csv, an input itself, keeps it).
    if (result.accountId !== undefined) extraColumns.add(ACCOUNT_COLUMN);
    results.push(result);
  }

  const counts = emptyCounts();
  const header = [...RESULT_COLUMNS, ...extraColumns];
  const outputFiles: Record<string, string> = {};
  const writers = new Map<string, ReturnType<typeof createWriteStream>>();
  // A stream's 'error' (a full disk) must reach this activity, never crash the worker.
  let writeError: unknown;
  const open = (file: string) => createWriteStream(file).on('error', (err) => void (writeError ??= err));
  for (const outcome of OUTCOMES) {
    const file = path.join(files.manifestDir, `${outcome}.csv`);
    outputFiles[outcome] = file;
    const writer = open(file);
    writer.write(header.map(csvField).join(',') + '\n');
    writers.set(outcome, writer);
  }
  const backups = open(files.backupsJsonl);
  const context = Context.current();
  for (const [index, result] of results.entries()) {
    if (index % 1_000 === 0) context.heartbeat({ written: index });
    if (writeError) throw writeError;
    counts[result.outcome] += 1;
    writers.get(result.outcome)!.write(csvRow(header, result) + '\n');
    if (result.outcome === 'deleted') {
      const backup = await readBackup(request.runDir, result);
      if (backup) backups.write(JSON.stringify(backup) + '\n');
    }
  }
  for (const writer of [...writers.values(), backups]) {
    if (!writer.closed) {
      writer.end();
      await Promise.race([once(writer, 'finish'), once(writer, 'close')]);
    }
  }
  if (writeError) throw writeError;
  outputFiles.backups = files.backupsJsonl;

  const summary = {
    ...request.summary,
    ...(request.options ? { options: request.options } : {}),
    total: results.length,
    counts,
    missing,
    ...(request.stopReason ? { stopReason: request.stopReason } : {}),
    files: outputFiles,
    audit: files.audit,
  };
  await writeFileAtomically(files.summary, JSON.stringify(summary, null, 2) + '\n');
  return {
    counts,
    total: results.length,
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

async function loadRecordedOutcomes(outcomesDir: string): Promise<Map<string, ItemResult>> {
  const recorded = new Map<string, ItemResult>();
  let names: string[] = [];
  try {
    names = (await readdir(outcomesDir)).filter((n) => /^page-\d+\.jsonl$/.test(n)).sort();
  } catch {
    return recorded;
  }
  for (const name of names) {
    const text = await readFile(path.join(outcomesDir, name), 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const result = JSON.parse(line) as ItemResult;
      recorded.set(key(result), result);
    }
  }
  return recorded;
}

function csvRow(header: string[], result: ItemResult): string {
  const values: Record<string, string> = { ...(result.extra ?? {}), ...(result.accountId ? { [ACCOUNT_COLUMN]: result.accountId } : {}) };
  for (const column of RESULT_COLUMNS) {
    const value = (result as unknown as Record<string, unknown>)[column];
    values[column] = value === undefined ? '' : String(value);
  }
  return header.map((column) => csvField(values[column] ?? '')).join(',');
}
