/**
 * The request timeout really ends a slow call: with the emulator answering
 * some calls later than the (short, configured) timeout, those calls fail with
 * a retryable timeout and the items still end deleted, each server once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvInput, readJsonLines, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';

describe('request timeout', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false }, activities: { cognito: { requestTimeoutMs: 800 } } });
  });
  afterAll(() => env?.close());

  it('a call slower than the timeout is cut and retried; every item ends deleted', async () => {
    const { userPools, items } = seedPools('Slow', 2, 6);
    await env.emulator.control.seed({ userPools });
    // 2 s spikes on a third of the calls: far above the 800 ms timeout.
    await env.emulator.control.setConfig({ faultSeed: 5, faults: { latency: { fixedMs: 0, jitterMs: 0, spikeProbability: 0.35, spikeMs: 2_000 } } });
    const source = await env.inputFile('slow.csv', csvInput(items));

    const summary = await env.run({ source, execute: true });

    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0, 'already-absent': 0 });
    const deletes = (await env.emulator.control.stats()).deletes;
    expect(new Set(deletes.map((d) => d.identifier)).size).toBe(items.length);
    expect(deletes).toHaveLength(items.length);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const timedOut = audit.filter((r) => r.event === 'attempt' && r.outcome === 'retrying' && r.errorCode === 'ETIMEDOUT');
    expect(timedOut.length).toBeGreaterThan(0);
  });
});
