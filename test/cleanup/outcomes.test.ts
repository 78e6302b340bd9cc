/**
 * The cleanup job end to end: real Temporal dev server, the emulator over HTTP
 * through the unmodified AWS SDK, real activities. One outcome per test.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import {
  busiestWindow,
  csvInput,
  readJsonLines,
  readManifestCsv,
  seedPools,
  useCleanupSuite,
  type CleanupEnv,
} from '../helpers/cleanup-env';

describe('cleanup job outcomes', () => {
  let env: CleanupEnv;
  // Quotas off in the emulator: the limiter's own records of each start show its pace, not Cognito's.
  useCleanupSuite((started) => (env = started), { emulator: { quotas: false }, activities: { deleteRates: { rate: 8, poolRate: 3 } } });
  beforeEach(() => void (env.starts.length = 0));

  it('deletes every listed server across several pools, within the configured rates, and records it all', async () => {
    const { userPools, items } = seedPools('Happy', 4, 8);
    await env.emulator.control.seed({ userPools });
    const listed = items.filter((_, i) => i % 8 !== 7); // one server per pool stays
    const source = await env.inputFile('happy.csv', csvInput(listed));

    const summary = await env.run({ source, execute: true, limits: { rate: 8, poolRate: 3, window: 20 } });

    expect(summary.status).toBe('completed');
    expect(summary.counts).toMatchObject({ deleted: listed.length, failed: 0, 'already-absent': 0 });
    expect(summary.missing).toBe(0);

    const stats = await env.emulator.control.stats();
    const deletedKeys = stats.deletes.map((d) => `${d.userPoolId} ${d.identifier}`);
    expect(new Set(deletedKeys).size).toBe(deletedKeys.length); // each deleted once
    expect(new Set(deletedKeys)).toEqual(new Set(listed.map((i) => `${i.userPoolId} ${i.identifier}`)));
    const state = await env.emulator.control.state();
    expect(state.userPools.map((p) => p.resourceServers.length)).toEqual([1, 1, 1, 1]);

    // Our limiter's pace, as it recorded each start: no window above 8 deletes, no pool above 3.
    const deletes = env.starts.filter((s) => s.category === 'UserPoolResourceUpdate');
    expect(deletes).toHaveLength(listed.length);
    expect(busiestWindow(deletes, () => true)).toBeLessThanOrEqual(8);
    for (const pool of userPools) expect(busiestWindow(deletes, (s) => s.userPoolId === pool.id)).toBeLessThanOrEqual(3);
    // And what reached the emulator: each of those calls accepted once, per pool as listed (its histogram, not its timing).
    const accepted = (select: (second: (typeof stats.accepted.perSecond)[number]) => number) => stats.accepted.perSecond.reduce((n, second) => n + select(second), 0);
    expect(accepted((second) => second.categories.UserPoolResourceUpdate ?? 0)).toBe(listed.length);
    for (const pool of userPools) {
      expect(accepted((second) => second.pools[pool.id]?.DeleteResourceServer ?? 0)).toBe(listed.filter((i) => i.userPoolId === pool.id).length);
    }

    // Manifest: every item once, extra columns carried, backups for restore.
    const deletedCsv = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(deletedCsv).toHaveLength(listed.length);
    expect(deletedCsv[0]).toHaveProperty('tenant');
    expect(deletedCsv.every((row) => row.outcome === 'deleted' && row.requestId)).toBe(true);
    const backups = await readJsonLines<{ identifier: string; scopes: unknown[]; name: string }>(
      path.join(summary.manifestDir!, 'backups.jsonl'),
    );
    expect(backups).toHaveLength(listed.length);
    expect(backups[0]!.scopes).toEqual([{ ScopeName: 'read', ScopeDescription: expect.stringMatching(/^read /) }]);
    const summaryJson = JSON.parse(await readFile(summary.summaryFile!, 'utf8'));
    expect(summaryJson.counts.deleted).toBe(listed.length);

    // Audit: attempts and exactly one final outcome per item, with run IDs, request IDs and backups.
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const outcomes = audit.filter((r) => r.event === 'outcome');
    expect(outcomes).toHaveLength(listed.length);
    const attempts = audit.filter((r) => r.event === 'attempt' && r.outcome === 'deleted');
    expect(attempts).toHaveLength(listed.length);
    expect(attempts[0]).toMatchObject({
      workflowId: summary.workflowId,
      runId: expect.any(String),
      requestId: expect.any(String),
      durationMs: expect.any(Number),
      attempt: 1,
      extra: { tenant: expect.any(String) },
      backup: { identifier: expect.any(String), scopes: expect.any(Array) },
    });
    const auditText = await readFile(summary.auditFile!, 'utf8');
    expect(auditText).not.toContain(DEFAULT_TEST_CREDENTIALS.secretAccessKey);
    expect(auditText).not.toContain('Signature=');
  });

  it('rides out throttling storms and 500s: every item ends deleted after Temporal retries', async () => {
    const { userPools, items } = seedPools('Storm', 3, 4);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({
      faultSeed: 7,
      faults: { operations: { '*': { throttle: 0.2, internalError: 0.15 } } },
    });
    const source = await env.inputFile('storm.csv', csvInput(items));

    const summary = await env.run({ source, execute: true, maxAttempts: 20 });

    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0 });
    const stats = await env.emulator.control.stats();
    const errors = (op: string, type: string) => stats.operations[op]?.[type] ?? 0;
    expect(errors('DeleteResourceServer', 'TooManyRequestsException') + errors('DescribeResourceServer', 'TooManyRequestsException')).toBeGreaterThan(0);
    expect(errors('DeleteResourceServer', 'InternalErrorException') + errors('DescribeResourceServer', 'InternalErrorException')).toBeGreaterThan(0);
    expect(stats.deletes).toHaveLength(items.length);
    const manifest = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(manifest.some((row) => Number(row.attempts) > 1)).toBe(true);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    expect(audit.some((r) => r.event === 'attempt' && r.outcome === 'retrying' && r.errorCode === 'TooManyRequestsException')).toBe(true);
  });

  it('reports servers that do not exist as already-absent, and a second run of the same input is harmless', async () => {
    const { userPools, items } = seedPools('Absent', 2, 3);
    await env.emulator.control.seed({ userPools });
    const missing = [{ userPoolId: userPools[0]!.id, identifier: 'https://api.example.com/never-existed' }];
    const source = await env.inputFile('absent.csv', csvInput([...items, ...missing]));

    const first = await env.run({ source, execute: true });
    expect(first.counts).toMatchObject({ deleted: items.length, 'already-absent': 1 });

    const second = await env.run({ source, execute: true });
    expect(second.counts).toMatchObject({ deleted: 0, 'already-absent': items.length + 1, failed: 0 });
    expect((await env.emulator.control.stats()).deletes).toHaveLength(items.length);
  });

  it('fails access-denied items at once, without retries, and deletes nothing', async () => {
    const { userPools, items } = seedPools('Denied', 2, 3);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({
      policies: { [DEFAULT_TEST_CREDENTIALS.accessKeyId]: { deny: ['DeleteResourceServer'] } },
    });
    const source = await env.inputFile('denied.csv', csvInput(items));

    const summary = await env.run({ source, execute: true });

    expect(summary.counts).toMatchObject({ failed: items.length, deleted: 0 });
    const failed = await readManifestCsv(path.join(summary.manifestDir!, 'failed.csv'));
    expect(failed.every((row) => row.errorCode === 'AccessDeniedException' && row.attempts === '1')).toBe(true);
    const stats = await env.emulator.control.stats();
    expect(stats.operations.DeleteResourceServer).toEqual({ AccessDeniedException: items.length });
    expect(stats.deletes).toHaveLength(0);
  });

  it('never retries LimitExceededException, a hard quota in Cognito', async () => {
    const { userPools, items } = seedPools('Limit', 1, 4);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({
      faults: { failNext: [{ operation: 'DeleteResourceServer', count: 2, error: 'LimitExceededException' }] },
    });
    const source = await env.inputFile('limit.csv', csvInput(items));

    const summary = await env.run({ source, execute: true, limits: { window: 1 } });

    expect(summary.counts).toMatchObject({ failed: 2, deleted: 2 });
    const stats = await env.emulator.control.stats();
    expect(stats.operations.DeleteResourceServer).toEqual({ LimitExceededException: 2, ok: 2 });
    const failed = await readManifestCsv(path.join(summary.manifestDir!, 'failed.csv'));
    expect(failed.map((row) => [row.errorCode, row.attempts])).toEqual([
      ['LimitExceededException', '1'],
      ['LimitExceededException', '1'],
    ]);
  });

  it('dry-run deletes nothing, reports would-delete and keeps the backups', async () => {
    const { userPools, items } = seedPools('Dry', 2, 4);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('dry.csv', csvInput(items));

    const summary = await env.run({ source, execute: false });

    expect(summary.counts).toMatchObject({ 'would-delete': items.length, deleted: 0 });
    const stats = await env.emulator.control.stats();
    expect(stats.deletes).toEqual([]);
    expect(stats.operations.DeleteResourceServer).toBeUndefined();
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    expect(audit.filter((r) => r.event === 'outcome' && r.outcome === 'would-delete' && r.backup)).toHaveLength(items.length);
  });

  it('refuses an input with an invalid row: nothing is called, the reason names file, row and column', async () => {
    const { userPools, items } = seedPools('Invalid', 1, 3);
    await env.emulator.control.seed({ userPools });
    const content = csvInput(items) + `${userPools[0]!.id},has a space,t\n`;
    const source = await env.inputFile('invalid.csv', content);

    const summary = await env.run({ source, execute: true });

    expect(summary.status).toBe('invalid-input');
    expect(summary.invalid).toBe(1);
    expect(summary.invalidSample![0]).toMatchObject({ file: source.path, row: 5, column: 'identifier' });
    expect(await readFile(summary.invalidReport!, 'utf8')).toContain('invalid.csv:5');
    const stats = await env.emulator.control.stats();
    expect(stats.operations).toEqual({});
  });

  it('reports a delete whose response was lost as deleted, once, not already-absent', async () => {
    const { userPools, items } = seedPools('Lost', 2, 5);
    await env.emulator.control.seed({ userPools });
    // The delete happens, then the connection drops before the answer: the SDK sees a network error.
    await env.emulator.control.setConfig({
      faultSeed: 3,
      faults: { operations: { DeleteResourceServer: { dropAfterProcessing: 0.5 } } },
    });
    const source = await env.inputFile('lost.csv', csvInput(items));

    const summary = await env.run({ source, execute: true });

    expect(summary.counts).toMatchObject({ deleted: items.length, 'already-absent': 0, failed: 0 });
    const stats = await env.emulator.control.stats();
    expect(stats.operations.DeleteResourceServer?.DroppedAfterProcessing ?? 0).toBeGreaterThan(0);
    expect(stats.deletes).toHaveLength(items.length);
    const deleted = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(deleted).toHaveLength(items.length);
    expect(deleted.some((row) => row.reason?.startsWith('absent on retry'))).toBe(true);
  });

  it('stops early at the failure threshold and says why; the rest is cancelled', async () => {
    const { userPools, items } = seedPools('Threshold', 1, 20);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({
      policies: { [DEFAULT_TEST_CREDENTIALS.accessKeyId]: { deny: ['DeleteResourceServer'] } },
    });
    const source = await env.inputFile('threshold.csv', csvInput(items));

    const summary = await env.run({ source, execute: true, failureThreshold: { count: 3 }, limits: { window: 2 } });

    expect(summary.status).toBe('stopped');
    expect(summary.stopReason).toMatch(/failure threshold reached: \d+ items failed \(limit 3\)/);
    expect(summary.counts.failed).toBeGreaterThanOrEqual(3);
    expect(summary.counts.failed).toBeLessThanOrEqual(4); // at most the window in flight when it tripped
    expect(summary.counts.cancelled).toBe(items.length - summary.counts.failed);
    const cancelled = await readManifestCsv(path.join(summary.manifestDir!, 'cancelled.csv'));
    expect(cancelled).toHaveLength(summary.counts.cancelled);
  });
});
