/**
 * A run across AWS accounts and Regions, end to end: an accountId column, a
 * role assumed in each account (`arn:aws:iam::{accountId}:role/rs-cleanup`,
 * with an external ID) through STS on the emulator, each server deleted in its
 * own account, one limiter per (account, Region), credentials assumed once per
 * account, and a role that cannot be assumed failing its items clearly (and
 * nothing else).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeedUserPool } from '../../emulator';
import { DEFAULT_CATEGORY_LIMITS, DEFAULT_PER_POOL_PER_OPERATION } from '../../emulator';
import { busiestWindow, readJsonLines, readManifestCsv, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';

const ROLE = 'arn:aws:iam::{accountId}:role/rs-cleanup';
const EXTERNAL_ID = 'offboarding-2026';
const ACCOUNTS = ['111111111111', '222222222222'];
const DENIED_ACCOUNT = '333333333333';
const REGIONS = ['us-east-1', 'eu-west-1'];
const roleOf = (account: string) => ROLE.replace('{accountId}', account);

function pools(): (SeedUserPool & { id: string; accountId: string })[] {
  const seeded: (SeedUserPool & { id: string; accountId: string })[] = [];
  for (const [a, accountId] of [...ACCOUNTS, DENIED_ACCOUNT].entries()) {
    for (const [r, region] of REGIONS.entries()) {
      for (let p = 0; p < 2; p++) {
        const id = `${region}_Acct${a}R${r}P${p}`;
        seeded.push({
          id,
          name: `acct-${a}-${region}-${p}`,
          accountId,
          resourceServers: Array.from({ length: 6 }, (_, s) => ({ identifier: `https://api.example.com/${id}/s${s}`, name: `s${s}` })),
        });
      }
    }
  }
  return seeded;
}

describe('a run across accounts and Regions', () => {
  let env: CleanupEnv;
  beforeAll(async () => {
    // Quotas on, as Cognito: each (account, Region) has its own 15 deletes/s.
    env = await startCleanupEnv();
  });
  afterAll(() => env?.close());

  it('deletes each server in its own account through the role assumed there; an account whose role cannot be assumed fails only its items', async () => {
    const seeded = pools();
    await env.emulator.control.seed({
      userPools: seeded,
      // The worker's own account (the default test key's) is trusted by both roles; no role exists in the third account.
      roles: ACCOUNTS.map((account) => ({ arn: roleOf(account), externalId: EXTERNAL_ID })),
    });
    const rows = seeded.flatMap((pool) => pool.resourceServers!.map((rs) => ({ accountId: pool.accountId, userPoolId: pool.id, identifier: rs.identifier })));
    const csv = ['accountId,userPoolId,identifier,ticket', ...rows.map((r) => `${r.accountId},${r.userPoolId},${r.identifier},T-1`)].join('\n') + '\n';
    const reachable = rows.filter((r) => r.accountId !== DENIED_ACCOUNT);
    const denied = rows.filter((r) => r.accountId === DENIED_ACCOUNT);

    const summary = await env.run({
      source: await env.inputFile('accounts.csv', csv),
      execute: true,
      accounts: { assumeRoleArn: ROLE, externalId: EXTERNAL_ID },
    });

    expect(summary.status).toBe('completed');
    expect(summary.counts).toMatchObject({ deleted: reachable.length, failed: denied.length, 'already-absent': 0, 'pool-not-found': 0 });

    // Each server deleted once, in its own account and Region.
    const stats = await env.emulator.control.stats();
    expect(stats.deletes).toHaveLength(reachable.length);
    const accountOf = new Map(rows.map((r) => [r.identifier, r.accountId]));
    for (const d of stats.deletes) {
      expect(d.accountId).toBe(accountOf.get(d.identifier));
      expect(d.region).toBe(d.userPoolId.split('_')[0]);
    }
    expect(new Set(stats.deletes.map((d) => d.identifier)).size).toBe(reachable.length);
    const state = await env.emulator.control.state();
    for (const pool of state.userPools) expect(pool.resourceServers).toHaveLength(pool.accountId === DENIED_ACCOUNT ? 6 : 0);

    // One limiter per (account, Region): four keys of deletes, none of them ever above its budget, nor any pool.
    const deletes = env.starts.filter((s) => s.category === 'UserPoolResourceUpdate');
    const keys = new Set(deletes.map((s) => `${s.account}/${s.region}`));
    expect([...keys].sort()).toEqual(ACCOUNTS.flatMap((a) => REGIONS.map((r) => `${a}/${r}`)).sort());
    for (const key of keys) expect(busiestWindow(deletes, (s) => `${s.account}/${s.region}` === key)).toBeLessThanOrEqual(15);
    // And Cognito never accepted more than its quota in any (account, Region) or pool.
    for (const second of stats.accepted.perSecond) {
      for (const regions of Object.values(second.accounts)) {
        for (const categories of Object.values(regions)) {
          expect(categories.UserPoolResourceUpdate ?? 0).toBeLessThanOrEqual(DEFAULT_CATEGORY_LIMITS.UserPoolResourceUpdate);
        }
      }
      for (const operations of Object.values(second.pools)) {
        expect(operations.DeleteResourceServer ?? 0).toBeLessThanOrEqual(DEFAULT_PER_POOL_PER_OPERATION);
      }
    }

    // Credentials assumed once per account and shared by its Regions; the denied role asked once, not per item.
    for (const account of ACCOUNTS) expect(stats.assumeRole[roleOf(account)]).toEqual({ ok: 1 });
    expect(stats.assumeRole[roleOf(DENIED_ACCOUNT)]).toEqual({ AccessDenied: 1 });

    // The denied account's items failed without a call, naming the role; the manifest and the audit name each account.
    const failed = await readManifestCsv(path.join(summary.manifestDir!, 'failed.csv'));
    expect(failed).toHaveLength(denied.length);
    for (const row of failed) {
      expect(row).toMatchObject({ accountId: DENIED_ACCOUNT, errorCode: 'AccessDenied', attempts: '0' });
      expect(row.errorMessage).toContain(roleOf(DENIED_ACCOUNT));
    }
    const deletedCsv = await readManifestCsv(path.join(summary.manifestDir!, 'deleted.csv'));
    expect(deletedCsv.map((r) => `${r.accountId} ${r.identifier}`).sort()).toEqual(reachable.map((r) => `${r.accountId} ${r.identifier}`).sort());
    expect(deletedCsv[0]).toHaveProperty('ticket', 'T-1');
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    const deletedAttempts = audit.filter((r) => r.event === 'attempt' && r.outcome === 'deleted');
    expect(deletedAttempts).toHaveLength(reachable.length);
    for (const record of deletedAttempts) expect(record.accountId).toBe(accountOf.get(record.identifier));
    const backups = await readJsonLines<{ identifier: string; accountId: string }>(path.join(summary.manifestDir!, 'backups.jsonl'));
    for (const backup of backups) expect(backup.accountId).toBe(accountOf.get(backup.identifier));
  });
});
