/**
 * The embedded default, as an operator on a laptop meets it: no
 * TEMPORAL_ADDRESS, so `run` starts its own dev server (database in the data
 * directory) and a worker. `status` from another terminal finds that server;
 * an interrupted run resumes when the same command runs again, and every item
 * is deleted once.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type RunningEmulator } from '../../emulator';
import { sha256File } from '../../common/plan-file';
import { csvInput, readManifestCsv, seedPools } from '../helpers/cleanup-env';
import { REPO_ROOT, runCli } from '../helpers/processes';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';

describe('embedded default', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false });
  });
  afterAll(() => emulator?.close());

  it('runs on its own dev server, answers status from another process, and resumes after an interruption', { timeout: 600_000 }, async () => {
    const { userPools, items } = seedPools('Embedded', 2, 15);
    await emulator.control.seed({ userPools });
    // Slow by configuration: each Cognito call takes 2 s, so 30 items take a minute or more and the
    // interruption below finds most of them left, however busy the machine.
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 2_000 } } });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-embedded-'));
    const input = path.join(dir, 'embedded.csv');
    await writeFile(input, csvInput(items));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      COGNITO_ENDPOINT: emulator.url,
      AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
      RS_CLEANUP_DATA_DIR: path.join(dir, 'data'),
    };
    delete env.TEMPORAL_ADDRESS;
    const args = ['run', '--input', input, '--execute', '--yes', '--window', '2', '--json'];
    const workflowId = `rs-cleanup-${(await sha256File(input)).slice(0, 12)}-execute`;

    // First attempt: interrupted with Ctrl-C once a few servers are deleted.
    const first = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'rs-cleanup.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstErr = '';
    first.stderr.on('data', (d: Buffer) => (firstErr += d.toString()));
    const firstExit = new Promise<number | null>((resolve) => first.once('close', resolve));
    const deadline = Date.now() + 300_000; // a wide margin, not a measurement
    while ((await emulator.control.stats()).deletes.length < 3) {
      if (Date.now() > deadline) throw new Error(`no deletes: ${firstErr}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    // Another terminal: status finds the embedded server the run started.
    const status = await runCli(['status', workflowId, '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'RUNNING', progress: { total: items.length } });

    first.kill('SIGINT');
    const firstCode = await firstExit;
    expect(firstCode, firstErr.slice(-1500)).toBe(130);
    expect(firstErr).toContain('Run the same command again to resume');
    const deletedBefore = (await emulator.control.stats()).deletes.length;
    expect(deletedBefore).toBeLessThan(items.length);
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 0 } } });

    // Another run on the same embedded server says that the interrupted one resumes alongside it.
    const other = path.join(dir, 'other.csv');
    await writeFile(other, csvInput([{ userPoolId: userPools[0]!.id, identifier: 'https://api.example.com/not-there' }]));
    const otherRun = await runCli(['run', '--input', other, '--json'], env);
    expect(otherRun.code).toBe(0);
    expect(otherRun.stderr).toContain(`1 earlier interrupted run(s) resume in this process too: ${workflowId}`);

    // Second attempt: the same command picks the run up where it was.
    const second = await runCli(args, env);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('Attached to the run already going');
    const summary = JSON.parse(second.stdout);
    expect(summary.counts).toMatchObject({ deleted: items.length, failed: 0, 'already-absent': 0 });
    const stats = await emulator.control.stats();
    expect(stats.deletes).toHaveLength(items.length);
    expect(new Set(stats.deletes.map((d) => d.identifier)).size).toBe(items.length);
    expect(await readManifestCsv(path.join(summary.manifestDir, 'deleted.csv'))).toHaveLength(items.length);
  });
});
