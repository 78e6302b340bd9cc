/**
 * The input of `run`: a file as given, standard input (`--input -`) saved to
 * a file, or `--pair` arguments written to a CSV file the workers can read.
 * Pairs are checked before anything is written: a refused pair is named as
 * the operator typed it, and leaves no file behind.
 *
 * Then one pass over the file (validateInputToPlan) checks every row and
 * prepares the run's plan into a staging directory; the workflow's
 * prepareInput takes that plan instead of reading the input again.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { formatInputErrors, parsePairs, saveStandardInput, type DuplicateRow, type InputError, type InputFormat } from '../common/input-reader';
import { validateInputToPlan } from '../common/input-to-plan';
import type { StagedPlanRef } from '../activities/prepare-input';
import { toCsv } from '../common/csv';
import { dataDirectory } from './embedded-temporal';
import { UsageError } from './exit-codes';
import type { CommandIo } from './command-io';

/** What the local check of the input found: counts, the first errors and duplicates, the input's checksum. */
export interface CheckedInput {
  inputSha256: string;
  /** Items in the plan (valid, without duplicates) and how many of them are protected. */
  total: number;
  protectedCount: number;
  errors: number;
  /** Rows with at least one error. */
  invalid: number;
  firstErrors: InputError[];
  duplicates: number;
  firstDuplicates: DuplicateRow[];
  /** The file as a whole cannot be used: no run, even with --skip-invalid. */
  unusable: boolean;
}

export interface RunInput {
  /** The file the workers read (an input file, standard input saved, or the CSV written from --pair). */
  path: string;
  checked: CheckedInput;
  /** The plan prepared from it, for prepareInput to take; remove `dir` when the command ends. */
  staged: StagedPlanRef;
}

export async function resolveRunInput(
  options: { input?: string; pair?: string[]; format?: InputFormat },
  io: Pick<CommandIo, 'env' | 'stdin'>,
  protect: string[],
): Promise<RunInput> {
  const env = io.env;
  const file = await inputFile(options, io);
  const stagingRoot = path.join(dataDirectory(env), 'staging');
  await removeStaleStagingDirs(stagingRoot);
  const stagingDir = path.join(stagingRoot, `${process.pid}-${randomBytes(4).toString('hex')}`);
  let prepared;
  try {
    prepared = await validateInputToPlan({ path: file, ...(options.format ? { format: options.format } : {}) }, stagingDir, { protect });
  } catch (err) {
    await rm(stagingDir, { recursive: true, force: true });
    await rmdir(stagingRoot).catch(() => undefined); // when no other run uses it
    throw new UsageError((err as Error).message);
  }
  return {
    path: file,
    checked: {
      inputSha256: prepared.input.sha256,
      total: prepared.total,
      protectedCount: prepared.protectedCount,
      errors: prepared.errors,
      invalid: prepared.invalid,
      firstErrors: prepared.firstErrors,
      duplicates: prepared.duplicates,
      firstDuplicates: prepared.firstDuplicates,
      unusable: prepared.unusable,
    },
    staged: { dir: stagingDir, planSha256: prepared.plan.sha256 },
  };
}

/** The file to read: as given, standard input saved under the data directory, or the pairs written there. */
async function inputFile(options: { input?: string; pair?: string[] }, { env, stdin }: Pick<CommandIo, 'env' | 'stdin'>): Promise<string> {
  const pairs = options.pair ?? [];
  if (options.input && pairs.length > 0) throw new UsageError('give either --input or --pair, not both');
  const inputsDir = path.join(dataDirectory(env), 'inputs');
  if (options.input === '-') {
    try {
      return await saveStandardInput(path.join(inputsDir, `stdin-${Date.now()}-${process.pid}`), { input: stdin as Readable & { isTTY?: boolean } });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (options.input) return path.resolve(options.input);
  if (pairs.length === 0) throw new UsageError('nothing to do: give --input FILE or at least one --pair POOL,IDENTIFIER');
  const parsed = parsePairs(pairs);
  if (parsed.errors.length > 0) throw new UsageError(pairErrors(pairs, parsed.errors));
  mkdirSync(inputsDir, { recursive: true });
  const file = path.join(inputsDir, `pairs-${Date.now()}-${process.pid}.csv`);
  writeFileSync(file, toCsv(['userPoolId', 'identifier'], parsed.items.map((i) => [i.userPoolId, i.identifier])));
  return file;
}

/** "--pair 'POOL,ID': column 'identifier': reason", for each refused pair, on one line. */
function pairErrors(pairs: string[], errors: InputError[]): string {
  const named = errors.map((error) => ({ ...error, file: `--pair '${pairs[error.row - 1] ?? ''}'`, row: 0 }));
  return `${formatInputErrors(named).split('\n').join('; ')}; nothing was deleted`;
}

/**
 * Staging directories left by a CLI that was interrupted before its run took
 * the plan. A day later nothing should want them; a run that still does
 * prepares its plan again from the input.
 */
async function removeStaleStagingDirs(stagingRoot: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  const entries = await readdir(stagingRoot, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const dir = path.join(stagingRoot, entry.name);
    const stats = await stat(dir).catch(() => undefined);
    if (entry.isDirectory() && stats && stats.mtimeMs < dayAgo) await rm(dir, { recursive: true, force: true });
  }
}
