/**
 * Fault injection: seeded random errors, "fail the next N", latency, dropped
 * connections, requests never answered, status-only 429/503, a storm on reads
 * and deletes, and background load. Assertions are on outcomes and lower
 * bounds of time, never on tight timings.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CognitoIdentityProviderClient,
  DeleteResourceServerCommand,
  DescribeResourceServerCommand,
  DescribeUserPoolCommand,
  ListResourceServersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DEFAULT_TEST_CREDENTIALS, startEmulator, type EmulatorOptions, type RunningEmulator } from '../../emulator';
import { amzDate, authorizationHeader, caught, rawCall, sdkClient, sleep } from './helpers';

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
    // A minute of latency against a half-minute bound: a wide margin however busy the machine.
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 60_000, spikeProbability: 0 } } });
    started = Date.now();
    await emulator.control.stats();
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 0 } } });
    expect(Date.now() - started).toBeLessThan(30_000);
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
    await expect(emulator.control.setConfig({ faults: { operations: { DeleteResourceServer: { latency: { spikeProbability: 1.5 } } } } })).rejects.toThrow(
      'InvalidConfigException: faults.operations.DeleteResourceServer.latency.spikeProbability must be <= 1',
    );
    await expect(emulator.control.setConfig({ faults: { operations: { DeleteResourceServer: { hangs: 1 } as never } } })).rejects.toThrow(
      'InvalidConfigException: faults.operations.DeleteResourceServer.hangs is not a known setting',
    );
    await expect(emulator.control.setConfig({ faults: { failNext: [{ count: 1, error: 'Http418' as never }] } })).rejects.toThrow(/failNext\[0\]\.error must be one of .*Hang, Http429, Http503/);
    expect(await emulator.control.config()).toEqual(before);
  });

  it('hangs: the request is read and never answered, so the SDK request timeout fires; nothing changes; the SDK retries it', async () => {
    await emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'Hang' }] } });
    const impatient = impatientClient(emulator, 1);
    const retrying = impatientClient(emulator, 2);
    try {
      const timedOut = await caught(impatient.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' })));
      expect(timedOut).toMatchObject({ name: 'TimeoutError', status: undefined });
      expect(await identifiers()).toContain('rs-0');
      expect((await emulator.control.stats()).deletes).toEqual([]);

      await emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'Hang' }] } });
      expect((await retrying.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' }))).$metadata.attempts).toBe(2);
    } finally {
      impatient.destroy();
      retrying.destroy();
    }
    expect((await emulator.control.stats()).operations.DeleteResourceServer).toEqual({ Hung: 2, ok: 1 });
  });

  it('a hang after processing applies the change and times out: the delete happened although the caller saw a timeout', async () => {
    await emulator.control.setConfig({ faults: { operations: { DeleteResourceServer: { hangAfterProcessing: 1 } } } });
    const impatient = impatientClient(emulator, 1);
    try {
      expect(await caught(impatient.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-3' })))).toMatchObject({ name: 'TimeoutError' });
    } finally {
      impatient.destroy();
    }
    await emulator.control.setConfig({ faults: { operations: {} } });
    const client = sdkClient(emulator, { maxAttempts: 1 });
    try {
      // What a retry meets: the server is already gone.
      expect(await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-3' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      client.destroy();
    }
    const stats = await emulator.control.stats();
    expect(stats.operations.DeleteResourceServer).toEqual({ HungAfterProcessing: 1, ResourceNotFoundException: 1 });
    expect(stats.deletes.map((d) => d.identifier)).toEqual(['rs-3']);
  });

  it('close() ends a hung request at once', async () => {
    const hanging = await startEmulator({ port: 0, quotas: false, faults: { operations: { '*': { hang: 1 } } } });
    const client = sdkClient(hanging, { maxAttempts: 1 });
    try {
      const pending = caught(client.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Nothing' })));
      await waitForOutcome(hanging, 'DescribeUserPool', 'Hung');
      await hanging.close();
      expect((await pending).code).toMatch(/ECONNRESET|EPIPE|ECONNREFUSED/);
    } finally {
      client.destroy();
      await hanging.close();
    }
  });

  it('answers 429 and 503 with a plain-text body and no Cognito error type, as a proxy would; the SDK retries both', async () => {
    await emulator.control.setConfig({
      faults: {
        failNext: [
          { operation: 'DescribeResourceServer', count: 1, error: 'Http429' },
          { operation: 'DescribeResourceServer', count: 1, error: 'Http503' },
        ],
      },
    });
    const raw = async () => {
      const response = await fetch(emulator.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.DescribeResourceServer',
          'x-amz-date': amzDate(),
          authorization: authorizationHeader(),
        },
        body: JSON.stringify({ UserPoolId: poolId, Identifier: 'rs-0' }),
      });
      return { status: response.status, type: response.headers.get('content-type'), errorType: response.headers.get('x-amzn-errortype'), body: await response.text() };
    };
    expect(await raw()).toEqual({ status: 429, type: 'text/plain', errorType: null, body: 'Too Many Requests' });
    expect(await raw()).toEqual({ status: 503, type: 'text/plain', errorType: null, body: 'Service Unavailable' });

    // Through the SDK: no modeled error, only the status; retried as throttling (429) and transient (503).
    await emulator.control.setConfig({ faults: { failNext: [{ operation: 'DescribeResourceServer', count: 1, error: 'Http429' }] } });
    const once = sdkClient(emulator, { maxAttempts: 1 });
    const retrying = sdkClient(emulator, { maxAttempts: 3 });
    try {
      const error = await caught(once.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' })));
      expect(error.status).toBe(429);
      expect(error.name).not.toMatch(/Exception$/);
      await emulator.control.setConfig({ faults: { failNext: [{ operation: 'DescribeResourceServer', count: 1, error: 'Http429' }, { operation: 'DescribeResourceServer', count: 1, error: 'Http503' }] } });
      const answer = await retrying.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'rs-0' }));
      expect(answer.$metadata.attempts).toBe(3);
    } finally {
      once.destroy();
      retrying.destroy();
    }
    expect((await emulator.control.stats()).operations.DescribeResourceServer).toEqual({ Http429: 3, Http503: 2, ok: 1 });
  });
});

/** A client that gives up after 1 s (a wide margin for a local call), as the cleanup's Cognito clients do after 10 s. */
function impatientClient(emulator: RunningEmulator, maxAttempts: number): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: { ...DEFAULT_TEST_CREDENTIALS },
    maxAttempts,
    requestHandler: { requestTimeout: 1_000, throwOnRequestTimeout: true },
  });
}

