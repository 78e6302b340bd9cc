/**
 * The input of `run`: a file as given, or `--pair` arguments written to a
 * CSV file the workers can read. Pairs are checked before anything is
 * written: a refused pair is named as the operator typed it, and leaves no
 * file behind.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatInputErrors, parsePairs, readInputFile, type InputError, type InputFormat, type ParsedInput } from '../common/input-reader';
import { toCsv } from '../common/csv';
import { dataDirectory } from './embedded-temporal';
import { UsageError } from './exit-codes';

export interface RunInput {
  /** The file the workers read (an input file, or the CSV written from --pair). */
  path: string;
  parsed: ParsedInput;
}

export async function resolveRunInput(
  options: { input?: string; pair?: string[]; format?: InputFormat },
  env: NodeJS.ProcessEnv,
): Promise<RunInput> {
  const pairs = options.pair ?? [];
  if (options.input && pairs.length > 0) throw new UsageError('give either --input or --pair, not both');
  if (options.input) {
    const file = path.resolve(options.input);
    try {
      return { path: file, parsed: await readInputFile(file, options.format ? { format: options.format } : {}) };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (pairs.length === 0) throw new UsageError('nothing to do: give --input FILE or at least one --pair POOL,IDENTIFIER');
  const parsed = parsePairs(pairs);
  if (parsed.errors.length > 0) throw new UsageError(pairErrors(pairs, parsed.errors));
  const dir = path.join(dataDirectory(env), 'inputs');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `pairs-${Date.now()}-${process.pid}.csv`);
  writeFileSync(file, toCsv(['userPoolId', 'identifier'], parsed.items.map((i) => [i.userPoolId, i.identifier])));
  return { path: file, parsed: { ...parsed, file } };
}

/** "--pair 'POOL,ID': column 'identifier': reason", for each refused pair, on one line. */
function pairErrors(pairs: string[], errors: InputError[]): string {
  const named = errors.map((error) => ({ ...error, file: `--pair '${pairs[error.row - 1] ?? ''}'`, row: 0 }));
  return `${formatInputErrors(named).split('\n').join('; ')}; nothing was deleted`;
}
