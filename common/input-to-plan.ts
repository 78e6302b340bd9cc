/**
 * From the operator's input to the run's plan in one pass: read and validate
 * every row, drop duplicates, mark protected items, write the plan in fair
 * order, and write the invalid rows and duplicates to their reports, all as
 * the file is read (memory stays flat whatever its size).
 *
 * The CLI calls validateInputToPlan before starting a run, into a staging
 * directory, and passes the staged plan's checksum to the workflow; the
 * prepareInput activity then only checks the checksums and moves the files
 * into the run directory. A worker on another machine (or a schedule) finds
 * no staged plan and calls validateInputToPlan itself: the same function, the
 * same bytes.
 *
 * The directory gets runFiles' layout (plan.jsonl, invalid-rows.txt,
 * duplicates.csv) and prepared.json, this result.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { csvField } from './csv';
import { writeFileAtomically } from './files';
import { FairPlanWriter } from './fair-plan-writer';
import { formatInputError, scanInputFile, type DuplicateRow, type InputError, type InputFormat, type InputScan } from './input-reader';
import { sha256File, writePlanFile } from './plan-file';
import { compileProtection, protectionFor } from './protection';
import { runFiles } from './run-files';
import type { FileRef } from './types';

/** The result's file in the prepared directory. */
export const PREPARED_FILE = 'prepared.json';
/** Changes when the plan's content for the same input would change, so an older staged plan is not reused. */
const PREPARED_VERSION = 1;
/** Errors and duplicates kept in the result for messages; all of them are in the reports. */
export const KEPT_ERRORS = 100;
export const KEPT_DUPLICATES = 20;
const REPORT_FLUSH_CHARACTERS = 256 * 1024;

export interface PreparedPlan {
  version: number;
  /** What the plan was made from (input checksum, format asked for, protection): see preparedPlanKey. */
  key: string;
  input: { path: string; sha256: string; bytes: number; format: InputFormat; encoding: InputScan['encoding'] };
  plan: FileRef;
  planBytes: number;
  /** Items in the plan. */
  total: number;
  /** Data rows read, valid or not. */
  rowsRead: number;
  /** Plan items matched by a protection pattern (never deleted). */
  protectedCount: number;
  /** Rows that repeated an earlier row and run once; the first ones, and the report with all of them. */
  duplicates: number;
  firstDuplicates: DuplicateRow[];
  duplicatesReport?: string;
  /** Errors, and rows with at least one error; the first errors, and the report with all of them. */
  errors: number;
  invalid: number;
  firstErrors: InputError[];
  invalidReport?: string;
  /** The file as a whole cannot be used: the plan is empty, and no run should start, even with --skip-invalid. */
  unusable: boolean;
}

/** Identifies what a plan is made from; the same key means the same plan bytes. */
export function preparedPlanKey(inputSha256: string, format: InputFormat | undefined, protect: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify({ version: PREPARED_VERSION, inputSha256, format: format ?? null, protect }))
    .digest('hex');
}

/**
 * Reads, validates and deduplicates the input and writes the plan and the
 * reports into `outDir`, in one pass. A file that cannot be read throws
 * InputFileError; a bad protection pattern throws too. Content problems are
 * in the result.
 */
