/**
 * A throttled DeleteResourceServer is tried again within its attempt, at the
 * limiter's next turn for its pool, instead of waiting out Temporal's backoff:
 * each throttled call has its own audit record, the item ends deleted in its
 * first attempt, and with --max-attempts (which counts attempts) Temporal
 * retries as before. Checked against the audit, the manifest and the
 * emulator's stats; no wall-clock assertion.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvInput, readJsonLines, readManifestCsv, seedPools, useCleanupSuite, type CleanupEnv } from '../helpers/cleanup-env';

describe('a throttled delete', () => {
  let env: CleanupEnv;
  useCleanupSuite((started) => (env = started), { emulator: { quotas: false } });

  it("is tried again in the same attempt at the limiter's next turn, each throttled call audited", async () => {
    const { userPools, items } = seedPools('Inline', 1, 3);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 2, error: 'TooManyRequestsException' }] } });
    const summary = await env.run({ source: await env.inputFile('inline.csv', csvInput(items)), execute: true, limits: { window: 1 } });

    expect(summary.counts).toMatchObject({ deleted: 3, failed: 0 });
    const stats = await env.emulator.control.stats();
    expect(stats.operations.DeleteResourceServer?.TooManyRequestsException).toBe(2);
    expect(stats.deletes).toHaveLength(3);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const retries = audit.filter((r) => r.event === 'attempt' && r.outcome === 'retrying');
    // The first item's first two calls were throttled: two records, calls 1 and 2 of its first attempt.
    expect(retries.map((r) => [r.identifier, r.attempt, r.call, r.errorCode])).toEqual([
      [items[0]!.identifier, 1, 1, 'TooManyRequestsException'],
      [items[0]!.identifier, 1, 2, 'TooManyRequestsException'],
    ]);
    // One intent per Delete sent: three for the first item, one for each other.
    expect(audit.filter((r) => r.event === 'intent' && r.identifier === items[0]!.identifier)).toHaveLength(3);
    const manifest = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(manifest.map((row) => row.attempts)).toEqual(['1', '1', '1']);
  });

  it('is left to Temporal\'s retries under --max-attempts, which counts attempts', async () => {
    const { userPools, items } = seedPools('Capped', 1, 2);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'TooManyRequestsException' }] } });
    const summary = await env.run({ source: await env.inputFile('capped.csv', csvInput(items)), execute: true, maxAttempts: 3, limits: { window: 1 } });

    expect(summary.counts).toMatchObject({ deleted: 2, failed: 0 });
    const manifest = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(manifest.map((row) => row.attempts).sort()).toEqual(['1', '2']);
  });
});
