/**
 * Backups from pool listings (cognito/server-reader.ts), against the emulator
 * through the AWS SDK: a read waits only for the page that holds its server,
 * one listing serves the pool's reads, and a server the listing does not show
 * is described. The pool's read rate is set so low that a second page cannot
 * start for 100 s: a read that waited for the whole listing would never come
 * back within the test (no timing is asserted; the emulator's counts are).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CognitoAccess } from '../../cognito/access';
import { ResourceServerReader } from '../../cognito/server-reader';
import { startEmulator, type RunningEmulator } from '../../emulator';
import { useEmulatorCredentials } from '../helpers/cleanup-env';

const POOL = 'us-east-1_Listed';
const SERVERS = 120; // three pages of 50

describe('ResourceServerReader', () => {
  let emulator: RunningEmulator;
  let cognito: CognitoAccess;
  beforeAll(async () => {
    useEmulatorCredentials();
    emulator = await startEmulator({ maxResourceServersPerPool: SERVERS });
    const slow = { rate: 20, poolRate: 0.01 }; // one read of the pool per 100 s
    cognito = new CognitoAccess({
      endpoint: emulator.url,
      budgets: { UserPoolResourceUpdate: slow, UserPoolResourceRead: slow, UserPoolClientRead: slow, UserPoolRead: slow },
    });
  });
  afterAll(async () => {
    cognito?.close();
    await emulator?.close();
  });

  it('reads a server from the first page that lists it, without waiting for the rest of the pool', async () => {
    await emulator.control.seed({
      userPools: [
        {
          id: POOL,
          name: 'listed',
          resourceServers: Array.from({ length: SERVERS }, (_, s) => ({ identifier: `https://api.example.com/s${s}`, name: `s${s}` })),
        },
      ],
    });
    const reader = new ResourceServerReader(cognito);
    const target = { userPoolId: POOL };
    const [first, tenth] = await Promise.all([reader.read(target, 'https://api.example.com/s0'), reader.read(target, 'https://api.example.com/s9')]);
    expect(first).toMatchObject({ via: 'list', server: { Identifier: 'https://api.example.com/s0', Name: 's0' }, requestId: expect.any(String) });
    expect(tenth).toMatchObject({ via: 'list', server: { Identifier: 'https://api.example.com/s9' } });
    // One page listed both; the second page waits for the pool's next read slot, 100 s away.
    const stats = await emulator.control.stats();
    expect(stats.operations.ListResourceServers).toEqual({ ok: 1 });
    expect(stats.operations.DescribeResourceServer).toBeUndefined();
  });

  it('keeps its listings within their server limit: past it the oldest pool is dropped, and listed again when read', async () => {
    const fast = { rate: 100, poolRate: 100 };
    const access = new CognitoAccess({
      endpoint: emulator.url,
      budgets: { UserPoolResourceUpdate: fast, UserPoolResourceRead: fast, UserPoolClientRead: fast, UserPoolRead: fast },
    });
    try {
      const pools = ['A', 'B'].map((p) => ({
        id: `us-east-1_Capped${p}`,
        name: `capped-${p}`,
        resourceServers: Array.from({ length: 40 }, (_, s) => ({ identifier: `https://capped.example.com/${p}/s${s}`, name: `${p}${s}` })),
      }));
      await emulator.control.seed({ userPools: pools });
      const listCalls = async () => (await emulator.control.stats()).operations.ListResourceServers?.ok ?? 0;
      const readAll = async (reader: ResourceServerReader) => {
        await reader.read({ userPoolId: 'us-east-1_CappedA' }, 'https://capped.example.com/A/s0');
        await reader.read({ userPoolId: 'us-east-1_CappedB' }, 'https://capped.example.com/B/s0');
        return reader.read({ userPoolId: 'us-east-1_CappedA' }, 'https://capped.example.com/A/s1');
      };

      await emulator.control.resetStats();
      expect(await readAll(new ResourceServerReader(access))).toMatchObject({ via: 'list' });
      expect(await listCalls()).toBe(2); // within the default limit, pool A's listing served both of its reads

      await emulator.control.resetStats();
      // 40 + 40 servers over a limit of 60: listing B drops A's listing, so A is listed again.
      expect(await readAll(new ResourceServerReader(access, { maxListedServers: 60 }))).toMatchObject({ via: 'list' });
      expect(await listCalls()).toBe(3);
      expect((await emulator.control.stats()).operations.DescribeResourceServer).toBeUndefined();
    } finally {
      access.close();
    }
  });
});
