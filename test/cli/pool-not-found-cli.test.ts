/**
 * The issue's own commands, as an operator types them: a pool that does not
 * exist as asked (another Region, another account's credentials, a typo) is
 * never reported as success. `run --execute` refuses (exit 2) and deletes
 * nothing; with --skip-missing-pools (or in a dry-run) its items end
 * pool-not-found and the run exits 1.
 */
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { csvInput, readManifestCsv, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { cliEnvironment, cliInProcess } from '../operator/helpers';

describe('a user pool that does not exist, from the command line', () => {
  let env: CleanupEnv;
  let cliEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    cliEnv = cliEnvironment(env);
  });
  afterAll(() => env?.close());
  beforeEach(async () => {
    await env.emulator.control.reset();
  });

  it('run --pair for a pool of another Region --execute --yes: refused, exit 2, nothing deleted', async () => {
    // The pool lives in us-east-1; the operator typed eu-west-1.
    await env.emulator.control.seed({ userPools: [{ id: 'us-east-1_4wQ015vzn', name: 'tenant', resourceServers: [{ identifier: 'https://x', name: 'x' }] }] });

    const result = await cliInProcess(['run', '--pair', 'eu-west-1_4wQ015vzn,https://x', '--execute', '--yes', '--audit-dir', env.auditDir], cliEnv);

    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/refused: 1 user pool\(s\) do not exist as asked \(wrong Region, wrong account or a typo\): eu-west-1_4wQ015vzn \(1 item\); nothing was deleted/);
    expect(result.stdout).toMatch(/missing pools\s+eu-west-1_4wQ015vzn \(1\)/);
    expect(result.stderr).toMatch(/^Warning: 1 user pool\(s\) do not exist as asked .*: eu-west-1_4wQ015vzn \(1 item\)\. .*nothing is deleted\.$/m);
    expect(result.stdout).not.toMatch(/already-absent\s+[1-9]/);
    expect((await env.emulator.control.stats()).deletes).toEqual([]);
  });

  it('with --skip-missing-pools the rest runs, the missing pool is a failure (exit 1) and has its own manifest file', async () => {
    const { userPools, items } = seedPools('Skip', 1, 2);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('skip-missing.csv', csvInput([...items, { userPoolId: 'us-east-1_Typo0001', identifier: 'https://api.example.com/t' }]));

    const result = await cliInProcess(['run', '--input', source.path, '--execute', '--yes', '--skip-missing-pools', '--audit-dir', env.auditDir], cliEnv);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/pool-not-found\s+1/);
    expect(result.stdout).toMatch(/deleted\s+2/);
    expect(result.stdout).toMatch(/missing pools\s+us-east-1_Typo0001 \(1\)/);
    const manifestDir = result.stdout.match(/^\s+manifest\s+(\S+)$/m)![1]!;
    const listed = await readManifestCsv(path.join(manifestDir, 'pool-not-found.csv'));
    expect(listed.map((row) => [row.userPoolId, row.identifier, row.outcome])).toEqual([['us-east-1_Typo0001', 'https://api.example.com/t', 'pool-not-found']]);
    expect((await env.emulator.control.stats()).deletes.map((d) => d.identifier).sort()).toEqual(items.map((i) => i.identifier).sort());
  });

  it('a pool of another account than the credentials: refused, not already-absent', async () => {
    // The pool belongs to account 222222222222; the worker's credentials are the default account's.
    await env.emulator.control.seed({
      userPools: [{ id: 'us-east-1_Tenant0001', name: 'tenant', accountId: '222222222222', resourceServers: [{ identifier: 'https://api.example.com/t', name: 't' }] }],
    });

    const result = await cliInProcess(['run', '--pair', 'us-east-1_Tenant0001,https://api.example.com/t', '--execute', '--yes', '--audit-dir', env.auditDir], cliEnv);

    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/refused: .*wrong account.*: us-east-1_Tenant0001 \(1 item\)/);
    expect((await env.emulator.control.stats()).deletes).toEqual([]);
  });

  it('a dry-run lists the missing pool as pool-not-found and exits 1, promising nothing for it', async () => {
    const result = await cliInProcess(['run', '--pair', 'eu-west-1_4wQ015vzn,https://x', '--json', '--audit-dir', env.auditDir], cliEnv);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout);
    expect(summary.counts).toMatchObject({ 'pool-not-found': 1, 'would-delete': 0, 'already-absent': 0 });
    expect(summary.missingPools).toEqual([{ userPoolId: 'eu-west-1_4wQ015vzn', items: 1 }]);
  });
});
