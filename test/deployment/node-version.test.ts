/**
 * The project runs on Node >= 22 everywhere: the test workers themselves (so
 * scripts/test.sh really ran vitest on it), the CLI on a machine whose default
 * node is older (bin/rs-cleanup.js hands over to .tools/node), and the version
 * pins agree with each other. On Node 22 the AWS SDK no longer prints its
 * NodeVersionSupportWarning into the CLI's output; on an older node it does,
 * which is what shows the check can fail.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEST_CREDENTIALS, startEmulator, type RunningEmulator } from '../../emulator';
import { REPO_ROOT, type Finished } from '../helpers/processes';

const MAJOR = 22;
const majorOf = (version: string) => Number(/^v?(\d+)\./.exec(version.trim())?.[1]);

/** A node binary on PATH older than 22 (the machine's default one, when .tools/node serves the project), if any. */
function olderNodeOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'node');
    if (!dir || !existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' }).stdout ?? '';
    if (majorOf(version) < MAJOR) return candidate;
  }
  return undefined;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = REPO_ROOT): Promise<Finished> {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const olderNode = olderNodeOnPath();

describe('Node 22', () => {
  it('runs this test worker', () => {
    console.log(`test worker: Node ${process.version} (${process.execPath})`);
    expect(majorOf(process.version)).toBeGreaterThanOrEqual(MAJOR);
  });

  it('is the version that package.json, the installer and the Dockerfile name', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe(`>=${MAJOR}`);
    expect(majorOf(pkg.devDependencies['@types/node'])).toBe(MAJOR);
    const installer = readFileSync(path.join(REPO_ROOT, 'scripts', 'install-node.sh'), 'utf8');
    const installed = /^NODE_VERSION=(\d+\.\d+\.\d+)$/m.exec(installer)?.[1];
    expect(majorOf(installed ?? '')).toBe(MAJOR);
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    // An exact tag: the image changes only when this line does.
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${MAJOR}\\.\\d+\\.\\d+-bookworm-slim$`, 'm'));
  });
});

describe('bin/rs-cleanup.js on an older node', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-node-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.skipIf(!olderNode)('hands over to .tools/node/bin/node with the same arguments, and ends with its exit code', async () => {
    // A copy of the entry beside a stand-in for .tools/node that records how it was called.
    await mkdir(path.join(dir, 'bin'), { recursive: true });
    await mkdir(path.join(dir, '.tools', 'node', 'bin'), { recursive: true });
    await copyFile(path.join(REPO_ROOT, 'bin', 'rs-cleanup.js'), path.join(dir, 'bin', 'rs-cleanup.js'));
    const standIn = path.join(dir, '.tools', 'node', 'bin', 'node');
    await writeFile(standIn, `#!/bin/sh\nprintf '%s\\n' "$@" > "${path.join(dir, 'args')}"\nexit 7\n`);
    await chmod(standIn, 0o755);

    const finished = await run(olderNode!, [path.join(dir, 'bin', 'rs-cleanup.js'), 'status', 'run 1', '--json']);

    expect(finished.code).toBe(7);
    expect((await readFile(path.join(dir, 'args'), 'utf8')).split('\n').slice(0, -1)).toEqual([
      path.join(dir, 'bin', 'rs-cleanup.js'),
      'status',
      'run 1',
      '--json',
    ]);
  });
});

describe("the AWS SDK's Node version warning", () => {
  let emulator: RunningEmulator;
  const POOL = 'us-east-1_NodeWarn1';
  const env = () => ({
    COGNITO_ENDPOINT: emulator.url,
    AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
  });
  const discover = ['discover', '--pool', POOL, '--json'];

  beforeAll(async () => {
    emulator = await startEmulator();
    await emulator.control.seed({ userPools: [{ id: POOL, name: 'node', resourceServers: [{ identifier: 'https://api.example.com/a', name: 'a' }] }] });
  });
  afterAll(() => emulator?.close());

  it('is not printed by a CLI command that calls AWS', async () => {
    const finished = await run(process.execPath, [path.join(REPO_ROOT, 'bin', 'rs-cleanup.js'), ...discover], env());
    expect(finished.code).toBe(0);
    expect(JSON.parse(finished.stdout)).toMatchObject({ listed: 1 });
    expect(finished.stderr).not.toContain('NodeVersionSupportWarning');
  });

  it.skipIf(!olderNode)('is printed on an older node, and not once bin/rs-cleanup.js hands over to .tools/node', async () => {
    // The control: the same command straight on the older node shows the warning this test looks for.
    const direct = await run(olderNode!, ['--import', 'tsx', path.join(REPO_ROOT, 'cli', 'main.ts'), ...discover], env());
    expect(direct.code).toBe(0);
    expect(direct.stderr).toContain('NodeVersionSupportWarning');

    if (!existsSync(path.join(REPO_ROOT, '.tools', 'node', 'bin', 'node'))) return; // nothing to hand over to here
    const handedOver = await run(olderNode!, [path.join(REPO_ROOT, 'bin', 'rs-cleanup.js'), ...discover], env());
    expect(handedOver.code).toBe(0);
    expect(JSON.parse(handedOver.stdout)).toMatchObject({ listed: 1 });
    expect(handedOver.stderr).not.toContain('NodeVersionSupportWarning');
  });
});
