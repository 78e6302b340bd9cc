/**
 * `rs-cleanup run`: validates the input locally (nothing starts when a row is
 * invalid), asks for confirmation before a real delete, then starts the
 * cleanup workflow, or attaches to the same run when it is already going, and
 * follows it to its end (cli/follow-run.ts).
 */
import type { InputFormat } from '../common/input-reader';
import { formatInputErrors } from '../common/input-reader';
import { sha256File } from '../common/plan-file';
import { compileProtection, protectionFor } from '../common/protection';
import { connectTemporal } from './temporal-target';
import { confirmDeletion } from './confirm';
import { startAndFollow } from './follow-run';
import { cleanupInputFrom, inUseWording, protectionPatterns, type JobOptions } from './job-options';
import { resolveRunInput } from './run-input';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';

export interface RunOptions extends JobOptions {
  input?: string;
  pair?: string[];
  format?: InputFormat;
  json: boolean;
  id?: string;
}

export async function runCommand(options: RunOptions, io: CommandIo): Promise<number> {
  const protect = protectionPatterns(options, io.env);
  const source = await resolveRunInput(options, io.env);
  const parsed = source.parsed;
  if (parsed.errors.length > 0) {
    io.stderr.write(`${parsed.errors.length} invalid row(s) in ${source.path}:\n${formatInputErrors(parsed.errors)}\n`);
    if (!options.skipInvalid) {
      io.stderr.write('Nothing was deleted. Fix the rows above, or pass --skip-invalid to run only the valid ones.\n');
      return EXIT.invalidInput;
    }
  }
  if (parsed.duplicates.length > 0) {
    const first = parsed.duplicates[0]!;
    io.stderr.write(`${parsed.duplicates.length} duplicate row(s) will run once (first: row ${first.row} repeats row ${first.firstRow}).\n`);
  }
  const rules = compileProtection(protect);
  const deletable = parsed.items.filter((item) => !protectionFor(rules, item)).length;
  if (options.maxDeletes !== undefined && deletable > options.maxDeletes) {
    io.stderr.write(
      `Refusing to start: ${deletable} resource servers would be deleted, more than --max-deletes ${options.maxDeletes}. Nothing was deleted.\n`,
    );
    return EXIT.invalidInput;
  }
  if (options.execute) {
    await confirmDeletion(
      deletable,
      {
        yes: options.yes,
        what: `About to delete resource servers listed in ${source.path} (${deletable} after protection; those used by app clients are ${inUseWording(options.inUse)}).`,
      },
      io,
    );
  }

  const sha256 = await sha256File(source.path);
  const input = cleanupInputFrom(options, { path: source.path, sha256, ...(options.format ? { format: options.format } : {}) }, protect);
  const workflowId = options.id ?? `rs-cleanup-${sha256.slice(0, 12)}-${options.execute ? 'execute' : 'dry-run'}`;
  const target = await connectTemporal({ needsWorker: true, ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}) }, io);
  try {
    return await startAndFollow(target, workflowId, input, { json: options.json, count: parsed.items.length }, io);
  } finally {
    await target.close({ interrupted: io.signal.aborted });
  }
}
