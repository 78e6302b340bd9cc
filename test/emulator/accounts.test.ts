/**
 * Accounts: access keys belong to 12-digit AWS accounts, pools to an account
 * and a Region; a pool is visible only to callers of its account through its
 * Region. Quotas hold per account and Region, and the stats say which account
 * and Region each accepted call and each delete belonged to.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateUserPoolCommand,
  DeleteResourceServerCommand,
  DescribeResourceServerCommand,
  DescribeUserPoolCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DEFAULT_ACCOUNT_ID, DEFAULT_TEST_CREDENTIALS, startEmulator, type RunningEmulator, type SeedRequest } from '../../emulator';
import { caught, sdkClient } from './helpers';

const OTHER_ACCOUNT = '111111111111';
const OTHER_KEY = { accessKeyId: 'AKIAOTHERACCOUNT0001', secretAccessKey: 'other-secret', accountId: OTHER_ACCOUNT, userName: 'other-ops' };

const server = (identifier: string) => ({ identifier, name: identifier.replace(/\W/g, '-') });

const SEED: SeedRequest = {
  credentials: [OTHER_KEY],
  userPools: [
    { id: 'us-east-1_Default1', name: 'default-east', resourceServers: [server('https://api.example.com/d1')] },
    { id: 'us-east-1_Other1', name: 'other-east', accountId: OTHER_ACCOUNT, resourceServers: [server('https://api.example.com/o1')] },
    { id: 'eu-west-1_Other2', name: 'other-west', accountId: OTHER_ACCOUNT, resourceServers: [server('https://api.example.com/o2')] },
  ],
};

describe('accounts and Regions', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.control.reset();
  });

  it('shows a pool only to callers of its account through its Region, as a missing pool otherwise', async () => {
    const seeded = await emulator.control.seed(SEED);
    expect(seeded).toMatchObject({ credentials: 1, roles: 0, resourceServers: 3 });
    expect(seeded.userPools.map((p) => [p.id, p.accountId])).toEqual([
      ['us-east-1_Default1', DEFAULT_ACCOUNT_ID],
      ['us-east-1_Other1', OTHER_ACCOUNT],
      ['eu-west-1_Other2', OTHER_ACCOUNT],
    ]);
    const defaultEast = sdkClient(emulator, { maxAttempts: 1 });
    const otherEast = sdkClient(emulator, { maxAttempts: 1, credentials: OTHER_KEY });
    const otherWest = sdkClient(emulator, { maxAttempts: 1, credentials: OTHER_KEY, region: 'eu-west-1' });
    try {
      const own = await otherEast.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Other1' }));
      expect(own.UserPool!.Arn).toBe(`arn:aws:cognito-idp:us-east-1:${OTHER_ACCOUNT}:userpool/us-east-1_Other1`);
      expect((await defaultEast.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Default1' }))).UserPool!.Arn).toContain(`:${DEFAULT_ACCOUNT_ID}:`);

      // Another account's pool, and a pool asked through another Region, do not exist.
      for (const [client, poolId] of [
        [defaultEast, 'us-east-1_Other1'],
        [otherEast, 'us-east-1_Default1'],
        [otherEast, 'eu-west-1_Other2'],
      ] as const) {
        const error = await caught(client.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://api.example.com/o1' })));
        expect(error).toMatchObject({ name: 'ResourceNotFoundException', message: `User pool ${poolId} does not exist.` });
      }
      // A missing server in a visible pool keeps its own message.
      const missingServer = await caught(otherEast.send(new DescribeResourceServerCommand({ UserPoolId: 'us-east-1_Other1', Identifier: 'https://api.example.com/none' })));
      expect(missingServer).toMatchObject({ name: 'ResourceNotFoundException', message: 'Resource server https://api.example.com/none does not exist in user pool us-east-1_Other1.' });

      const list = async (client: typeof defaultEast) => ((await client.send(new ListUserPoolsCommand({ MaxResults: 60 }))).UserPools ?? []).map((p) => p.Id);
      expect(await list(defaultEast)).toEqual(['us-east-1_Default1']);
      expect(await list(otherEast)).toEqual(['us-east-1_Other1']);
      expect(await list(otherWest)).toEqual(['eu-west-1_Other2']);

      // A pool created with a key is created in that key's account.
      const created = await otherWest.send(new CreateUserPoolCommand({ PoolName: 'made-by-other' }));
      expect(created.UserPool!.Arn).toContain(`:${OTHER_ACCOUNT}:userpool/eu-west-1_`);
      expect(await list(otherWest)).toEqual(['eu-west-1_Other2', created.UserPool!.Id]);

      await otherWest.send(new DeleteResourceServerCommand({ UserPoolId: 'eu-west-1_Other2', Identifier: 'https://api.example.com/o2' }));
      await defaultEast.send(new DeleteResourceServerCommand({ UserPoolId: 'us-east-1_Default1', Identifier: 'https://api.example.com/d1' }));
    } finally {
      for (const client of [defaultEast, otherEast, otherWest]) client.destroy();
    }
    const stats = await emulator.control.stats();
    expect(stats.deletes.map(({ time: _time, ...rest }) => rest)).toEqual([
      { userPoolId: 'eu-west-1_Other2', identifier: 'https://api.example.com/o2', accountId: OTHER_ACCOUNT, region: 'eu-west-1' },
      { userPoolId: 'us-east-1_Default1', identifier: 'https://api.example.com/d1', accountId: DEFAULT_ACCOUNT_ID, region: 'us-east-1' },
    ]);
  });

  it('keeps seeded keys and pool accounts in the state dump; a reset forgets the seeded keys', async () => {
    await emulator.control.seed(SEED);
    const dump = await emulator.control.state();
    expect(dump.userPools.map((p) => p.accountId)).toEqual([DEFAULT_ACCOUNT_ID, OTHER_ACCOUNT, OTHER_ACCOUNT]);
    expect(dump.accessKeys).toEqual([OTHER_KEY]);

    await emulator.control.reset();
    const forgotten = sdkClient(emulator, { maxAttempts: 1, credentials: OTHER_KEY });
    try {
      expect(await caught(forgotten.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Other1' })))).toMatchObject({ name: 'UnrecognizedClientException' });
      await emulator.control.loadState(dump);
      expect(await emulator.control.state()).toEqual(dump);
      expect((await forgotten.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Other1' }))).UserPool!.Name).toBe('other-east');
    } finally {
      forgotten.destroy();
    }
  });

  it('refuses a seed with a bad account, a duplicate key or a key of the config, and applies none of it', async () => {
    await expect(emulator.control.seed({ userPools: [{ name: 'p', accountId: '12345' }] })).rejects.toThrow(
      "InvalidParameterException: 1 validation error detected: Value '12345' at 'userPools.1.member.accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}",
    );
    await expect(emulator.control.seed({ credentials: [OTHER_KEY, { ...OTHER_KEY, secretAccessKey: 'x' }], userPools: [{ name: 'kept' }] })).rejects.toThrow(
      `Access key ${OTHER_KEY.accessKeyId} already exists.`,
    );
    await expect(emulator.control.seed({ credentials: [{ ...DEFAULT_TEST_CREDENTIALS, accountId: OTHER_ACCOUNT }] })).rejects.toThrow(/already exists/);
    // The secret is never echoed in a validation message.
    await expect(emulator.control.seed({ credentials: [{ accessKeyId: 'AKIABAD', secretAccessKey: '' }] })).rejects.toThrow(
      "Value at 'credentials.1.member.secretAccessKey' failed to satisfy constraint",
    );
    const state = await emulator.control.state();
    expect(state.userPools).toEqual([]);
    expect(state.accessKeys).toEqual([]);
  });

  it('adds keys of other accounts through the config too', async () => {
    await emulator.control.setConfig({ credentials: [{ accessKeyId: 'AKIACONFIGACCOUNT01', secretAccessKey: 's', accountId: OTHER_ACCOUNT }] });
    await emulator.control.seed({ userPools: [{ id: 'us-east-1_Other9', name: 'other', accountId: OTHER_ACCOUNT }] });
    const client = sdkClient(emulator, { maxAttempts: 1, credentials: { accessKeyId: 'AKIACONFIGACCOUNT01', secretAccessKey: 's' } });
    try {
      expect((await client.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Other9' }))).UserPool!.Id).toBe('us-east-1_Other9');
    } finally {
      client.destroy();
    }
    await expect(emulator.control.setConfig({ credentials: [{ accessKeyId: 'AKIAX', secretAccessKey: 's', accountId: 'abc' }] })).rejects.toThrow(
      'InvalidConfigException: credentials[0].accountId must be 12 digits',
    );
    await expect(startEmulator({ port: 0, accountId: '42' })).rejects.toThrow("accountId must be 12 digits, got '42'");
    await expect(startEmulator({ port: 0, credentials: [{ ...OTHER_KEY, accountId: '42' }] })).rejects.toThrow(
      `credentials: the accountId of ${OTHER_KEY.accessKeyId} must be 12 digits, got '42'`,
    );
  });

  it('can make another account the default one', async () => {
    const elsewhere = await startEmulator({ port: 0, quotas: false, accountId: OTHER_ACCOUNT });
    const client = sdkClient(elsewhere, { maxAttempts: 1 });
    try {
      const created = await client.send(new CreateUserPoolCommand({ PoolName: 'default-elsewhere' }));
      expect(created.UserPool!.Arn).toContain(`:${OTHER_ACCOUNT}:userpool/`);
      expect((await elsewhere.control.config()).accountId).toBe(OTHER_ACCOUNT);
      expect((await elsewhere.control.state()).userPools[0]!.accountId).toBe(OTHER_ACCOUNT);
    } finally {
      client.destroy();
      await elsewhere.close();
    }
  });
});

describe('quotas per account and Region', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    // One read per second per account and Region: a burst of concurrent calls
    // from one caller can only ever get one through in any second.
    emulator = await startEmulator({ port: 0, quotas: { categories: { UserPoolResourceRead: 1 }, perPoolPerOperation: 100 } });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('gives each account and Region its own budget, and records accepted calls per account, Region and category', async () => {
    await emulator.control.reset();
    await emulator.control.seed({
      ...SEED,
      userPools: [...SEED.userPools!, { id: 'eu-west-1_Default2', name: 'default-west', resourceServers: [server('https://api.example.com/d2')] }],
    });
    const callers = [
      { accountId: DEFAULT_ACCOUNT_ID, region: 'us-east-1', credentials: DEFAULT_TEST_CREDENTIALS, poolId: 'us-east-1_Default1', identifier: 'https://api.example.com/d1' },
      { accountId: DEFAULT_ACCOUNT_ID, region: 'eu-west-1', credentials: DEFAULT_TEST_CREDENTIALS, poolId: 'eu-west-1_Default2', identifier: 'https://api.example.com/d2' },
      { accountId: OTHER_ACCOUNT, region: 'us-east-1', credentials: OTHER_KEY, poolId: 'us-east-1_Other1', identifier: 'https://api.example.com/o1' },
      { accountId: OTHER_ACCOUNT, region: 'eu-west-1', credentials: OTHER_KEY, poolId: 'eu-west-1_Other2', identifier: 'https://api.example.com/o2' },
    ];
    const BURST = 6;
    // All four bursts at once: with one shared budget only one call of the 24 could pass per second.
    const outcomes = await Promise.all(
      callers.map(async (caller) => {
        const client = sdkClient(emulator, { maxAttempts: 1, region: caller.region, credentials: caller.credentials });
        try {
          const results = await Promise.all(
            Array.from({ length: BURST }, () =>
              client.send(new DescribeResourceServerCommand({ UserPoolId: caller.poolId, Identifier: caller.identifier })).then(
                () => 'ok',
                (error: Error) => error.name,
              ),
            ),
          );
          return { caller, ok: results.filter((r) => r === 'ok').length, throttled: results.filter((r) => r === 'TooManyRequestsException').length };
        } finally {
          client.destroy();
        }
      }),
    );

    const stats = await emulator.control.stats();
    for (const { caller, ok, throttled } of outcomes) {
      expect(ok + throttled).toBe(BURST);
      // Each account and Region had a budget of its own: its first call got through.
      expect(ok).toBeGreaterThanOrEqual(1);
      const seen = stats.accepted.perSecond.map((s) => s.accounts[caller.accountId]?.[caller.region]?.UserPoolResourceRead ?? 0);
      expect(seen.reduce((a, b) => a + b, 0)).toBe(ok);
      expect(Math.max(...seen)).toBeLessThanOrEqual(1);
      expect(stats.accepted.perSecond.reduce((n, s) => n + (s.pools[caller.poolId]?.DescribeResourceServer ?? 0), 0)).toBe(ok);
    }
    // `categories` stays the sum over every account and Region.
    const total = (s: (typeof stats.accepted.perSecond)[number]) =>
      Object.values(s.accounts).flatMap((regions) => Object.values(regions)).reduce((n, categories) => n + (categories.UserPoolResourceRead ?? 0), 0);
    for (const second of stats.accepted.perSecond) expect(second.categories.UserPoolResourceRead ?? 0).toBe(total(second));
    expect(stats.operations.DescribeResourceServer).toEqual({
      ok: outcomes.reduce((n, o) => n + o.ok, 0),
      TooManyRequestsException: outcomes.reduce((n, o) => n + o.throttled, 0),
    });
  });

  it('keeps the per-pool limit per pool', async () => {
    await emulator.control.reset();
    await emulator.control.setConfig({ quotas: { categories: { UserPoolResourceRead: 100 }, perPoolPerOperation: 1 } });
    try {
      await emulator.control.seed({ userPools: [SEED.userPools![0]!, { id: 'us-east-1_Default3', name: 'default-3', resourceServers: [server('https://api.example.com/d3')] }] });
      const client = sdkClient(emulator, { maxAttempts: 1 });
      const targets = [
        ['us-east-1_Default1', 'https://api.example.com/d1'],
        ['us-east-1_Default3', 'https://api.example.com/d3'],
      ] as const;
      try {
        await Promise.all(
          targets.flatMap(([poolId, identifier]) =>
            Array.from({ length: 5 }, () => client.send(new DescribeResourceServerCommand({ UserPoolId: poolId, Identifier: identifier })).catch(() => undefined)),
          ),
        );
      } finally {
        client.destroy();
      }
      const stats = await emulator.control.stats();
      for (const [poolId] of targets) {
        const seen = stats.accepted.perSecond.map((s) => s.pools[poolId]?.DescribeResourceServer ?? 0);
        expect(seen.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
        expect(Math.max(...seen)).toBeLessThanOrEqual(1);
      }
    } finally {
      await emulator.control.setConfig({ quotas: { categories: { UserPoolResourceRead: 1 }, perPoolPerOperation: 100 } });
    }
  });
});
