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
});
