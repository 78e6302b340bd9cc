/**
 * Fault injection: seeded random errors, "fail the next N", latency, dropped
 * connections and background load. Assertions are on outcomes and lower
 * bounds of time, never on tight timings.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeleteResourceServerCommand, DescribeResourceServerCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../emulator';
import { caught, rawCall, sdkClient } from './helpers';

async function outcomeSequence(options: EmulatorOptions, calls: number): Promise<string[]> {
  const emulator = await startEmulator({ port: 0, quotas: false, ...options });
  try {
    const poolId = (await emulator.control.seed({ userPools: [{ name: 'f', resourceServers: [{ identifier: 'api', name: 'api' }] }] })).userPools[0]!.id;
    const outcomes: string[] = [];
    for (let i = 0; i < calls; i++) {
      const response = await rawCall(emulator, 'DescribeResourceServer', { UserPoolId: poolId, Identifier: 'api' });
      outcomes.push(response.status === 200 ? 'ok' : `${response.status} ${String(response.body.__type)}`);
    }
    return outcomes;
  } finally {
    await emulator.close();
  }
}

describe('emulator faults', () => {
  let emulator: RunningEmulator;
  let poolId: string;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.control.reset();
    await emulator.control.setConfig({
      quotas: false,
      faults: { operations: {}, failNext: [], latency: { fixedMs: 0, jitterMs: 0, spikeProbability: 0, spikeMs: 0 }, backgroundLoad: {} },
    });
    const seeded = await emulator.control.seed({
      userPools: [{ name: 'faults', resourceServers: Array.from({ length: 5 }, (_, i) => ({ identifier: `rs-${i}`, name: 'n' })) }],
    });
    poolId = seeded.userPools[0]!.id;
  });

  const identifiers = async () => (await emulator.control.state()).userPools[0]!.resourceServers.map((s) => s.identifier);

  it('draws random errors reproducibly from the fault seed, with the right statuses', async () => {
    const faults = { operations: { '*': { throttle: 0.2, internalError: 0.2, notAuthorized: 0.1 } } };
    const first = await outcomeSequence({ faultSeed: 1234, faults }, 60);
    const second = await outcomeSequence({ faultSeed: 1234, faults }, 60);
    const other = await outcomeSequence({ faultSeed: 99, faults }, 60);
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    expect(new Set(first)).toEqual(new Set(['ok', '400 TooManyRequestsException', '500 InternalErrorException', '400 NotAuthorizedException']));
    // Latency draws do not shift which calls fail.
    const withJitter = await outcomeSequence({ faultSeed: 1234, faults: { ...faults, latency: { jitterMs: 3 } } }, 60);
    expect(withJitter).toEqual(first);
  });

  it('an operation-specific entry replaces the "*" entry, and faulted calls change nothing', async () => {
    await emulator.control.setConfig({ faults: { operations: { '*': { internalError: 1 }, DescribeResourceServer: {} } } });
    expect((await rawCall(emulator, 'DescribeResourceServer', { UserPoolId: poolId, Identifier: 'rs-0' })).status).toBe(200);
    const failed = await rawCall(emulator, 'DeleteResourceServer', { UserPoolId: poolId, Identifier: 'rs-0' });
    expect(failed.status).toBe(500);
    expect(failed.headers.get('x-amzn-errortype')).toBe('InternalErrorException');
    expect(await identifiers()).toContain('rs-0');
    const stats = await emulator.control.stats();
    expect(stats.deletes).toEqual([]);
    expect(stats.accepted.perSecond.every((s) => !s.pools[poolId]?.DeleteResourceServer)).toBe(true);
  });

  it('fails the next N calls of one operation with the chosen error', async () => {
    await emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 2, error: 'InternalErrorException' }] } });
    const client = sdkClient(emulator, { maxAttempts: 1 });
    try {
      expect(await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' })))).toMatchObject({ name: 'InternalErrorException', status: 500 });
      // Other operations are not affected and do not use up the count.
      await client.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' }));
      expect((await emulator.control.config()).faults.failNext).toEqual([{ operation: 'DeleteResourceServer', count: 1, error: 'InternalErrorException' }]);
      expect((await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' })))).name).toBe('InternalErrorException');
      expect(await identifiers()).toContain('rs-0');
      await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' }));
      expect(await identifiers()).not.toContain('rs-0');
      expect((await emulator.control.config()).faults.failNext).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('acknowledges a delete without applying it, as a write that did not stick', async () => {
    await emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'AcknowledgeWithoutApplying' }] } });
    const client = sdkClient(emulator, { maxAttempts: 1 });
    try {
      const answer = await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-1' }));
      expect(answer.$metadata.httpStatusCode).toBe(200);
      expect(await identifiers()).toContain('rs-1');
      const stats = await emulator.control.stats();
      expect(stats.operations.DeleteResourceServer).toEqual({ AcknowledgedWithoutApplying: 1 });
      expect(stats.deletes).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('adds fixed latency and latency spikes', async () => {
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 300 } } });
    let started = Date.now();
    expect((await rawCall(emulator, 'DescribeResourceServer', { UserPoolId: poolId, Identifier: 'rs-0' })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    await emulator.control.setConfig({ faults: { latency: { fixedMs: 0, spikeProbability: 1, spikeMs: 400 } } });
    started = Date.now();
    await rawCall(emulator, 'DescribeResourceServer', { UserPoolId: poolId, Identifier: 'rs-0' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);

    // The control API is never delayed.
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 5_000, spikeProbability: 0 } } });
    started = Date.now();
    await emulator.control.stats();
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 0 } } });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('drops connections: a network error in the SDK, before or after the change', async () => {
    const client = sdkClient(emulator, { maxAttempts: 1 });
    try {
      await emulator.control.setConfig({ faults: { operations: { DeleteResourceServer: { dropBeforeProcessing: 1 } } } });
      const before = await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-1' })));
      expect(before.status).toBeUndefined();
      expect(before.code).toBe('ECONNRESET');
      expect(await identifiers()).toContain('rs-1');

      // A lost response: the delete happened although the caller saw an error.
      await emulator.control.setConfig({ faults: { operations: { DeleteResourceServer: { dropAfterProcessing: 1 } } } });
      const after = await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-1' })));
      expect(after.code).toBe('ECONNRESET');
      expect(await identifiers()).not.toContain('rs-1');

      const stats = await emulator.control.stats();
      expect(stats.operations.DeleteResourceServer).toEqual({ DroppedConnection: 1, DroppedAfterProcessing: 1 });
      expect(stats.deletes.map((d) => d.identifier)).toEqual(['rs-1']);
    } finally {
      client.destroy();
    }
  });

  it('a dropped connection is retried by the SDK (transient) and then succeeds', async () => {
    await emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'DropConnection' }] } });
    const client = sdkClient(emulator, { maxAttempts: 3 });
    try {
      const result = await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-2' }));
      expect(result.$metadata.attempts).toBe(2);
    } finally {
      client.destroy();
    }
    expect((await emulator.control.stats()).operations.DeleteResourceServer).toEqual({ DroppedConnection: 1, ok: 1 });
  });

  it('background load takes its share of the category budget', async () => {
    await emulator.control.setConfig({ quotas: { enabled: true }, faults: { backgroundLoad: { UserPoolResourceUpdate: 12 } } });
    const seeded = await emulator.control.seed({ generate: { pools: 10, serversPerPool: 2, scopesPerServer: 0, identifierPrefix: 'bg/' } });
    const client = sdkClient(emulator, { maxAttempts: 1 });
    try {
      const results = await Promise.allSettled(
        seeded.userPools.flatMap((pool, p) => [1, 2].map((s) => client.send(new DeleteResourceServerCommand({ UserPoolId: pool.id, Identifier: `bg/pool-${p + 1}/server-${s}` })))),
      );
      expect(results.filter((r) => r.status === 'rejected' && (r.reason as Error).name === 'TooManyRequestsException').length).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
    const stats = await emulator.control.stats();
    // 15 - 12 = 3 left for this application in any second.
    expect(Math.max(...stats.accepted.perSecond.map((s) => s.categories.UserPoolResourceUpdate ?? 0))).toBeLessThanOrEqual(3);
  });

  it('rejects an invalid config patch and changes nothing', async () => {
    const before = await emulator.control.config();
    await expect(emulator.control.setConfig({ faults: { operations: { DeleteResourceServer: { throttle: 2 } } }, maxResourceServersPerPool: 3 })).rejects.toThrow(
      /InvalidConfigException: faults.operations.DeleteResourceServer.throttle must be <= 1/,
    );
    await expect(emulator.control.setConfig({ faults: { operations: { NoSuchOperation: {} } } })).rejects.toThrow(/not a known setting/);
    expect(await emulator.control.config()).toEqual(before);
  });
});
