/**
 * The dependency check (activities/check-dependencies.ts) over many pools,
 * against the emulator through the AWS SDK:
 * - more pools than it checks at once: every pool is asked about, the items in
 *   use are annotated and listed in in-use.csv, missing pools counted, and a
 *   protected item is never reported in use;
 * - cancelled (a worker shutting down, Ctrl-C in the CLI) while its calls wait
 *   in the limiter: it ends with the cancellation, without asking about the
 *   pools it had not reached. The client-read rate is one call per pool per
 *   100 s, so a check that ignored the cancel would not end within the test;
 *   what is asserted is what the emulator was asked, never a duration.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS_AT_ONCE, createCheckDependencies, type DependencyCheckResult } from '../../activities/check-dependencies';
import { CognitoAccess } from '../../cognito/access';
import type { RateSettings } from '../../cognito/rate-limiter';
import { planItems, writePlanFile } from '../../common/plan-file';
import type { CleanupItem, RunContext } from '../../common/types';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { useEmulatorCredentials } from '../helpers/cleanup-env';
import { waitFor } from '../helpers/wait-for';

describe('checkDependencies over many pools', () => {
  let emulator: RunningEmulator;
  let tempDir: string;
  let runs = 0;
  beforeAll(async () => {
    useEmulatorCredentials();
    emulator = await startEmulator({ quotas: false });
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-depcheck-'));
  });
  afterAll(async () => {
    await emulator?.close();
    await fs.rm(tempDir, { recursive: true, force: true });
  });

  function access(clientReads: RateSettings): CognitoAccess {
    const fast = { rate: 1_000, poolRate: 1_000 };
    return new CognitoAccess({
      endpoint: emulator.url,
      budgets: { UserPoolResourceUpdate: fast, UserPoolResourceRead: fast, UserPoolClientRead: clientReads, UserPoolRead: fast },
    });
  }

  /** `pools` pools of two servers each, both used by the pool's one app client; a plan of both servers of each. */
  async function setUp(pools: number, extra: CleanupItem[] = []) {
    await emulator.control.reset();
    const seeded = await emulator.control.seed({
      generate: { pools, serversPerPool: 2, scopesPerServer: 1, clientsPerPool: 1, region: 'us-east-1', identifierPrefix: 'https://dep.example.com/' },
    });
    const ids = seeded.userPools.map((p) => p.id);
    const items: CleanupItem[] = ids.flatMap((id, p) => [1, 2].map((s, i) => ({ userPoolId: id, identifier: `https://dep.example.com/pool-${p + 1}/server-${s}`, row: 2 + 2 * p + i })));
    const runDir = path.join(tempDir, `run-${++runs}`);
    const plan = await writePlanFile(path.join(runDir, 'plan.jsonl'), [...items, ...extra]);
    const run: RunContext = { workflowId: `dep-${runs}`, runId: 'r1', runDir, execute: false };
    return { ids, items, run, plan: { path: plan.path, sha256: plan.sha256 } };
  }

  it(`asks about every pool, ${CHECKS_AT_ONCE} at a time, and reports what is in use as it streams the plan`, async () => {
    const pools = CHECKS_AT_ONCE + 6;
    const protectedItem: CleanupItem = { userPoolId: 'us-east-1_Missing1', identifier: 'https://dep.example.com/gone', row: 900, protectedBy: 'gone' };
    const missing: CleanupItem[] = [1, 2, 3].map((n) => ({ userPoolId: 'us-east-1_Missing0', identifier: `https://dep.example.com/missing/${n}`, row: 1000 + n }));
    const { items, run, plan } = await setUp(pools, [...missing, protectedItem]);
    const cognito = access({ rate: 1_000, poolRate: 1_000 });
    try {
      const check = createCheckDependencies({ cognito });
      const result: DependencyCheckResult = await new MockActivityEnvironment().run(check, { run, plan });
      expect(result).toMatchObject({ inUse: 2 * pools, poolsChecked: pools + 1, clientsChecked: pools, missingPools: [{ userPoolId: 'us-east-1_Missing0', items: 3 }] });
      expect(result.sample).toHaveLength(10);
      const stats = await emulator.control.stats();
      expect(stats.operations.ListUserPoolClients).toEqual({ ok: pools, ResourceNotFoundException: 1 });
      // Every server of the pools is in use (annotated, and in the report); the missing pool's and the protected one are not.
      const annotated: CleanupItem[] = [];
      for await (const item of planItems(result.plan)) annotated.push(item);
      expect(annotated.filter((i) => i.inUseBy).map((i) => i.identifier).sort()).toEqual(items.map((i) => i.identifier).sort());
      expect(annotated.filter((i) => !i.inUseBy)).toHaveLength(missing.length + 1);
      const report = (await fs.readFile(result.report!, 'utf8')).trim().split('\n');
      expect(report[0]).toBe('userPoolId,identifier,clients');
      expect(report).toHaveLength(2 * pools + 1);
      expect(report.slice(1).every((line) => /,https:\/\/dep\.example\.com\/pool-\d+\/server-[12],generated-client-1 \(/.test(line))).toBe(true);
    } finally {
      cognito.close();
    }
  });

  it('ends with the cancellation while its calls wait in the limiter, without asking about the other pools', async () => {
    const pools = 8;
    const { run, plan } = await setUp(pools);
    // One client read per 100 s for the whole key: the first pool's List goes at once, then the check waits.
    const cognito = access({ rate: 0.01, poolRate: 0.01 });
    try {
      const environment = new MockActivityEnvironment();
      const check = createCheckDependencies({ cognito });
      const running = environment.run(check, { run, plan });
      running.catch(() => undefined);
      await waitFor(async () => (await emulator.control.stats()).operations.ListUserPoolClients?.ok ?? 0, (listed) => listed >= 1, 'the first ListUserPoolClients');
      environment.cancel('WORKER_SHUTDOWN');
      await expect(running).rejects.toBeInstanceOf(CancelledFailure);
      const stats = await emulator.control.stats();
      expect(stats.operations.ListUserPoolClients).toEqual({ ok: 1 });
      expect(stats.operations.DescribeUserPoolClient).toBeUndefined();
      await expect(fs.access(path.join(run.runDir, 'plan-checked.jsonl'))).rejects.toThrow();
    } finally {
      cognito.close();
    }
  });
});
