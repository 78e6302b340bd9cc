/**
 * 5,000 items with quotas off: the plan is read in pages, the window keeps the
 * pending activities bounded, and the run crosses several continue-as-new
 * boundaries; the manifest still lists every item exactly once.
 */
import path from 'node:path';
import { LIMIT_BOUNDS } from '../../common/options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestCsv, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';

describe('a large run', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({
      emulator: { quotas: false },
      activities: { deleteRates: { rate: 5_000, poolRate: 5_000 }, readRates: { rate: 5_000, poolRate: 5_000 } },
    });
  });
  afterAll(() => env?.close());

  it('deletes 5,000 servers across continue-as-new boundaries, each listed once', { timeout: 600_000 }, async () => {
    const pools = 200;
    const perPool = 25;
    await env.emulator.control.seed({
      generate: { pools, serversPerPool: perPool, scopesPerServer: 1, region: 'us-east-1', identifierPrefix: 'https://big.example.com/' },
    });
    const state = await env.emulator.control.state();
    const rows = state.userPools.flatMap((pool) => pool.resourceServers.map((rs) => `${pool.id},${rs.identifier}`));
    expect(rows).toHaveLength(pools * perPool);
    const source = await env.inputFile('big.csv', ['userPoolId,identifier', ...rows].join('\n') + '\n');

    const handle = await env.start({
      source,
      execute: true,
      limits: { rate: LIMIT_BOUNDS.maxRate, poolRate: LIMIT_BOUNDS.maxRate, window: 100 },
      // Shared delete tasks (25 items each at this rate) make about 0.3 events per item: small pages and a low
      // threshold still cross several continue-as-new boundaries.
      pageSize: 100,
      continueAsNewAfterEvents: 150,
    });
    const summary = await handle.result();

    expect(summary.status).toBe('completed');
    expect(summary.counts.deleted).toBe(rows.length);
    expect(summary.missing).toBe(0);
    expect(summary.generations).toBeGreaterThanOrEqual(4);

    const stats = await env.emulator.control.stats();
    expect(stats.deletes).toHaveLength(rows.length);
    expect(new Set(stats.deletes.map((d) => `${d.userPoolId},${d.identifier}`)).size).toBe(rows.length);

    const deleted = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    const listed = deleted.map((row) => `${row.userPoolId},${row.identifier}`);
    expect(listed).toHaveLength(rows.length);
    expect(new Set(listed)).toEqual(new Set(rows));

    // No execution of the chain came near Temporal's history limits.
    const description = await handle.describe();
    expect(description.historyLength).toBeLessThan(6_000);
  });
});
