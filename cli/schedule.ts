/**
 * `schedule ...`: Temporal Schedules for decommissioning runs. The overlap
 * policy is SKIP, so a slow run is never doubled. Scheduled runs read the input
 * file as it is when they start (no checksum pin) and carry every safety rail
 * of `run` (protection, dependency check, --max-deletes).
 */
import path from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { formatInputErrors, readInputFile } from '../common/input-reader';
import { compileProtection, protectionFor } from '../common/protection';
import type { CleanupInput } from '../workflows/cleanup';
import { cleanupInputFrom, protectionPatterns, type JobOptions } from './run';
import { withTarget, type TemporalTarget } from './temporal-target';
import { confirmDeletion } from './confirm';
import { EXIT, UsageError } from './exit-codes';

async function withCluster<T>(taskQueue: string | undefined, action: (target: TemporalTarget) => Promise<T>): Promise<T> {
  if (!process.env.TEMPORAL_ADDRESS) {
    throw new UsageError(
      'schedules need a Temporal cluster that keeps running (set TEMPORAL_ADDRESS); the embedded dev server lives only while a command runs',
    );
  }
  return withTarget(action, taskQueue);
}

export interface ScheduleCreateOptions extends JobOptions {
  id: string;
  cron?: string;
  every?: string;
  input: string;
  yes: boolean;
  json: boolean;
  taskQueue?: string;
}

export async function scheduleCreateCommand(options: ScheduleCreateOptions): Promise<number> {
  if (!options.cron === !options.every) throw new UsageError('give exactly one of --cron EXPR or --every DURATION');
  if (options.every && !/^\d+\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)$/i.test(options.every)) {
    throw new UsageError(`--every '${options.every}': expected a duration such as 30s, 15m, 6h or 1d`);
  }
  const specText = options.cron ? `cron ${options.cron}` : `every ${options.every}`;
  const file = path.resolve(options.input);
  let parsed;
  try {
    parsed = await readInputFile(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.errors.length > 0 && !options.skipInvalid) {
    process.stderr.write(`${parsed.errors.length} invalid row(s) in ${file}:\n${formatInputErrors(parsed.errors)}\nNo schedule was created.\n`);
    return EXIT.invalidInput;
  }
  const protect = protectionPatterns(options);
  const rules = compileProtection(protect);
  const deletable = parsed.items.filter((item) => !protectionFor(rules, item)).length;
  if (options.execute) {
    await confirmDeletion(deletable, {
      yes: options.yes,
      what: `Schedule '${options.id}' will delete the resource servers listed in ${file} on every run (${deletable} today).`,
    });
  }
  const input: CleanupInput = cleanupInputFrom(options, { path: file }, protect);

  return withCluster(options.taskQueue, async ({ client, taskQueue }) => {
    await client.schedule.create({
      scheduleId: options.id,
      spec: options.cron ? { cronExpressions: [options.cron] } : { intervals: [{ every: options.every as Duration }] },
      action: { type: 'startWorkflow', workflowType: 'cleanupWorkflow', args: [input], taskQueue, workflowId: options.id },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      // The spec as the operator wrote it: Temporal describes cron specs as calendars.
      memo: { input: file, execute: options.execute, spec: specText },
    });
    process.stdout.write(
      options.json
        ? JSON.stringify({ scheduleId: options.id, input: file, execute: options.execute }) + '\n'
        : `Created schedule ${options.id} (${specText}, ${options.execute ? 'EXECUTE' : 'dry-run'}) for ${file}\n`,
    );
    return EXIT.ok;
  });
}

export async function scheduleListCommand(options: { json: boolean }): Promise<number> {
  return withCluster(undefined, async ({ client }) => {
    const rows = [];
    for await (const schedule of client.schedule.list()) {
      rows.push({
        scheduleId: schedule.scheduleId,
        paused: schedule.state.paused,
        nextActionTimes: schedule.info.nextActionTimes.map((t) => t.toISOString()),
        recentActions: schedule.info.recentActions.length,
      });
    }
    if (options.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else if (rows.length === 0) process.stdout.write('No schedules.\n');
    else for (const r of rows) process.stdout.write(`${r.scheduleId}  ${r.paused ? 'paused ' : 'active '}  next ${r.nextActionTimes[0] ?? '-'}\n`);
    return EXIT.ok;
  });
}

export async function scheduleDescribeCommand(id: string, options: { json: boolean }): Promise<number> {
  return withCluster(undefined, async ({ client }) => {
    const d = await client.schedule.getHandle(id).describe();
    const action = d.action.type === 'startWorkflow' ? d.action : undefined;
    const input = action?.args?.[0] as CleanupInput | undefined;
    const view = {
      scheduleId: d.scheduleId,
      paused: d.state.paused,
      note: d.state.note,
      spec: String(d.memo?.spec ?? JSON.stringify(d.spec)),
      overlap: d.policies.overlap,
      input: input?.source.path,
      execute: input?.execute,
      nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      recentActions: d.info.recentActions.map((a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        workflowId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : undefined,
      })),
      runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
    };
    if (options.json) {
      process.stdout.write(JSON.stringify(view, null, 2) + '\n');
    } else {
      process.stdout.write(
        [
          `Schedule ${view.scheduleId}: ${view.paused ? `paused${view.note ? ` (${view.note})` : ''}` : 'active'}, overlap ${view.overlap}`,
          `  spec       ${view.spec}`,
          `  input      ${view.input} (${view.execute ? 'EXECUTE' : 'dry-run'})`,
          `  next       ${view.nextActionTimes.join(', ') || '-'}`,
          `  recent     ${view.recentActions.map((a) => a.workflowId).join(', ') || '-'}`,
        ].join('\n') + '\n',
      );
    }
    return EXIT.ok;
  });
}

export async function scheduleActionCommand(
  id: string,
  action: 'pause' | 'unpause' | 'trigger' | 'delete',
  options: { note?: string; json: boolean },
): Promise<number> {
  return withCluster(undefined, async ({ client }) => {
    const handle = client.schedule.getHandle(id);
    if (action === 'pause') await handle.pause(options.note ?? 'paused with rs-cleanup');
    else if (action === 'unpause') await handle.unpause(options.note ?? 'unpaused with rs-cleanup');
    else if (action === 'trigger') await handle.trigger();
    else await handle.delete();
    process.stdout.write(
      options.json
        ? JSON.stringify({ scheduleId: id, action }) + '\n'
        : `${{ pause: 'Paused', unpause: 'Unpaused', trigger: 'Triggered', delete: 'Deleted' }[action]} schedule ${id}\n`,
    );
    return EXIT.ok;
  });
}