/** A storm: one setConfig call, the same faults on reads and deletes. */
const STORM = {
  throttle: 0.2,
  internalError: 0.05,
  dropBeforeProcessing: 0.02,
  dropAfterProcessing: 0.02,
  latency: { spikeProbability: 0.05, spikeMs: 20 },
};

async function waitForOutcome(emulator: RunningEmulator, operation: string, outcome: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await emulator.control.stats()).operations[operation]?.[outcome]) return;
    await sleep(50);
  }
  throw new Error(`no ${operation} ${outcome} recorded`);
}

async function stormRun(faultSeed: number) {
  const emulator = await startEmulator({ port: 0, quotas: false });
  const client = sdkClient(emulator, { maxAttempts: 1 });
  try {
    const seeded = await emulator.control.seed({ generate: { pools: 8, serversPerPool: 25, scopesPerServer: 1 } });
    await emulator.control.setConfig({ faultSeed, faults: { operations: { DescribeResourceServer: STORM, DeleteResourceServer: STORM } } });
    const outcome = (call: Promise<unknown>) => call.then(() => 'ok', (error: Error & { code?: string }) => error.code ?? error.name);
    const seen: string[] = [];
    for (const [p, pool] of seeded.userPools.entries()) {
      seen.push(await outcome(client.send(new ListResourceServersCommand({ UserPoolId: pool.id }))));
      for (let s = 1; s <= 25; s++) {
        const target = { UserPoolId: pool.id, Identifier: `https://api.example.com/pool-${p + 1}/server-${s}` };
        seen.push(await outcome(client.send(new DescribeResourceServerCommand(target))));
        seen.push(await outcome(client.send(new DeleteResourceServerCommand(target))));
      }
    }
    const stats = await emulator.control.stats();
    return { seen, operations: stats.operations, latencySpikes: stats.latencySpikes, deletes: stats.deletes.length };
  } finally {
    client.destroy();
    await emulator.close();
  }
}

describe('a seeded fault storm on reads and deletes', () => {
  it('is one setConfig call: throttling, internal errors, drops before and after, and spikes on both operations, the same for the same seed', async () => {
    const first = await stormRun(7);
    const second = await stormRun(7);
    expect(second).toEqual(first);

    for (const operation of ['DescribeResourceServer', 'DeleteResourceServer']) {
      const counts = first.operations[operation]!;
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      expect(total).toBe(200);
      // 200 draws at 20%: a fixed seed gives a fixed count; these bounds hold for any fair generator at 4 sigma.
      expect(counts.TooManyRequestsException).toBeGreaterThanOrEqual(18);
      expect(counts.TooManyRequestsException).toBeLessThanOrEqual(62);
      expect(counts.InternalErrorException).toBeGreaterThan(0);
      expect((counts.DroppedConnection ?? 0) + (counts.DroppedAfterProcessing ?? 0)).toBeGreaterThan(0);
      expect(first.latencySpikes[operation]).toBeGreaterThan(0);
    }
    // Operations outside the storm are untouched.
    expect(first.operations.ListResourceServers).toEqual({ ok: 8 });
    expect(first.latencySpikes.ListResourceServers).toBeUndefined();
  });
});
