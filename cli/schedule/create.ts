/**
 * `rs-cleanup schedule create`: a Temporal Schedule that runs a cleanup of an
 * input file. The overlap policy is SKIP, so a slow run is never doubled.
 * Scheduled runs read the input file as it is when they start (no checksum
 * pin) and carry every safety rail of `run` (protection, dependency check,
 * --max-deletes). The spec and the input are checked before the
 * confirmation, and an existing schedule ID is refused, not replaced.
 */
import path from 'node:path';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { formatInputErrors, readInputFile } from '../../common/input-reader';
import { compileProtection, protectionFor } from '../../common/protection';
import type { CleanupInput } from '../../workflows/cleanup';
import { cleanupInputFrom, protectionPatterns, type JobOptions } from '../job-options';
import { confirmDeletion } from '../confirm';
import { EXIT, UsageError } from '../exit-codes';
import type { CommandIo } from '../command-io';
import { withCluster } from './cluster';

export interface ScheduleCreateOptions extends JobOptions {
  id: string;
  /** Checked by cli/usage.ts cronValue. */
  cron?: string;
  /** Checked by cli/usage.ts intervalValue. */
  every?: string;
  input: string;
  json: boolean;
}

export async function scheduleCreateCommand(options: ScheduleCreateOptions, io: CommandIo): Promise<number> {
  if (!options.cron === !options.every) throw new UsageError('give exactly one of --cron EXPR or --every DURATION');
  const specText = options.cron ? `cron ${options.cron}` : `every ${options.every}`;
  const file = path.resolve(options.input);
  let parsed;
  try {
    parsed = await readInputFile(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.errors.length > 0 && !options.skipInvalid) {
    io.stderr.write(`${parsed.errors.length} invalid row(s) in ${file}:\n${formatInputErrors(parsed.errors)}\nNo schedule was created.\n`);
    return EXIT.invalidInput;
  }
  const protect = protectionPatterns(options, io.env);
  const rules = compileProtection(protect);
  const deletable = parsed.items.filter((item) => !protectionFor(rules, item)).length;

  return withCluster(
    io,
    async ({ client, taskQueue }) => {
      // Before the confirmation: an operator should not confirm a schedule that cannot be created.
      if (await scheduleExists(client.schedule.getHandle(options.id))) throw alreadyExists(options.id);
      if (options.execute) {
        await confirmDeletion(
          deletable,
          { yes: options.yes, what: `Schedule '${options.id}' will delete the resource servers listed in ${file} on every run (${deletable} today).` },
          io,
        );
      }
      const input: CleanupInput = cleanupInputFrom(options, { path: file }, protect);
      try {
        await client.schedule.create({
          scheduleId: options.id,
          spec: options.cron ? { cronExpressions: [options.cron] } : { intervals: [{ every: options.every as Duration }] },
          action: { type: 'startWorkflow', workflowType: 'cleanupWorkflow', args: [input], taskQueue, workflowId: options.id },
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
          // The spec as the operator wrote it: Temporal describes cron specs as calendars.
          memo: { input: file, execute: options.execute, spec: specText },
        });
      } catch (err) {
        if (err instanceof ScheduleAlreadyRunning) throw alreadyExists(options.id);
        // The server's own check of the spec (one our cron check lets through).
        if ((err as { code?: number }).code === 3 /* INVALID_ARGUMENT */) {
          throw new UsageError(`the Temporal server refused the schedule: ${(err as Error).message}; no schedule was created`);
        }
        throw err;
      }
      io.stdout.write(
        options.json
          ? JSON.stringify({ scheduleId: options.id, input: file, execute: options.execute }) + '\n'
          : `Created schedule ${options.id} (${specText}, ${options.execute ? 'EXECUTE' : 'dry-run'}) for ${file}\n`,
      );
      return EXIT.ok;
    },
    options.taskQueue,
  );
}

async function scheduleExists(handle: { describe(): Promise<unknown> }): Promise<boolean> {
  try {
    await handle.describe();
    return true;
  } catch (err) {
    if ((err as Error).name === 'ScheduleNotFoundError') return false;
    throw err;
  }
}

function alreadyExists(id: string): UsageError {
  return new UsageError(
    `a schedule with ID '${id}' exists already; nothing was changed. See it with: rs-cleanup schedule describe ${id}; pick another --id, or delete it first`,
  );
}
