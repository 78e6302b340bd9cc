/**
 * Rate quotas: the sliding-window limiter on its own (deterministic clock),
 * then through HTTP with the SDK's retries off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteResourceServerCommand, DescribeResourceServerCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startEmulator, type EmulatorStats, type RunningEmulator } from '../../emulator';
import { defaultQuotaConfig } from '../../emulator/config';
import { QuotaLimiter } from '../../emulator/quotas';
import { SeededRandom } from '../../emulator/random';
import type { QuotaCategory, QuotaConfig } from '../../emulator/types';
import { sdkClient, sleep } from './helpers';

function limiter(overrides: Partial<QuotaConfig> = {}, background: Partial<Record<QuotaCategory, number>> = {}): QuotaLimiter {
  const config = { ...defaultQuotaConfig(), ...overrides };
  return new QuotaLimiter(
    () => config,
    () => background,
  );
}

const deleteCall = (userPoolId: string) => ({ accountId: '000000000000', region: 'us-east-1', category: 'UserPoolResourceUpdate' as const, operation: 'DeleteResourceServer', userPoolId });

describe('QuotaLimiter (sliding window, fake clock)', () => {
  it('accepts at most the category limit in any 1000 ms, and accepts again as soon as calls leave the window', () => {
    const quotas = limiter({ perPoolPerOperation: 1000 });
    const accepted = Array.from({ length: 20 }, () => quotas.tryAccept(deleteCall('us-east-1_A'), 10_000)).filter(Boolean).length;
    expect(accepted).toBe(15);
    expect(quotas.tryAccept(deleteCall('us-east-1_A'), 10_999)).toBe(false);
    // Exactly 1000 ms later the first 15 have left the window.
    expect(quotas.tryAccept(deleteCall('us-east-1_A'), 11_000)).toBe(true);
    // Another category and another Region have their own budgets.
    expect(quotas.tryAccept({ ...deleteCall('us-east-1_A'), category: 'UserPoolResourceRead', operation: 'DescribeResourceServer' }, 11_000)).toBe(true);
    expect(quotas.tryAccept({ ...deleteCall('eu-west-1_A'), region: 'eu-west-1' }, 11_000)).toBe(true);
  });

  it('gives every account its own budget in a Region', () => {
    const quotas = limiter({ perPoolPerOperation: 1000 });
    expect(Array.from({ length: 20 }, () => quotas.tryAccept(deleteCall('us-east-1_A'), 0)).filter(Boolean)).toHaveLength(15);
    const otherAccount = { ...deleteCall('us-east-1_B'), accountId: '111111111111' };
    expect(Array.from({ length: 20 }, () => quotas.tryAccept(otherAccount, 0)).filter(Boolean)).toHaveLength(15);
    expect(quotas.tryAccept(deleteCall('us-east-1_C'), 500)).toBe(false);
  });

  it('limits each pool and operation to 5 per second, and does not count refused calls', () => {
    const quotas = limiter();
    const results = Array.from({ length: 8 }, () => quotas.tryAccept(deleteCall('us-east-1_A'), 0));
    expect(results.filter(Boolean)).toHaveLength(5);
    // Hammering while refused must not extend the lock-out.
    for (let t = 100; t < 1000; t += 100) expect(quotas.tryAccept(deleteCall('us-east-1_A'), t)).toBe(false);
    expect(quotas.tryAccept(deleteCall('us-east-1_A'), 1000)).toBe(true);
    // Another pool, or another operation on the same pool, is not affected.
    expect(quotas.tryAccept(deleteCall('us-east-1_B'), 500)).toBe(true);
    expect(quotas.tryAccept({ ...deleteCall('us-east-1_A'), operation: 'UpdateResourceServer' }, 500)).toBe(true);
  });

  it('a call refused by its pool does not use the category budget', () => {
    const quotas = limiter({ categories: { ...defaultQuotaConfig().categories, UserPoolResourceUpdate: 6 } });
    for (let i = 0; i < 10; i++) quotas.tryAccept(deleteCall('us-east-1_A'), 0);
    expect(quotas.tryAccept(deleteCall('us-east-1_B'), 0)).toBe(true);
    expect(quotas.tryAccept(deleteCall('us-east-1_C'), 0)).toBe(false);
  });

  it('honours per-pool overrides, background load and a disabled config', () => {
    expect(Array.from({ length: 10 }, () => limiter({ pools: { 'us-east-1_A': 2 } }).tryAccept(deleteCall('us-east-1_A'), 0)).every(Boolean)).toBe(true);
    const overridden = limiter({ pools: { 'us-east-1_A': 2 } });
    expect(Array.from({ length: 10 }, () => overridden.tryAccept(deleteCall('us-east-1_A'), 0)).filter(Boolean)).toHaveLength(2);

    const busy = limiter({ perPoolPerOperation: 1000 }, { UserPoolResourceUpdate: 10 });
    expect(Array.from({ length: 20 }, () => busy.tryAccept(deleteCall('us-east-1_A'), 0)).filter(Boolean)).toHaveLength(5);

    const off = limiter({ enabled: false });
    expect(Array.from({ length: 100 }, () => off.tryAccept(deleteCall('us-east-1_A'), 0)).every(Boolean)).toBe(true);
  });

  it('never lets any 1000 ms window, or any 1-second bucket, exceed the limit under random arrivals', () => {
    const random = new SeededRandom(42);
    const quotas = limiter();
    const accepted: number[] = [];
    const refusedAt: number[] = [];
    let t = 0;
    for (let i = 0; i < 20_000; i++) {
      t += random.next() * 40; // ~50 calls/s offered against a limit of 15
      if (quotas.tryAccept(deleteCall(`us-east-1_${Math.floor(random.next() * 4)}`), t)) accepted.push(t);
      else refusedAt.push(t);
    }
    const inWindow = (end: number) => accepted.filter((a) => a > end - 1000 && a <= end).length;
    for (const end of accepted) expect(inWindow(end)).toBeLessThanOrEqual(15);
    const buckets = new Map<number, number>();
    for (const a of accepted) buckets.set(Math.floor(a / 1000), (buckets.get(Math.floor(a / 1000)) ?? 0) + 1);
    expect(Math.max(...buckets.values())).toBeLessThanOrEqual(15);
    // And it is not needlessly strict: 4 pools x 5 > 15, so the category is the bottleneck and stays busy.
    expect(accepted.length / (t / 1000)).toBeGreaterThan(13);
    expect(refusedAt.length).toBeGreaterThan(0);
  });
});

function maxBucket(stats: EmulatorStats, category: QuotaCategory): number {
  return Math.max(0, ...stats.accepted.perSecond.map((s) => s.categories[category] ?? 0));
}

function maxPoolBucket(stats: EmulatorStats, operation: string): number {
  return Math.max(0, ...stats.accepted.perSecond.flatMap((s) => Object.values(s.pools).map((ops) => ops[operation] ?? 0)));
}

describe('quotas through HTTP', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('refuses DeleteResourceServer beyond 15/s (and 5/s per pool) with TooManyRequestsException that changes nothing', async () => {
    await emulator.control.reset();
    const seeded = await emulator.control.seed({ generate: { pools: 8, serversPerPool: 10, scopesPerServer: 1 } });
    const targets = seeded.userPools.flatMap((pool) => Array.from({ length: 10 }, (_, s) => ({ poolId: pool.id, identifier: `https://api.example.com/pool-${seeded.userPools.indexOf(pool) + 1}/server-${s + 1}` })));
    expect(targets).toHaveLength(80);

    const client = sdkClient(emulator, { maxAttempts: 1 });
    const outcomes = new Map<string, string[]>();
    let throttled = 0;
    try {
      // Three bursts of everything still present: ~80 calls in well under a second, far above 15/s.
      let remaining = targets;
      for (let round = 0; round < 3 && remaining.length > 0; round++) {
        const results = await Promise.all(
          remaining.map(async (target) => {
            try {
              await client.send(new DeleteResourceServerCommand({ UserPoolId: target.poolId, Identifier: target.identifier }));
              return { target, outcome: 'ok' };
            } catch (error) {
              const e = error as Error & { $metadata?: { attempts?: number; httpStatusCode?: number } };
              if (e.name === 'TooManyRequestsException') {
                expect(e.$metadata?.httpStatusCode).toBe(400);
                expect(e.message).toBe('Rate exceeded');
                throttled++;
              }
              return { target, outcome: e.name };
            }
          }),
        );
        for (const { target, outcome } of results) outcomes.set(`${target.poolId} ${target.identifier}`, [...(outcomes.get(`${target.poolId} ${target.identifier}`) ?? []), outcome]);
        remaining = results.filter((r) => r.outcome !== 'ok').map((r) => r.target);
        await sleep(300);
      }
    } finally {
      client.destroy();
    }
    expect(throttled).toBeGreaterThan(0);
    for (const list of outcomes.values()) for (const outcome of list) expect(['ok', 'TooManyRequestsException']).toContain(outcome);

    // Refused calls changed nothing: exactly the servers with an 'ok' are gone.
    const state = await emulator.control.state();
    const present = new Set(state.userPools.flatMap((pool) => pool.resourceServers.map((s) => `${pool.id} ${s.identifier}`)));
    for (const [key, list] of outcomes) expect(present.has(key), key).toBe(!list.includes('ok'));

    const stats = await emulator.control.stats();
    const okCount = [...outcomes.values()].filter((list) => list.includes('ok')).length;
    expect(stats.operations.DeleteResourceServer).toEqual({ ok: okCount, TooManyRequestsException: throttled });
    expect(stats.deletes).toHaveLength(okCount);
    expect(maxBucket(stats, 'UserPoolResourceUpdate')).toBeLessThanOrEqual(15);
    expect(maxBucket(stats, 'UserPoolResourceUpdate')).toBeGreaterThan(0);
    expect(maxPoolBucket(stats, 'DeleteResourceServer')).toBeLessThanOrEqual(5);
  });

  it('refuses reads beyond 20/s per account and 5/s per pool', async () => {
    await emulator.control.reset();
    const seeded = await emulator.control.seed({ generate: { pools: 10, serversPerPool: 1, scopesPerServer: 0 } });
    const client = sdkClient(emulator, { maxAttempts: 1 });
    try {
      const calls = seeded.userPools.flatMap((pool, p) =>
        Array.from({ length: 6 }, () => client.send(new DescribeResourceServerCommand({ UserPoolId: pool.id, Identifier: `https://api.example.com/pool-${p + 1}/server-1` }))),
      );
      const results = await Promise.allSettled(calls);
      expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as Error).name).toBe('TooManyRequestsException');
    } finally {
      client.destroy();
    }
    const stats = await emulator.control.stats();
    expect(maxBucket(stats, 'UserPoolResourceRead')).toBeLessThanOrEqual(20);
    expect(maxPoolBucket(stats, 'DescribeResourceServer')).toBeLessThanOrEqual(5);
  });

  it('refuses nothing when quotas are off, and applies run-time limits', async () => {
    const free = await startEmulator({ port: 0, quotas: false });
    const client = sdkClient(free, { maxAttempts: 1 });
    try {
      const seeded = await free.control.seed({ userPools: [{ name: 'one', resourceServers: Array.from({ length: 25 }, (_, i) => ({ identifier: `rs-${i}`, name: 'n' })) }] });
      const poolId = seeded.userPools[0]!.id;
      const results = await Promise.allSettled(
        Array.from({ length: 25 }, (_, i) => client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: `rs-${i}` }))),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect((await free.control.stats()).deletes).toHaveLength(25);

      // Turned on at run time with a tiny per-pool limit.
      await free.control.setConfig({ quotas: { enabled: true, perPoolPerOperation: 1 } });
      const reads = await Promise.allSettled(Array.from({ length: 5 }, () => client.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' }))));
      const reasons = reads.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'ok'));
      // rs-0 is gone: accepted calls are ResourceNotFound, the others are refused before that check.
      expect(reasons.filter((name) => name === 'ResourceNotFoundException').length).toBeGreaterThanOrEqual(1);
      expect(reasons.filter((name) => name === 'TooManyRequestsException').length).toBeGreaterThanOrEqual(1);
      expect(reasons.every((name) => name === 'ResourceNotFoundException' || name === 'TooManyRequestsException')).toBe(true);
      expect(maxPoolBucket(await free.control.stats(), 'DescribeResourceServer')).toBe(1);
    } finally {
      client.destroy();
      await free.close();
    }
  });
});
