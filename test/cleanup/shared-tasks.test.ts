/**
 * Shared delete tasks (activities/delete-resource-servers.ts): above ~40
 * deletes/s a run puts up to 25 items of one account and Region in one
 * activity task. Each item keeps what a task of its own gives it: its backup,
 * its durable intent before its Delete, its audit records, its retries (in a
 * task of its own, going on from the shared attempt) and a pause that holds it.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { LIMIT_BOUNDS, SHARED_DELETE_TASKS, itemsPerDeleteTask } from '../../common/options';
import { pauseUpdate, progressQuery, resumeSignal, type cleanupWorkflow } from '../../workflows/cleanup';
import { csvInput, expectDeletedOnce, readJsonLines, readManifestCsv, seedPools, useCleanupSuite, type CleanupEnv } from '../helpers/cleanup-env';
import { waitFor } from '../helpers/wait-for';

const HIGH = { rate: LIMIT_BOUNDS.maxRate, poolRate: LIMIT_BOUNDS.maxRate };

/** Activity tasks the run scheduled, by activity type. */
async function scheduled(handle: WorkflowHandle<typeof cleanupWorkflow>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe('shared delete tasks', () => {
  let env: CleanupEnv;
  useCleanupSuite((started) => (env = started), {
    emulator: { quotas: false },
    activities: { deleteRates: HIGH, readRates: HIGH, retryBaseDelayMs: 20, retryMaxDelayMs: 200 },
  });

  it('items per task: one at Cognito’s quota, up to 25 far above it', () => {
    expect(itemsPerDeleteTask(15)).toBe(1);
    expect(itemsPerDeleteTask(0.01)).toBe(1);
    expect(itemsPerDeleteTask(2 * SHARED_DELETE_TASKS.tasksPerSecond)).toBe(2);
    expect(itemsPerDeleteTask(LIMIT_BOUNDS.maxRate)).toBe(SHARED_DELETE_TASKS.maxItemsPerTask);
  });

  it('at the default rate every item has a task of its own', async () => {
    const { userPools, items } = seedPools('Own', 2, 3);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('own.csv', csvInput(items));
    const handle = await env.start({ source, execute: true });
    const summary = await handle.result();
    expect(summary.counts.deleted).toBe(items.length);
    const tasks = await scheduled(handle);
    expect(tasks.deleteResourceServer).toBe(items.length);
    expect(tasks.deleteResourceServers).toBeUndefined();
    expect(existsSync(path.join(summary.runDir, 'batches'))).toBe(false);
  });

  it('600 items in shared tasks: each deleted once, with its intent, its outcome and its backup', async () => {
    const { userPools, items } = seedPools('Shared', 24, 25);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('shared.csv', csvInput(items));
    const handle = await env.start({ source, execute: true, limits: { ...HIGH, window: 300 } });
    const summary = await handle.result();

    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0, 'already-absent': 0 });
    expect(summary.missing).toBe(0);
    const deletes = (await env.emulator.control.stats()).deletes;
    expect(deletes).toHaveLength(items.length);
    expect(new Set(deletes.map((d) => `${d.userPoolId} ${d.identifier}`)).size).toBe(items.length);

    // Tasks of 25 (a page's last may be smaller); no task of its own.
    const tasks = await scheduled(handle);
    expect(tasks.deleteResourceServer).toBeUndefined();
    expect(tasks.deleteResourceServers).toBeLessThanOrEqual(Math.ceil(items.length / 25) + 3);
    const { historyLength } = await handle.describe();
    expect(historyLength / items.length).toBeLessThan(1);

    // One durable intent before each Delete, one outcome per item carrying the backup read before it.
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const intents = audit.filter((r) => r.event === 'intent');
    expect(new Set(intents.map((r) => r.identifier)).size).toBe(items.length);
    const outcomes = audit.filter((r) => r.event === 'outcome');
    expect(outcomes).toHaveLength(items.length);
    const byIdentifier = new Map(userPools.flatMap((p) => p.resourceServers).map((rs) => [rs.identifier, rs]));
    for (const outcome of outcomes) {
      expect(outcome.backup).toMatchObject({ name: byIdentifier.get(outcome.identifier)!.name, scopes: byIdentifier.get(outcome.identifier)!.scopes });
    }
    // The manifest's backups (what restore reads) come from the tasks' journals: no file per item.
    const backups = (await readFile(path.join(summary.manifestDir!, 'backups.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(new Set(backups.map((b) => b.identifier))).toEqual(new Set(items.map((i) => i.identifier)));
    expect(existsSync(path.join(summary.runDir, 'backups'))).toBe(false);
    expect(existsSync(path.join(summary.runDir, 'intents'))).toBe(false);
    expect((await readdir(path.join(summary.runDir, 'batches'))).length).toBe(tasks.deleteResourceServers);
  });

  it('a dry-run in shared tasks deletes nothing and records every backup', async () => {
    const { userPools, items } = seedPools('DryShared', 4, 25);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('dry-shared.csv', csvInput(items));
    const handle = await env.start({ source, execute: false, limits: { ...HIGH, window: 100 } });
    const summary = await handle.result();
    expect(summary.counts['would-delete']).toBe(items.length);
    expect((await env.emulator.control.stats()).deletes).toHaveLength(0);
    expect((await scheduled(handle)).deleteResourceServers).toBeGreaterThan(0);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    expect(audit.filter((r) => r.event === 'intent')).toHaveLength(0);
    const outcomes = audit.filter((r) => r.event === 'outcome');
    expect(outcomes).toHaveLength(items.length);
    for (const outcome of outcomes) expect(outcome.backup?.identifier).toBe(outcome.identifier);
  });

  it('a Delete whose answer was lost is retried in a task of its own and reported deleted, not already-absent', async () => {
    const { userPools, items } = seedPools('Lost', 8, 25);
    await env.emulator.control.seed({ userPools });
    // A third of the Deletes run and then lose their answer; a third of the reads are throttled.
    await env.emulator.control.setConfig({
      faultSeed: 7,
      faults: {
        operations: {
          DeleteResourceServer: { dropAfterProcessing: 0.3 },
          ListResourceServers: { throttle: 0.3 },
          DescribeResourceServer: { throttle: 0.3 },
        },
      },
    });
    const source = await env.inputFile('lost.csv', csvInput(items));
    const handle = await env.start({ source, execute: true, limits: { ...HIGH, window: 200 } });
    const summary = await handle.result();

    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0, 'already-absent': 0 });
    const deletes = (await env.emulator.control.stats()).deletes;
    expect(deletes).toHaveLength(items.length);
    const tasks = await scheduled(handle);
    expect(tasks.deleteResourceServers).toBeGreaterThan(0);
    expect(tasks.deleteResourceServer).toBeGreaterThan(0); // the retries

    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const outcomes = audit.filter((r) => r.event === 'outcome');
    const lost = outcomes.filter((r) => /absent on retry/.test(r.reason ?? ''));
    expect(lost.length).toBeGreaterThan(0);
    // The retry went on from the shared attempt: its attempt number, and the backup the shared task read.
    for (const outcome of lost) {
      expect(outcome.attempts).toBeGreaterThan(1);
      expect(outcome.backup?.identifier).toBe(outcome.identifier);
    }
    const manifest = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(manifest).toHaveLength(items.length);
  });

  it('a task holds the items of one Region only (one fairness key, one quota)', async () => {
    const east = seedPools('KeyEast', 3, 20);
    const west = {
      userPools: east.userPools.map((pool) => ({ ...pool, id: pool.id.replace('us-east-1_KeyEast', 'eu-west-1_KeyWest') })),
    };
    const westItems = west.userPools.flatMap((pool) => pool.resourceServers.map((rs) => ({ userPoolId: pool.id, identifier: rs.identifier })));
    const items = [...east.items, ...westItems];
    await env.emulator.control.seed({ userPools: [...east.userPools, ...west.userPools] });
    const source = await env.inputFile('two-regions.csv', csvInput(items));
    const summary = await env.run({ source, execute: true, limits: { ...HIGH, window: 200 } });
    expect(summary.counts.deleted).toBe(items.length);

    const journals = await readdir(path.join(summary.runDir, 'batches'));
    expect(journals.length).toBeGreaterThan(1);
    const regionsOfTask = await Promise.all(
      journals.map(async (name) => {
        const lines = await readJsonLines<{ p: string }>(path.join(summary.runDir, 'batches', name));
        return new Set(lines.map((line) => line.p.slice(0, line.p.indexOf('_'))));
      }),
    );
    for (const regions of regionsOfTask) expect(regions.size).toBe(1);
    expect(new Set(regionsOfTask.flatMap((r) => [...r]))).toEqual(new Set(['us-east-1', 'eu-west-1']));
  });

  it('with --max-attempts 1 a throttled Delete in a shared task fails after one attempt; the rest are deleted', async () => {
    const { userPools, items } = seedPools('Capped', 2, 25);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 3, error: 'TooManyRequestsException' }] } });
    const source = await env.inputFile('capped.csv', csvInput(items));
    const summary = await env.run({ source, execute: true, limits: { ...HIGH, window: 100 }, maxAttempts: 1 });
    expect(summary.counts).toMatchObject({ deleted: items.length - 3, failed: 3 });
    const failed = await readManifestCsv(path.join(summary.manifestDir!, 'failed.csv'));
    expect(failed).toHaveLength(3);
    for (const row of failed) expect(row.reason).toMatch(/gave up after 1 attempts \(--max-attempts 1\)/);
    expect((await env.emulator.control.stats()).deletes).toHaveLength(items.length - 3);
  });

  it('without a cap, a throttled Delete in a shared task is tried again at the limiter’s next turn, within the task', async () => {
    const { userPools, items } = seedPools('Turn', 2, 25);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 3, error: 'TooManyRequestsException' }] } });
    const source = await env.inputFile('turn.csv', csvInput(items));
    const handle = await env.start({ source, execute: true, limits: { ...HIGH, window: 100 } });
    const summary = await handle.result();
    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0 });
    const tasks = await scheduled(handle);
    expect(tasks.deleteResourceServer).toBeUndefined(); // no item needed a task of its own
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const turns = audit.filter((r) => r.event === 'attempt' && r.outcome === 'retrying' && r.nextRetryDelayMs === 0);
    expect(turns).toHaveLength(3);
  });
});

