/**
 * `rs-cleanup discover` in-process against the emulator: several --pool
 * flags, --all-pools over Regions (ListUserPools paging, only the caller's
 * account), usage errors, and no CSV at all when a pool cannot be listed.
 * (The single-pool CLI run is in test/operator/commands.test.ts.)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discoverCommand, type DiscoverOptions } from '../../cli/discover';
import { UsageError } from '../../cli/exit-codes';
import { readInputFile } from '../../common/input-reader';
import { DEFAULT_TEST_CREDENTIALS, startEmulator, type RunningEmulator } from '../../emulator';
import { capturedIo } from '../helpers/cli-io';

const servers = (tenants: string[]) => tenants.map((tenant) => ({ identifier: `https://api.example.com/${tenant}`, name: tenant.replace(/\//g, '-') }));

describe('discover over several pools', () => {
  let emulator: RunningEmulator;
  let directory: string;
  const saved: Record<string, string | undefined> = {};
  const ENV = ['COGNITO_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION'];

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    directory = mkdtempSync(path.join(tmpdir(), 'discover-'));
    for (const name of ENV) saved[name] = process.env[name];
    // discover builds its clients from the environment, as the CLI does.
    Object.assign(process.env, { COGNITO_ENDPOINT: emulator.url, AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_REGION;
  });
  afterAll(async () => {
    for (const name of ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await emulator?.close();
    rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await emulator.control.reset();
    delete process.env.AWS_REGION;
  });

  async function discover(options: Partial<DiscoverOptions>) {
    const io = capturedIo({ env: process.env });
    const code = await discoverCommand({ pools: [], json: false, ...options }, io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  }

  it('lists the pools given with several --pool flags, in order, into one valid input', async () => {
    await emulator.control.seed({
      userPools: [
        { id: 'us-east-1_Several1', name: 'a', resourceServers: servers(['tenant-1/a', 'tenant-2/a']) },
        { id: 'us-east-1_Several2', name: 'b', resourceServers: servers(['tenant-1/b']) },
        { id: 'eu-west-1_Several3', name: 'c', resourceServers: servers(['tenant-1/c', 'tenant-3/c']) },
      ],
    });
    const output = path.join(directory, 'several.csv');
    const result = await discover({ pools: ['eu-west-1_Several3', 'us-east-1_Several1', 'eu-west-1_Several3'], match: '/tenant-1/', output });

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('2 of 4 resource servers in 2 user pools match; written to');
    const parsed = await readInputFile(output);
    expect(parsed.errors).toEqual([]);
    expect(parsed.items.map((i) => [i.userPoolId, i.identifier])).toEqual([
      ['eu-west-1_Several3', 'https://api.example.com/tenant-1/c'],
      ['us-east-1_Several1', 'https://api.example.com/tenant-1/a'],
    ]);

    const json = await discover({ pools: ['us-east-1_Several1', 'us-east-1_Several2'], json: true });
    expect(JSON.parse(json.stdout)).toEqual({
      userPoolIds: ['us-east-1_Several1', 'us-east-1_Several2'],
      listed: 3,
      matched: [
        { userPoolId: 'us-east-1_Several1', identifier: 'https://api.example.com/tenant-1/a', name: 'tenant-1-a' },
        { userPoolId: 'us-east-1_Several1', identifier: 'https://api.example.com/tenant-2/a', name: 'tenant-2-a' },
        { userPoolId: 'us-east-1_Several2', identifier: 'https://api.example.com/tenant-1/b', name: 'tenant-1-b' },
      ],
      output: null,
    });
    // One pool keeps the single-pool answer.
    expect(JSON.parse((await discover({ pools: ['us-east-1_Several2'], json: true })).stdout)).toMatchObject({ userPoolId: 'us-east-1_Several2', listed: 1 });
  });

  it('with --all-pools lists every pool of the account in each --region (more than one ListUserPools page), or in AWS_REGION', async () => {
    await emulator.control.seed({
      generate: { pools: 61, serversPerPool: 1, scopesPerServer: 0, region: 'us-east-1', identifierPrefix: 'https://api.example.com/east/' },
    });
    await emulator.control.seed({
      userPools: [
        { id: 'eu-west-1_AllPools1', name: 'west', resourceServers: servers(['west/tenant-9']) },
        // Another account's pool is not the caller's to list.
        { id: 'eu-west-1_Foreign1', name: 'foreign', accountId: '111111111111', resourceServers: servers(['foreign/tenant-9']) },
      ],
    });
    const output = path.join(directory, 'all.csv');
    const result = await discover({ allPools: true, regions: ['us-east-1', 'eu-west-1'], output });

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('62 of 62 resource servers in 62 user pools of us-east-1, eu-west-1 match');
    const parsed = await readInputFile(output);
    expect(parsed.errors).toEqual([]);
    expect(parsed.items).toHaveLength(62);
    expect(parsed.items[60]!.identifier).toBe('https://api.example.com/east/pool-61/server-1');
    expect(parsed.items[61]).toMatchObject({ userPoolId: 'eu-west-1_AllPools1', identifier: 'https://api.example.com/west/tenant-9' });
    expect((await emulator.control.stats()).operations.ListUserPools).toEqual({ ok: 3 });

    process.env.AWS_REGION = 'eu-west-1';
    const fromEnvironment = await discover({ allPools: true, match: 'tenant-9' });
    expect(fromEnvironment.code).toBe(0);
    expect(fromEnvironment.stdout).toBe('userPoolId,identifier,name\neu-west-1_AllPools1,https://api.example.com/west/tenant-9,west-tenant-9\n');
  });

  it('refuses unclear flags with a one-line usage error', async () => {
    const refused = (options: Partial<DiscoverOptions>) => discover(options).then(
      () => {
        throw new Error('expected a usage error');
      },
      (error: Error) => {
        expect(error).toBeInstanceOf(UsageError);
        return error.message;
      },
    );
    expect(await refused({})).toBe('give --pool (repeatable) or --all-pools');
    expect(await refused({ pools: ['us-east-1_A'], allPools: true })).toBe('give either --pool or --all-pools, not both');
    expect(await refused({ pools: ['us-east-1_A'], regions: ['us-east-1'] })).toBe("--region goes with --all-pools; a pool's Region is the prefix of its ID");
    expect(await refused({ allPools: true })).toBe('--all-pools needs --region (repeatable) or AWS_REGION');
    expect(await refused({ allPools: true, regions: ['useast1'] })).toBe("--region: 'useast1' is not an AWS Region name (expected a name like us-east-1)");
    expect(await refused({ pools: ['us-east-1_A', 'not a pool'] })).toMatch(/^--pool 'not a pool': /);
  });

  it('writes nothing when one of the pools cannot be listed, and names it', async () => {
    await emulator.control.seed({ userPools: [{ id: 'us-east-1_Present1', name: 'present', resourceServers: servers(['tenant-1']) }] });
    const output = path.join(directory, 'partial.csv');
    const result = await discover({ pools: ['us-east-1_Present1', 'us-east-1_Missing1'], output });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('rs-cleanup: ListResourceServers on us-east-1_Missing1 failed: ResourceNotFoundException: User pool us-east-1_Missing1 does not exist.\n');
    expect(existsSync(output)).toBe(false);
    expect(result.stdout).toBe('');

    await emulator.control.setConfig({ policies: { [DEFAULT_TEST_CREDENTIALS.accessKeyId]: { deny: ['ListUserPools'] } } });
    try {
      const denied = await discover({ allPools: true, regions: ['us-east-1'], output });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/^rs-cleanup: ListUserPools in us-east-1 failed: AccessDeniedException: User: .* is not authorized to perform: cognito-idp:ListUserPools/);
      expect(existsSync(output)).toBe(false);
    } finally {
      await emulator.control.setConfig({ policies: {} });
    }
  });
});
