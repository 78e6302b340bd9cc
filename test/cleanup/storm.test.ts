/**
 * A throttling storm ends in deletes, not failures: 20% TooManyRequests and 5%
 * InternalError on both DescribeResourceServer and DeleteResourceServer, with
 * dropped connections and latency spikes, on 2,000 items. Retries are bounded
 * by the item's deadline, not a small attempt count, and a retry does not read
 * the server again when this run already holds its backup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvInput, readJsonLines, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';

describe('fault storm', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({
      // Quotas off and short retry delays keep 2,000 items quick; the faults are the test.
      emulator: { quotas: false, maxResourceServersPerPool: 50 },
      // One DescribeResourceServer per item, not pool listings: the storm hits the backup reads this test counts.
      activities: { deleteRates: { rate: 400, poolRate: 400 }, readRates: { rate: 400, poolRate: 400 }, retryBaseDelayMs: 20, retryMaxDelayMs: 200, listingMaxAgeMs: 0 },
    });
  });
  afterAll(() => env?.close());

  it('2,000 items: every one deleted (or already-absent after a lost answer), none failed, each server deleted once', { timeout: 600_000 }, async () => {
    const { userPools, items } = seedPools('Storm', 40, 50);
    await env.emulator.control.seed({ userPools });
    const storm = { throttle: 0.2, internalError: 0.05, dropBeforeProcessing: 0.01, dropAfterProcessing: 0.01 };
    await env.emulator.control.setConfig({
      faultSeed: 2_000,
      faults: {
        operations: { DescribeResourceServer: storm, DeleteResourceServer: storm },
        latency: { fixedMs: 0, jitterMs: 5, spikeProbability: 0.02, spikeMs: 300 },
      },
    });
    const source = await env.inputFile('storm.csv', csvInput(items));
    const started = Date.now();
    const summary = await env.run({ source, execute: true, limits: { rate: 400, poolRate: 400, window: 150 }, pageSize: 500 });
    const seconds = (Date.now() - started) / 1000;

    expect(summary.counts.failed).toBe(0);
    expect(summary.counts.deleted + summary.counts['already-absent']).toBe(items.length);
    expect(summary.missing).toBe(0);
    const stats = await env.emulator.control.stats();
    const deleted = stats.deletes.map((d) => `${d.userPoolId} ${d.identifier}`);
    expect(new Set(deleted).size).toBe(deleted.length); // each server deleted at most once
    expect(deleted).toHaveLength(items.length); // and every one of them was
    expect(stats.operations.DeleteResourceServer?.TooManyRequestsException ?? 0).toBeGreaterThan(100);

    // A retry with this run's backup goes straight to Delete: each server is read successfully once, however many Delete retries it took.
    const calls = (op: string) => Object.values(stats.operations[op] ?? {}).reduce((a, b) => a + b, 0);
    expect(stats.operations.DescribeResourceServer?.ok).toBe(items.length);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const attempts = audit.filter((r) => r.event === 'attempt').map((r) => r.attempt as number);
    const maxAttempt = Math.max(...attempts);
    expect(maxAttempt).toBeGreaterThan(1);
    const deleteRetries = audit.filter((r) => r.event === 'attempt' && r.operation === 'DeleteResourceServer' && r.outcome === 'retrying').length;
    expect(deleteRetries).toBeGreaterThan(100);
    console.log(
      `storm: Delete retries ${deleteRetries}, `,
      `storm: ${items.length} items in ${seconds.toFixed(1)} s (${(items.length / seconds).toFixed(1)} items/s), ` +
        `max attempts ${maxAttempt}, Describe calls ${calls('DescribeResourceServer')}, Delete calls ${calls('DeleteResourceServer')}, ` +
        `deleted ${summary.counts.deleted}, already-absent ${summary.counts['already-absent']}`,
    );
  });
});
