/**
 * `rs-cleanup run`: validates the input locally, in the one pass that also
 * prepares the run's plan (cli/run-input.ts; nothing starts when a row is
 * invalid), asks for confirmation before a real delete, then starts the
 * cleanup workflow, or attaches to the same run when it is already going, and
 * follows it to its end (cli/follow-run.ts).
 */
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { InputFormat } from '../common/input-reader';
import { formatInputErrors } from '../common/input-reader';
import { connectTemporal } from './temporal-target';
import { confirmDeletion } from './confirm';
import { cleanupInputFrom, inUseWording, protectionPatterns, type JobOptions } from './job-options';
import { resolveRunInput } from './run-input';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';
import { UNRECORDED } from './startup-phases';

export interface RunOptions extends JobOptions {
  input?: string;
  pair?: string[];
  format?: InputFormat;
  json: boolean;
  id?: string;
}

export async function runCommand(options: RunOptions, io: CommandIo): Promise<number> {
  const protect = protectionPatterns(options, io.env);
  const phases = io.phases ?? UNRECORDED;
  const source = await phases.time((s) => `input checked: ${s.checked.total} item(s)`, () => resolveRunInput(options, io, protect));
  try {
    const checked = source.checked;
    if (checked.errors > 0) {
      io.stderr.write(`${checked.invalid} invalid row(s) in ${source.path}:\n${formatInputErrors(checked.firstErrors, 20, checked.errors)}\n`);
      if (checked.unusable) {
        io.stderr.write('Nothing was deleted. The file cannot be used as it is (see above); --skip-invalid does not apply to it.\n');
        return EXIT.invalidInput;
      }
      if (!options.skipInvalid) {
        io.stderr.write('Nothing was deleted. Fix the rows above, or pass --skip-invalid to run only the valid ones.\n');
        return EXIT.invalidInput;
      }
    }
    if (checked.duplicates > 0) {
      const first = checked.firstDuplicates[0]!;
      io.stderr.write(`${checked.duplicates} duplicate row(s) will run once (first: row ${first.row} repeats row ${first.firstRow}).\n`);
    }
    const deletable = checked.total - checked.protectedCount;
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

    const sha256 = checked.inputSha256;
    const input = cleanupInputFrom(
      options,
      { path: source.path, sha256, ...(options.format ? { format: options.format } : {}), prepared: source.staged },
      protect,
    );
    const workflowId = options.id ?? `rs-cleanup-${sha256.slice(0, 12)}-${options.execute ? 'execute' : 'dry-run'}`;
    const target = await connectTemporal({ needsWorker: true, ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}) }, io);
    try {
      // Loaded now: the Temporal client it needs was loaded while the embedded server started.
      const { startAndFollow } = await import('./follow-run');
      return await startAndFollow(target, workflowId, input, { json: options.json, count: checked.total }, io);
    } finally {
      await target.close({ interrupted: io.signal.aborted });
    }
  } finally {
    // prepareInput has moved the staged plan into the run directory by now, or prepares its own.
    await rm(source.staged.dir, { recursive: true, force: true });
    // and the staging directory itself when no other run uses it: a refused input leaves nothing behind
    await rmdir(path.dirname(source.staged.dir)).catch(() => undefined);
  }
}
