/**
 * The emulator against independent clients: every AWS CLI on the machine
 * (Debian's awscli v2, installed by scripts/install-awscli.sh when missing, and
 * pip's v1 where it is on PATH), with signature verification on, so their real
 * SigV4 signing is checked too.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TEST_CREDENTIALS, startEmulator, type RunningEmulator } from '../../emulator';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '../..');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every distinct working AWS CLI, with its version line (`aws-cli/2.9.19 ...`). */
function awsClis(): { path: string; version: string }[] {
  const install = spawnSync('bash', [path.join(repoRoot, 'scripts/install-awscli.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (install.status !== 0) {
    console.warn(`AWS CLI unavailable, skipping: ${install.stderr?.trim() || install.error?.message || `exit ${install.status}`}`);
    return [];
  }
  return install.stdout.trim().split('\n').filter(Boolean).map((cli) => ({
    path: cli,
    version: spawnSync(cli, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[0] ?? 'aws-cli',
  }));
}

const clis = awsClis();
// The whole file is skipped (and says so) only when no AWS CLI can be installed at all.
const describeEach = clis.length > 0 ? describe.each(clis) : describe.skip.each([{ path: 'aws', version: 'none' }]);

describeEach('AWS CLI ($version at $path) against the emulator', ({ path: aws }) => {
  let emulator: RunningEmulator;
  let poolId: string;
  let configDir: string;

  beforeAll(async () => {
    // AWS CLI v1 fetches a parameter value starting with https:// as a URL
    // (`--identifier https://api.example.com`) unless told not to; v2 accepts the setting too.
    configDir = mkdtempSync(path.join(os.tmpdir(), 'rs-cleanup-awscli-'));
    writeFileSync(path.join(configDir, 'config'), '[default]\ncli_follow_urlparam = false\n');
    emulator = await startEmulator({ port: 0, quotas: false, verifySignatures: true });
  });
  afterAll(async () => {
    await emulator?.close();
    rmSync(configDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await emulator.control.reset();
    poolId = (await emulator.control.seed({ userPools: [{ name: 'cli' }] })).userPools[0]!.id;
  });

  async function cli(args: string[], credentials: { accessKeyId: string; secretAccessKey: string } = DEFAULT_TEST_CREDENTIALS): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_CONFIG_FILE: path.join(configDir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
      AWS_CLI_AUTO_PROMPT: 'off',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_MAX_ATTEMPTS: '1',
      AWS_RETRY_MODE: 'standard',
    };
    // Asynchronous on purpose: the emulator answers from this very event loop.
    try {
      const { stdout, stderr } = await run(aws, ['cognito-idp', ...args, '--endpoint-url', emulator.url, '--region', 'us-east-1', '--output', 'json'], { env, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
    }
  }

  const json = (result: CliResult) => {
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };

  it('creates, describes, lists (following NextToken) and deletes resource servers', async () => {
    const created = json(
      await cli(['create-resource-server', '--user-pool-id', poolId, '--identifier', 'https://api.example.com', '--name', 'api', '--scopes', 'ScopeName=read,ScopeDescription=Read things']),
    );
    expect(created).toEqual({
      ResourceServer: { UserPoolId: poolId, Identifier: 'https://api.example.com', Name: 'api', Scopes: [{ ScopeName: 'read', ScopeDescription: 'Read things' }] },
    });
    json(await cli(['create-resource-server', '--user-pool-id', poolId, '--identifier', 'second', '--name', 'second']));
    json(await cli(['create-resource-server', '--user-pool-id', poolId, '--identifier', 'third', '--name', 'third']));

    const described = json(await cli(['describe-resource-server', '--user-pool-id', poolId, '--identifier', 'https://api.example.com']));
    expect(described).toEqual(created);

    // --page-size 1 makes the CLI follow the emulator's NextToken page by page.
    const listed = json(await cli(['list-resource-servers', '--user-pool-id', poolId, '--page-size', '1']));
    expect((listed.ResourceServers as { Identifier: string }[]).map((s) => s.Identifier)).toEqual(['https://api.example.com', 'second', 'third']);
    expect((await emulator.control.stats()).operations.ListResourceServers?.ok).toBeGreaterThanOrEqual(3);

    const deleted = await cli(['delete-resource-server', '--user-pool-id', poolId, '--identifier', 'second']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await emulator.control.stats()).deletes.map((d) => d.identifier)).toEqual(['second']);
  });

  it('creates an app client with scopes and reports ScopeDoesNotExistException', async () => {
    json(await cli(['create-resource-server', '--user-pool-id', poolId, '--identifier', 'api', '--name', 'api', '--scopes', 'ScopeName=read,ScopeDescription=r']));
    const app = json(await cli(['create-user-pool-client', '--user-pool-id', poolId, '--client-name', 'app', '--allowed-o-auth-scopes', 'api/read', 'openid']));
    expect((app.UserPoolClient as { AllowedOAuthScopes: string[] }).AllowedOAuthScopes).toEqual(['api/read', 'openid']);
    const missing = await cli(['create-user-pool-client', '--user-pool-id', poolId, '--client-name', 'bad', '--allowed-o-auth-scopes', 'api/write']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('(ScopeDoesNotExistException)');
    expect(missing.stderr).toContain('Invalid scope requested: api/write');
  });

  it('surfaces errors with their codes: not found, validation, unknown key, bad signature', async () => {
    const notFound = await cli(['describe-resource-server', '--user-pool-id', poolId, '--identifier', 'missing']);
    expect(notFound.code).not.toBe(0);
    expect(notFound.stderr).toContain('(ResourceNotFoundException)');

    const invalid = await cli(['create-resource-server', '--user-pool-id', poolId, '--identifier', 'has space', '--name', 'n']);
    expect(invalid.stderr).toContain('(InvalidParameterException)');
    expect(invalid.stderr).toContain("Value 'has space' at 'identifier' failed to satisfy constraint");

    const stranger = await cli(['list-resource-servers', '--user-pool-id', poolId, '--max-results', '5'], { accessKeyId: 'AKIANOTKNOWN00000000', secretAccessKey: 'x' });
    expect(stranger.stderr).toContain('(UnrecognizedClientException)');

    const wrongSecret = await cli(['list-resource-servers', '--user-pool-id', poolId, '--max-results', '5'], { ...DEFAULT_TEST_CREDENTIALS, secretAccessKey: 'wrong' });
    expect(wrongSecret.stderr).toContain('(InvalidSignatureException)');
    expect((await emulator.control.stats()).operations.ListResourceServers).toEqual({ UnrecognizedClientException: 1, InvalidSignatureException: 1 });
  });
});