export async function validateInputToPlan(
  source: { path: string; format?: InputFormat },
  outDir: string,
  options: { protect?: string[] } = {},
): Promise<PreparedPlan> {
  const protect = options.protect ?? [];
  const rules = compileProtection(protect);
  const dir = path.resolve(outDir);
  const files = runFiles(dir);
  await fs.promises.mkdir(dir, { recursive: true });
  // Reports of an earlier attempt in the same directory must not outlive it.
  await Promise.all([files.invalidRows, files.duplicates, path.join(dir, PREPARED_FILE)].map((file) => fs.promises.rm(file, { force: true })));

  const writer = await FairPlanWriter.create(files.plan);
  const invalidReport = new ReportFile(files.invalidRows);
  const duplicatesReport = new ReportFile(files.duplicates, 'userPoolId,identifier,row,firstRow\n');
  const firstErrors: InputError[] = [];
  const firstDuplicates: DuplicateRow[] = [];
  let protectedCount = 0;
  let scan: InputScan;
  try {
    scan = await scanInputFile(
      source.path,
      {
        item(item) {
          const protectedBy = protectionFor(rules, item);
          if (protectedBy) protectedCount++;
          writer.add(protectedBy ? { ...item, protectedBy } : item);
        },
        error(error) {
          if (firstErrors.length < KEPT_ERRORS) firstErrors.push(error);
          invalidReport.append(`${formatInputError(error)}\n`);
        },
        duplicate(duplicate) {
          if (firstDuplicates.length < KEPT_DUPLICATES) firstDuplicates.push(duplicate);
          duplicatesReport.append(
            `${[duplicate.userPoolId, duplicate.identifier, String(duplicate.row), String(duplicate.firstRow)].map(csvField).join(',')}\n`,
          );
        },
        async flush() {
          await writer.flush();
          await invalidReport.flush();
          await duplicatesReport.flush();
        },
      },
      source.format ? { format: source.format } : {},
    );
  } catch (error) {
    await writer.discard();
    await invalidReport.close();
    await duplicatesReport.close();
    throw error;
  }
  let written;
  if (scan.unusable) {
    await writer.discard();
    protectedCount = 0;
    written = await writePlanFile(files.plan, []);
  } else {
    written = await writer.finish();
  }
  await invalidReport.close();
  await duplicatesReport.close();

  const prepared: PreparedPlan = {
    version: PREPARED_VERSION,
    key: preparedPlanKey(scan.sha256, source.format, protect),
    input: { path: source.path, sha256: scan.sha256, bytes: scan.bytes, format: scan.format, encoding: scan.encoding },
    plan: { path: written.path, sha256: written.sha256 },
    planBytes: written.bytes,
    total: written.total,
    rowsRead: scan.rowsRead,
    protectedCount,
    duplicates: scan.duplicates,
    firstDuplicates,
    ...(invalidReport.used ? { invalidReport: files.invalidRows } : {}),
    errors: scan.errors,
    invalid: scan.invalidRows,
    firstErrors,
    ...(duplicatesReport.used ? { duplicatesReport: files.duplicates } : {}),
    unusable: scan.unusable,
  };
  await writePreparedFile(dir, prepared);
  return prepared;
}

/** prepared.json, written atomically: present means the directory is complete. */
export async function writePreparedFile(dir: string, prepared: PreparedPlan): Promise<void> {
  await writeFileAtomically(path.join(dir, PREPARED_FILE), `${JSON.stringify(prepared, null, 2)}\n`);
}

/**
 * The prepared plan in `dir` when it was made for `key` and its plan file
 * still has the recorded checksum (and `planSha256`, when given); otherwise
 * undefined, and the caller prepares the plan itself.
 */
export async function loadPreparedPlan(dir: string, key: string, planSha256?: string): Promise<PreparedPlan | undefined> {
  let prepared: PreparedPlan;
  try {
    prepared = JSON.parse(await fs.promises.readFile(path.join(dir, PREPARED_FILE), 'utf8')) as PreparedPlan;
  } catch {
    return undefined;
  }
  if (prepared.version !== PREPARED_VERSION || prepared.key !== key) return undefined;
  if (planSha256 !== undefined && prepared.plan.sha256 !== planSha256) return undefined;
  const actual = await sha256File(prepared.plan.path).catch(() => undefined);
  return actual === prepared.plan.sha256 ? prepared : undefined;
}

/** A report written as it grows; the file appears only when something is written to it. */
class ReportFile {
  used = false;
  private pending: string[] = [];
  private pendingCharacters = 0;
  private handle: fs.promises.FileHandle | undefined;

  constructor(
    private readonly file: string,
    private readonly header = '',
  ) {}

  append(text: string): void {
    if (!this.used) {
      this.used = true;
      if (this.header) this.pending.push(this.header);
    }
    this.pending.push(text);
    this.pendingCharacters += text.length;
  }

  async flush(force = false): Promise<void> {
    if (this.pending.length === 0 || (!force && this.pendingCharacters < REPORT_FLUSH_CHARACTERS)) return;
    this.handle ??= await fs.promises.open(this.file, 'w');
    const text = this.pending.join('');
    this.pending = [];
    this.pendingCharacters = 0;
    await this.handle.write(text, null, 'utf8');
  }

  async close(): Promise<void> {
    await this.flush(true);
    await this.handle?.close();
    this.handle = undefined;
  }
}
