/**
 * The control API: reset, seed (explicit and generated), state dump and load,
 * stats, and the standalone entry point's state file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateResourceServerCommand,
  DeleteResourceServerCommand,
  DescribeUserPoolClientCommand,
  ListResourceServersCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { EmulatorControl, startEmulator, type EmulatorState, type RunningEmulator } from '../../emulator';
import { DEFAULT_ACCOUNT_ID, DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import { caught, sdkClient } from './helpers';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';

const repoRoot = path.resolve(__dirname, '../..');

describe('emulator control API', () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false, idSeed: 7 });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(async () => {
    await emulator.control.reset();
  });

  it('seeds explicit pools, servers and clients, and returns their ids', async () => {
    const result = await emulator.control.seed({
      userPools: [
        {
          name: 'explicit',
          resourceServers: [{ identifier: 'https://api.example.com', name: 'api', scopes: [{ ScopeName: 'read', ScopeDescription: 'Read' }] }],
          clients: [{ clientName: 'app', allowedOAuthScopes: ['https://api.example.com/read'] }, { clientName: 'fixed', clientId: 'fixedclientid123' }],
        },
        { id: 'eu-west-1_Fixed1234', name: 'european' },
      ],
    });
    expect(result.resourceServers).toBe(1);
    expect(result.clients).toBe(2);
    expect(result.userPools[0]!.id).toMatch(/^us-east-1_[0-9a-zA-Z]{9}$/);
    expect(result.userPools[0]!.clients[1]).toEqual({ clientId: 'fixedclientid123', clientName: 'fixed' });
    expect(result.userPools[1]).toEqual({ id: 'eu-west-1_Fixed1234', name: 'european', accountId: DEFAULT_ACCOUNT_ID, clients: [] });

    const client = sdkClient(emulator);
    try {
      const app = await client.send(new DescribeUserPoolClientCommand({ UserPoolId: result.userPools[0]!.id, ClientId: result.userPools[0]!.clients[0]!.clientId }));
      expect(app.UserPoolClient!.AllowedOAuthScopes).toEqual(['https://api.example.com/read']);
    } finally {
      client.destroy();
    }
    const state = await emulator.control.state();
    expect(state.userPools.map((p) => [p.id, p.region])).toEqual([
      [result.userPools[0]!.id, 'us-east-1'],
      ['eu-west-1_Fixed1234', 'eu-west-1'],
    ]);
  });

  it('validates a seed like the API and applies all of it or nothing', async () => {
    await expect(emulator.control.seed({ userPools: [{ name: 'ok' }, { name: 'bad', resourceServers: [{ identifier: 'has space', name: 'n' }] }] })).rejects.toThrow(
      "InvalidParameterException: 1 validation error detected: Value 'has space' at 'userPools.2.member.resourceServers.1.member.identifier' failed to satisfy constraint",
    );
    await expect(emulator.control.seed({ userPools: [{ name: 'ok' }, { name: 'scopes', clients: [{ clientName: 'c', allowedOAuthScopes: ['https://nowhere/read'] }] }] })).rejects.toThrow(
      'ScopeDoesNotExistException: Invalid scope requested: https://nowhere/read',
    );
    await expect(emulator.control.seed({ userPools: [{ id: 'eu-west-1_Abc', name: 'x', region: 'us-east-1' }] })).rejects.toThrow(/InvalidParameterException/);
    await expect(emulator.control.seed({ userPools: [{ name: 'dup', resourceServers: [{ identifier: 'a', name: 'a' }, { identifier: 'a', name: 'b' }] }] })).rejects.toThrow(
      /already exists/,
    );
    await expect(emulator.control.seed({ userPools: 'nope' } as never)).rejects.toThrow(/SerializationException/);
    expect((await emulator.control.state()).userPools).toEqual([]);
  });

  it('generates 100,000 resource servers (4,000 pools x 25) that the SDK can then page through', async () => {
    const started = Date.now();
    const result = await emulator.control.seed({ generate: { pools: 4000, serversPerPool: 25, scopesPerServer: 2, region: 'us-east-1', clientsPerPool: 1 } });
    const seconds = (Date.now() - started) / 1000;
    console.log(`seeded 100,000 resource servers in ${seconds.toFixed(2)} s`);
    expect(result.resourceServers).toBe(100_000);
    expect(result.userPools).toHaveLength(4000);
    expect(result.clients).toBe(4000);

    const last = result.userPools[3999]!;
    const client = sdkClient(emulator);
    try {
      const page = await client.send(new ListResourceServersCommand({ UserPoolId: last.id, MaxResults: 50 }));
      expect(page.ResourceServers).toHaveLength(25);
      expect(page.ResourceServers![24]).toEqual({
        UserPoolId: last.id,
        Identifier: 'https://api.example.com/pool-4000/server-25',
        Name: 'generated server 25',
        Scopes: [
          { ScopeName: 'scope-1', ScopeDescription: 'Generated scope 1' },
          { ScopeName: 'scope-2', ScopeDescription: 'Generated scope 2' },
        ],
      });
      const app = await client.send(new DescribeUserPoolClientCommand({ UserPoolId: last.id, ClientId: last.clients[0]!.clientId }));
      expect(app.UserPoolClient!.AllowedOAuthScopes).toHaveLength(25);
      expect(app.UserPoolClient!.AllowedOAuthScopes![0]).toBe('https://api.example.com/pool-4000/server-1/scope-1');
    } finally {
      client.destroy();
    }
    const state = await emulator.control.state();
    expect(state.userPools.reduce((n, p) => n + p.resourceServers.length, 0)).toBe(100_000);
  });

  it('dumps and loads the state (a round trip), keeping dangling client scopes', async () => {
    const seeded = await emulator.control.seed({
      userPools: [
        {
          name: 'round trip',
          resourceServers: [
            { identifier: 'https://a', name: 'a', scopes: [{ ScopeName: 'read', ScopeDescription: 'r' }] },
            { identifier: 'https://b', name: 'b' },
          ],
          clients: [{ clientName: 'app', allowedOAuthScopes: ['https://a/read', 'openid'] }],
        },
      ],
    });
    const poolId = seeded.userPools[0]!.id;
    const client = sdkClient(emulator);
    try {
      await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'https://a' }));
    } finally {
      client.destroy();
    }
    const dump = await emulator.control.state();
    expect(dump.userPools[0]!.resourceServers.map((s) => s.identifier)).toEqual(['https://b']);
    expect(dump.userPools[0]!.clients[0]!.allowedOAuthScopes).toEqual(['https://a/read', 'openid']);

    await emulator.control.reset();
    expect((await emulator.control.state()).userPools).toEqual([]);
    await emulator.control.loadState(dump);
    expect(await emulator.control.state()).toEqual(dump);

    // A broken dump is refused and the current state stays.
    const broken = structuredClone(dump) as EmulatorState;
    broken.userPools.push({ ...broken.userPools[0]!, resourceServers: [] });
    await expect(emulator.control.loadState(broken)).rejects.toThrow(/already exists/);
    await expect(emulator.control.loadState({ version: 1, userPools: [{ ...dump.userPools[0]!, id: 'no pool id' }] })).rejects.toThrow(/userPools.1.member.id/);
    expect(await emulator.control.state()).toEqual(dump);
  });

  it('reports stats, resets them separately, and keeps the config across reset', async () => {
    await emulator.control.setConfig({ maxResourceServersPerPool: 7 });
    const seeded = await emulator.control.seed({ userPools: [{ name: 'stats', resourceServers: [{ identifier: 'x', name: 'x' }] }] });
    const poolId = seeded.userPools[0]!.id;
    const client = sdkClient(emulator, { maxAttempts: 1 });
    try {
      await client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'x' }));
      await caught(client.send(new DeleteResourceServerCommand({ UserPoolId: poolId, Identifier: 'x' })));
      await client.send(new CreateResourceServerCommand({ UserPoolId: poolId, Identifier: 'y', Name: 'y' }));
    } finally {
      client.destroy();
    }
    const stats = await emulator.control.stats();
    expect(stats.operations).toEqual({ DeleteResourceServer: { ok: 1, ResourceNotFoundException: 1 }, CreateResourceServer: { ok: 1 } });
    expect(stats.deletes).toEqual([
      { userPoolId: poolId, identifier: 'x', accountId: DEFAULT_ACCOUNT_ID, region: 'us-east-1', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    ]);
    const accepted = stats.accepted.perSecond;
    expect(accepted.reduce((n, s) => n + (s.categories.UserPoolResourceUpdate ?? 0), 0)).toBe(3);
    expect(accepted.reduce((n, s) => n + (s.pools[poolId]?.DeleteResourceServer ?? 0), 0)).toBe(2);
    for (const s of accepted) expect(Math.abs(s.second * 1000 - Date.now())).toBeLessThan(120_000);

    await emulator.control.resetStats();
    expect(await emulator.control.stats()).toEqual({ operations: {}, accepted: { perSecond: [] }, deletes: [], assumeRole: {}, latencySpikes: {} });
    expect((await emulator.control.state()).userPools).toHaveLength(1);

    await emulator.control.reset();
    expect((await emulator.control.config()).maxResourceServersPerPool).toBe(7);
    await emulator.control.setConfig({ maxResourceServersPerPool: 25 });
  });

  it('answers 404 for unknown control paths and 400 for malformed control JSON', async () => {
    expect((await fetch(`${emulator.url}/_emulator/nothing`)).status).toBe(404);
    const malformed = await fetch(`${emulator.url}/_emulator/seed`, { method: 'POST', body: '{' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { __type: string }).__type).toBe('SerializationException');
    expect((await fetch(`${emulator.url}/_emulator/health`)).status).toBe(200);
  });
});

describe('standalone emulator (npm run emulator)', () => {
  let directory: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'emulator-state-'));
  });
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  async function start(args: string[]): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(path.join(repoRoot, 'node_modules/.bin/tsx'), ['emulator/main.ts', '--port', '0', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const lines = createInterface({ input: child.stdout! });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
      lines.on('line', (line) => {
        const parsed = JSON.parse(line) as { msg?: string; url?: string };
        if (parsed.msg === 'emulator listening' && parsed.url) resolve(parsed.url);
      });
    });
    return { child, url };
  }

  async function stop(child: ChildProcess): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    return exited;
  }

  it('seeds from a file, saves the state on SIGTERM and loads it at the next start', async () => {
    const seedFile = path.join(directory, 'seed.json');
    const stateFile = path.join(directory, 'state.json');
    writeFileSync(seedFile, JSON.stringify({ userPools: [{ id: 'us-east-1_Standalone', name: 'standalone', resourceServers: [{ identifier: 'a', name: 'a' }, { identifier: 'b', name: 'b' }] }] }));

    const first = await start(['--seed', seedFile, '--state', stateFile, '--no-quotas']);
    const client = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: first.url, credentials: DEFAULT_TEST_CREDENTIALS });
    try {
      await client.send(new DeleteResourceServerCommand({ UserPoolId: 'us-east-1_Standalone', Identifier: 'a' }));
    } finally {
      client.destroy();
    }
    const control = new EmulatorControl(first.url);
    expect((await control.config()).quotas.enabled).toBe(false);
    expect(await control.saveState()).toBe(stateFile);
    expect((JSON.parse(readFileSync(stateFile, 'utf8')) as EmulatorState).userPools[0]!.resourceServers.map((s) => s.identifier)).toEqual(['b']);
    // Changes after the explicit save are written on shutdown.
    await control.seed({ userPools: [{ id: 'us-east-1_Second', name: 'second' }] });
    expect(await stop(first.child)).toBe(0);
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as EmulatorState;
    expect(saved.userPools.map((p) => p.id)).toEqual(['us-east-1_Standalone', 'us-east-1_Second']);

    const second = await start(['--state', stateFile]);
    expect(await new EmulatorControl(second.url).state()).toEqual(saved);
    expect((await new EmulatorControl(second.url).config()).quotas.enabled).toBe(true);
    expect(await stop(second.child)).toBe(0);
    expect(existsSync(stateFile)).toBe(true);
  });
});
