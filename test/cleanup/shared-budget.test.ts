/**
 * Two runs at once on one worker share the worker's budget: a run's --rate
 * caps its own share and never overwrites the worker's limiter, and together
 * they never exceed the budget. Checked against the limiter's own record of
 * every start (its clock, its windows) and the emulator's enforced quotas;
 * no wall-clock assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busiestSecond, busiestWindow, csvInput, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';

const BUDGET = 15;
const POOL_BUDGET = 5;
const CAPPED = 3;

describe('two runs on one worker', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    // Quotas on at Cognito's defaults (15/s per account and Region, 5/s per pool); the worker's budget is the same.
    env = await startCleanupEnv({ activities: { deleteRates: { rate: BUDGET, poolRate: POOL_BUDGET } } });
  });
  afterAll(() => env?.close());

  it("share the worker's budget: the capped run keeps to its cap, the other is not held to it, together never above the budget", async () => {
    const capped = seedPools('Capped', 4, 10);
    const free = seedPools('Free', 8, 10);
    await env.emulator.control.seed({ userPools: [...capped.userPools, ...free.userPools] });
    const cappedRun = await env.start({
      source: await env.inputFile('capped.csv', csvInput(capped.items)),
      execute: true,
      limits: { rate: CAPPED, poolRate: 1, window: 20 },
    });
    const freeRun = await env.start({ source: await env.inputFile('free.csv', csvInput(free.items)), execute: true, limits: { window: 40 } });
    const [cappedSummary, freeSummary] = await Promise.all([cappedRun.result(), freeRun.result()]);

    // Exact: every item of each run deleted once.
    expect(cappedSummary.counts).toMatchObject({ deleted: capped.items.length, failed: 0 });
    expect(freeSummary.counts).toMatchObject({ deleted: free.items.length, failed: 0 });
    const stats = await env.emulator.control.stats();
    const deleted = stats.deletes.map((d) => d.identifier);
    expect(new Set(deleted).size).toBe(capped.items.length + free.items.length);

    // The limiter's record of every DeleteResourceServer start (deletes are retried, so there may be more starts than items).
    const deletes = env.starts.filter((s) => s.category === 'UserPoolResourceUpdate');
    const ofRun = (workflowId: string) => (s: { share: string }) => s.share === workflowId;
    expect(deletes.filter(ofRun(cappedRun.workflowId)).length).toBeGreaterThanOrEqual(capped.items.length);
    expect(deletes.filter(ofRun(freeRun.workflowId)).length).toBeGreaterThanOrEqual(free.items.length);
    // Together within the worker's budget, in every window and every pool.
    expect(busiestWindow(deletes, () => true)).toBeLessThanOrEqual(BUDGET);
    for (const pool of [...capped.userPools, ...free.userPools]) {
      expect(busiestWindow(deletes, (s) => s.userPoolId === pool.id)).toBeLessThanOrEqual(POOL_BUDGET);
    }
    // The capped run within its cap (3/s, 1/s per pool)...
    expect(busiestWindow(deletes, ofRun(cappedRun.workflowId))).toBeLessThanOrEqual(CAPPED);
    for (const pool of capped.userPools) {
      expect(busiestWindow(deletes, (s) => s.share === cappedRun.workflowId && s.userPoolId === pool.id)).toBeLessThanOrEqual(1);
    }
    // ...and its cap is not the other run's: that one started more than 3 in some window (it had 80 items and 40 in flight).
    expect(busiestWindow(deletes, ofRun(freeRun.workflowId))).toBeGreaterThan(CAPPED);

    // Cognito (quotas on) never accepted more than its quotas.
    expect(busiestSecond(stats.accepted.perSecond, { category: 'UserPoolResourceUpdate' })).toBeLessThanOrEqual(BUDGET);
    for (const pool of [...capped.userPools, ...free.userPools]) {
      expect(busiestSecond(stats.accepted.perSecond, { pool: pool.id, operation: 'DeleteResourceServer' })).toBeLessThanOrEqual(POOL_BUDGET);
    }
  });
});
