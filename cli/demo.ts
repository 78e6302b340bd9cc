/**
 * `npm run demo`: the whole job on its embedded default. Starts the local
 * Cognito emulator with Cognito's real quotas plus some injected throttling
 * and internal errors, seeds 12 user pools with 25 resource servers each, and
 * runs a real `--execute` cleanup of examples/offboarding.csv against it.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { dataDirectory } from './embedded-temporal';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type SeedUserPool } from '../emulator';
import { runCommand } from './run';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';

const EXAMPLE_INPUT = path.join(__dirname, '..', 'examples', 'offboarding.csv');

export function demoPools(): SeedUserPool[] {
  return Array.from({ length: 12 }, (_, p) => ({
    id: `us-east-1_DemoPool${String(p + 1).padStart(2, '0')}`,
    name: `demo-pool-${p + 1}`,
    resourceServers: Array.from({ length: 25 }, (_, s) => {
      const tenant = `tenant-${String(p + 1).padStart(2, '0')}${String(s + 1).padStart(2, '0')}`;
      return {
        identifier: `https://api.example.com/${tenant}`,
        name: tenant,
        scopes: [
          { ScopeName: 'read', ScopeDescription: `read ${tenant}` },
          { ScopeName: 'write', ScopeDescription: `write ${tenant}` },
        ],
      };
    }),
    // One app client still uses an offboarded tenant's scope: the dependency check skips that server.
    ...(p === 2
      ? { clients: [{ clientName: 'billing-portal', allowedOAuthScopes: ['https://api.example.com/tenant-0305/read'] }] }
      : {}),
  }));
}

export async function demoCommand(io: CommandIo): Promise<number> {
  const emulator = await startEmulator({
    faultSeed: 20261127,
    faults: {
      operations: { DeleteResourceServer: { throttle: 0.02, internalError: 0.01 } },
      // Another application in the account uses 3 of the 15 deletes per second.
      backgroundLoad: { UserPoolResourceUpdate: 3 },
      latency: { fixedMs: 20, jitterMs: 30 },
    },
  });
  try {
    await emulator.control.seed({ userPools: demoPools() });
    // The worker uses the AWS SDK's default credential chain, which reads the
    // process's own environment: point it at the emulator's test key.
    process.env.AWS_ACCESS_KEY_ID = DEFAULT_TEST_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = DEFAULT_TEST_CREDENTIALS.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    // The emulator lives only as long as this command, so a demo run cannot be
    // resumed: each demo gets a fresh Temporal database of its own, apart from
    // the one real runs resume from. (An old demo run resumed against a new
    // emulator would delete the new emulator's servers.)
    const demoData = path.join(dataDirectory(io.env), 'demo');
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path.join(demoData, `temporal.db${suffix}`), { force: true });
    const demoIo: CommandIo = { ...io, env: { ...io.env, COGNITO_ENDPOINT: emulator.url, RS_CLEANUP_DATA_DIR: demoData } };
    io.stderr.write(
      `Cognito emulator on ${emulator.url}: 12 user pools, 300 resource servers, quotas on ` +
        '(15 deletes/s per account, 5/s per pool, 3/s of it taken by another application), 2% throttling and 1% internal errors injected.\n',
    );

    const exitCode = await runCommand(
      {
        input: EXAMPLE_INPUT,
        execute: true,
        json: false,
        yes: true,
        verify: false,
        skipInvalid: false,
        // A fresh emulator each time: a fresh run each time, not an attach to the last one.
        id: `rs-cleanup-demo-${new Date().toISOString().replace(/[:.]/g, '-')}`,
      },
      demoIo,
    );

    const stats = await emulator.control.stats();
    const state = await emulator.control.state();
    const remaining = state.userPools.reduce((n, pool) => n + pool.resourceServers.length, 0);
    const deleteCalls = stats.operations.DeleteResourceServer ?? {};
    const busiest = Math.max(0, ...stats.accepted.perSecond.map((s) => s.categories.UserPoolResourceUpdate ?? 0));
    io.stderr.write(
      `\nEmulator: ${stats.deletes.length} resource servers deleted, ${remaining} left; ` +
        `DeleteResourceServer answers ${JSON.stringify(deleteCalls)}; ` +
        `busiest second: ${busiest} accepted deletes (quota 15).\n`,
    );
    // Skipping the server the billing portal still uses is the demo working as designed.
    return exitCode === EXIT.skipped ? EXIT.ok : exitCode;
  } finally {
    await emulator.close();
  }
}
