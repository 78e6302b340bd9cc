/**
 * A user pool that does not exist (wrong Region, wrong account, a typo) is not
 * "already absent": its items end `pool-not-found`, a failure, and an execute
 * run refuses to start unless told to skip such pools.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CognitoIdentityProviderClient, DeleteUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import { pauseUpdate, progressQuery, resumeSignal } from '../../workflows/cleanup';
import { exitCodeOf } from '../../cli/follow-run';
import { restoreBackups } from '../../cli/restore';
import { readInputFile } from '../../common/input-reader';
import { csvInput, readJsonLines, readManifestCsv, seedPools, useCleanupSuite, type CleanupEnv } from '../helpers/cleanup-env';
import { waitFor } from '../helpers/wait-for';

describe('pools that do not exist', () => {
  let env: CleanupEnv;
  useCleanupSuite((started) => (env = started), { emulator: { quotas: false } });

  // A pool of another Region (the case) and a pool that exists nowhere.
  const absentItems = [
    { userPoolId: 'eu-west-1_4wQ015vzn', identifier: 'https://x' },
    { userPoolId: 'us-east-1_Nowhere01', identifier: 'https://api.example.com/a' },
    { userPoolId: 'us-east-1_Nowhere01', identifier: 'https://api.example.com/b' },
  ];

  it('refuses an execute run naming the missing pools; nothing is deleted', async () => {
    const { userPools, items } = seedPools('Here', 1, 3);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('missing-refused.csv', csvInput([...items, ...absentItems]));

    const handle = await env.start({ source, execute: true });
    const summary = await handle.result();

    expect(summary.status).toBe('refused');
    expect(summary.stopReason).toContain('eu-west-1_4wQ015vzn');
    expect(summary.stopReason).toContain('us-east-1_Nowhere01');
    expect(summary.missingPools).toEqual(
      expect.arrayContaining([
        { userPoolId: 'eu-west-1_4wQ015vzn', items: 1 },
        { userPoolId: 'us-east-1_Nowhere01', items: 2 },
      ]),
    );
    expect(exitCodeOf(summary)).toBe(2);
    const progress = await handle.query(progressQuery);
    expect(progress.missingPools?.map((p) => p.userPoolId).sort()).toEqual(['eu-west-1_4wQ015vzn', 'us-east-1_Nowhere01']);
    const stats = await env.emulator.control.stats();
    expect(stats.deletes).toEqual([]);
    expect(stats.operations.DeleteResourceServer).toBeUndefined();
    // Even a refused run lists every item once in its manifest.
    expect(summary.counts['pool-not-found']).toBe(absentItems.length);
    expect(summary.counts.cancelled).toBe(items.length);
  });

  it('with skipMissingPools, ends their items pool-not-found without a call, deletes the rest, exits 1', async () => {
    const { userPools, items } = seedPools('Skip', 1, 3);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('missing-skip.csv', csvInput([...items, ...absentItems]));

    const summary = await env.run({ source, execute: true, skipMissingPools: true });

    expect(summary.status).toBe('completed');
    expect(summary.counts).toMatchObject({ deleted: items.length, 'pool-not-found': absentItems.length, 'already-absent': 0, failed: 0 });
    expect(exitCodeOf(summary)).toBe(1);
    const stats = await env.emulator.control.stats();
    expect(stats.deletes).toHaveLength(items.length);
    // One ListUserPoolClients per missing pool (the check), never a Describe or Delete for them.
    expect((stats.operations.DescribeResourceServer?.ResourceNotFoundException ?? 0) + (stats.operations.DeleteResourceServer?.ResourceNotFoundException ?? 0)).toBe(0);
    const listed = path.join(summary.manifestDir!, 'pool-not-found.csv');
    const rows = await readManifestCsv(listed);
    expect(rows.map((r) => r.identifier).sort()).toEqual(absentItems.map((i) => i.identifier).sort());
    expect(rows.every((r) => /does not exist/.test(r.reason!))).toBe(true);
    // pool-not-found.csv is itself a valid input.
    const reread = await readInputFile(listed);
    expect(reread.errors).toEqual([]);
    expect(reread.items).toHaveLength(absentItems.length);
    const audit = await readJsonLines<Record<string, any>>(summary.auditFile!);
    expect(audit.filter((r) => r.event === 'outcome' && r.outcome === 'pool-not-found')).toHaveLength(absentItems.length);
  });

  it('a dry-run reports pool-not-found instead of refusing', async () => {
    const { userPools, items } = seedPools('DryMiss', 1, 2);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('missing-dry.csv', csvInput([...items, ...absentItems]));

    const summary = await env.run({ source, execute: false });

    expect(summary.status).toBe('completed');
    expect(summary.counts).toMatchObject({ 'would-delete': items.length, 'pool-not-found': absentItems.length, 'already-absent': 0 });
  });

  it('an item whose pool is deleted during the run ends pool-not-found, not already-absent', async () => {
    const { userPools, items } = seedPools('Gone', 2, 6);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('pool-gone.csv', csvInput(items));
    const handle = await env.start({ source, execute: true, limits: { rate: 2, poolRate: 1, window: 2 } });
    await waitFor(() => handle.query(progressQuery), (p) => p.done >= 2, 'a few items done');
    await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'delete a pool under the run' }] });
    const cognito = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: env.emulator.url, credentials: DEFAULT_TEST_CREDENTIALS });
    await cognito.send(new DeleteUserPoolCommand({ UserPoolId: userPools[0]!.id }));
    cognito.destroy();
    await handle.signal(resumeSignal);

    const summary = await handle.result();
    const deletedFromGone = (await env.emulator.control.stats()).deletes.filter((d) => d.userPoolId === userPools[0]!.id).length;
    expect(summary.counts['pool-not-found']).toBe(6 - deletedFromGone);
    expect(summary.counts['already-absent']).toBe(0);
    expect(summary.counts.deleted).toBe(6 + deletedFromGone);
  });

  it('restore does not promise would-restore for a pool that does not exist', async () => {
    const { userPools } = seedPools('Restore', 1, 1);
    await env.emulator.control.seed({ userPools: [{ ...userPools[0]!, resourceServers: [] }] });
    process.env.COGNITO_ENDPOINT = env.emulator.url;
    const scopes = [{ ScopeName: 'read', ScopeDescription: 'r' }];
    const results = await restoreBackups(
      [
        { userPoolId: userPools[0]!.id, identifier: 'https://api.example.com/back', name: 'back', scopes },
        { userPoolId: 'us-east-1_Nowhere01', identifier: 'https://api.example.com/a', name: 'a', scopes },
        { userPoolId: 'us-east-1_Nowhere01', identifier: 'https://api.example.com/b', name: 'b', scopes },
      ],
      false,
      process.env,
    );
    expect(results.map((r) => [r.identifier, r.outcome])).toEqual([
      ['https://api.example.com/back', 'would-restore'],
      ['https://api.example.com/a', 'pool-not-found'],
      ['https://api.example.com/b', 'pool-not-found'],
    ]);
    const executed = await restoreBackups([{ userPoolId: 'us-east-1_Nowhere01', identifier: 'https://api.example.com/a', name: 'a', scopes }], true, process.env);
    expect(executed[0]!.outcome).toBe('pool-not-found');
    // Nothing was created, and the missing pool was checked once per call, not once per item.
    const stats = await env.emulator.control.stats();
    expect(stats.operations.CreateResourceServer).toBeUndefined();
    expect(stats.operations.ListResourceServers?.ResourceNotFoundException).toBe(2);
  });
});