describe('shared delete tasks and the pause update', () => {
  let env: CleanupEnv;
  // The worker's own budget is slow (4 deletes/s): items of a shared task wait in its limiter.
  useCleanupSuite((started) => (env = started), { emulator: { quotas: false }, activities: { deleteRates: { rate: 4, poolRate: 4 }, readRates: HIGH } });

  it('an item that comes back to be retried while the run pauses waits for resume', async () => {
    const { userPools, items } = seedPools('RetryHeld', 1, 1);
    await env.emulator.control.seed({ userPools });
    // The one Delete takes 1.5 s and answers InternalErrorException (not applied): the pause comes while it is on its way.
    await env.emulator.control.setConfig({
      faults: {
        operations: { DeleteResourceServer: { latency: { fixedMs: 1_500 } } },
        failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'InternalErrorException' }],
      },
    });
    const source = await env.inputFile('retry-held.csv', csvInput(items));
    const starts = env.starts.length;
    const handle = await env.start({ source, execute: true, limits: { ...HIGH, window: 1 } });
    await waitFor(async () => env.starts.slice(starts), (s) => s.some((start) => start.category === 'UserPoolResourceUpdate'), 'the Delete on its way');

    const progress = await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'hold' }] });
    // Its retry did not start during the pause: it waits, re-queued, and nothing was deleted.
    expect(progress).toMatchObject({ paused: true, inFlight: 0, requeued: 1, done: 0 });
    expect((await env.emulator.control.stats()).deletes).toHaveLength(0);

    await handle.signal(resumeSignal);
    const summary = await handle.result();
    await expectDeletedOnce(env, summary, 1);
    const tasks = await scheduled(handle);
    expect(tasks).toMatchObject({ deleteResourceServers: 1, deleteResourceServer: 1 });
  });

  it('holds the items of a shared task that were not sent; each item still ends once', async () => {
    const { userPools, items } = seedPools('HoldShared', 4, 20);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('hold-shared.csv', csvInput(items));
    const handle = await env.start({ source, execute: true, limits: { ...HIGH, window: 60 } });
    await waitFor(() => handle.query(progressQuery), (p) => p.done >= 4 && p.inFlight >= 20, 'items waiting in shared tasks');

    const progress = await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'hold' }] });
    expect(progress).toMatchObject({ paused: true, inFlight: 0 });
    expect(progress.requeued).toBeGreaterThan(0);
    const atPause = (await env.emulator.control.stats()).deletes.length;
    // The limiter would let several through in this time; none may go while paused.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await env.emulator.control.stats()).deletes).toHaveLength(atPause);

    await handle.signal(resumeSignal);
    await expectDeletedOnce(env, await handle.result(), items.length);
    const tasks = await scheduled(handle);
    expect(tasks.deleteResourceServers).toBeGreaterThan(0);
  });
});
