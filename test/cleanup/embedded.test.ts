/**
 * The embedded default, as an operator on a laptop meets it: no
 * TEMPORAL_ADDRESS, so `run` (the real binary) starts its own dev server
 * (database in the data directory) and a worker. Other commands, run
 * in-process here as from another terminal, find that server: status, pause,
 * and a second `run` of the same input, which attaches through it while a
 * different input is refused. Ctrl-C stops a run that resumes when the same
 * command runs again; after a SIGKILL the next run stops the server the dead
 * CLI left behind and goes on; every item is deleted once.
 */
import path from 'node:path';
import os from 'node:os';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type RunningEmulator } from '../../emulator';
import { sha256File } from '../../common/plan-file';
import { devServersOn, stopProcess } from '../../common/temporal-dev-server';
import { isAlive, readLock } from '../../cli/embedded-temporal';
import { csvInput, readManifestCsv, seedPools } from '../helpers/cleanup-env';
import { runCli, startCli } from '../helpers/processes';
import { waitFor, withTimeout } from '../helpers/wait-for';
import { cliInProcess, startCliInProcess } from '../operator/helpers';

describe('embedded default', () => {
  let emulator: RunningEmulator;
  const databases: string[] = [];
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, quotas: false });
  });
  afterAll(async () => {
    // A failed test must not leave a dev server running.
    for (const db of databases) for (const pid of devServersOn(db)) await stopProcess(pid, 5_000);
    await emulator?.close();
  });
  beforeEach(() => emulator.control.reset());

  /** A data directory of its own and the environment of a laptop: no TEMPORAL_ADDRESS. */
  async function laptop(name: string) {
    const dir = await mkdtemp(path.join(os.tmpdir(), `rs-cleanup-embedded-${name}-`));
    const dataDir = path.join(dir, 'data');
    databases.push(path.join(dataDir, 'temporal.db'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      COGNITO_ENDPOINT: emulator.url,
      AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
      RS_CLEANUP_DATA_DIR: dataDir,
      RS_CLEANUP_PROTECTED: '',
      RS_CLEANUP_PROTECTED_FILE: '',
    };
    delete env.TEMPORAL_ADDRESS;
    const inputFile = async (file: string, items: { userPoolId: string; identifier: string }[]) => {
      const input = path.join(dir, file);
      await writeFile(input, csvInput(items));
      return { input, workflowId: `rs-cleanup-${(await sha256File(input)).slice(0, 12)}-execute` };
    };
    return { dir, dataDir, env, inputFile };
  }

  it('a second run of the same input attaches through the first one\'s server and worker; a different input is refused', { timeout: 600_000 }, async () => {
    const { userPools, items } = seedPools('Shared', 1, 8);
    await emulator.control.seed({ userPools });
    const { dataDir, env, inputFile } = await laptop('shared');
    const { input, workflowId } = await inputFile('shared.csv', items);
    // Slow by configuration (8 items at 0.5/s), and held paused below while the other commands run.
    const args = ['run', '--input', input, '--execute', '--yes', '--rate', '0.5', '--pool-rate', '0.5', '--window', '2', '--json'];

    const first = startCli(args, env);
    const outputs = () => `first: ${first.stderr()}`;
    await waitFor(async () => readLock(dataDir), (lock) => lock?.cliPid === first.child.pid && lock?.address !== undefined, `the first run's server: ${outputs()}`, 300_000);
    // Another terminal: status reaches the first command's server; the run is held paused from here on.
    await withTimeout(
      waitFor(() => cliInProcess(['status', workflowId, '--json'], env), (r) => r.code === 0 && JSON.parse(r.stdout).status === 'RUNNING', 'the run to start', 300_000),
      300_000,
      'the run to start',
      outputs,
    );
    expect((await cliInProcess(['pause', workflowId], env)).code).toBe(0);

    const other = await inputFile('other.csv', [{ userPoolId: userPools[0]!.id, identifier: 'https://api.example.com/another' }]);
    const refused = await cliInProcess(['run', '--input', other.input, '--execute', '--yes'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(`^rs-cleanup: rs-cleanup process ${first.child.pid} runs the embedded Temporal server in .* with run ${workflowId}, and this input's run \\(${other.workflowId}\\) is not running there; .*nothing was started\\. follow it with: rs-cleanup status ${workflowId} --watch; .*\\n$`),
    );

    const second = startCliInProcess(args, env);
    await withTimeout(
      second.stderrMatches(new RegExp(`Attached to the run already going since .* \\(workflow ID ${workflowId}\\) through the embedded Temporal server of rs-cleanup process ${first.child.pid}, whose worker runs it`)),
      120_000,
      'the second run to attach',
      () => `${outputs()}\nsecond: ${second.stderr()}`,
    );
    expect((await cliInProcess(['resume', workflowId], env)).code).toBe(0);

    const [a, b] = await withTimeout(Promise.all([first.done, second.done]), 300_000, 'both runs to end', () => `${outputs()}\nsecond: ${second.stderr()}`);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ workflowId, runDir: JSON.parse(a.stdout).runDir, counts: { deleted: items.length } });
    const stats = await emulator.control.stats();
    expect(stats.deletes.map((d) => d.identifier).sort()).toEqual(items.map((i) => i.identifier).sort());
  });

  it('Ctrl-C stops a run that the same command resumes; after a SIGKILL the next run stops the server left behind and goes on', { timeout: 900_000 }, async () => {
    const { userPools, items } = seedPools('Embedded', 2, 10);
    await emulator.control.seed({ userPools });
    // Slow by configuration: each Cognito call takes 2 s, so the interruptions below find most of the items left.
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 2_000 } } });
    const { dataDir, env, inputFile } = await laptop('resume');
    const { input, workflowId } = await inputFile('embedded.csv', items);
    const args = ['run', '--input', input, '--execute', '--yes', '--window', '2', '--json'];
    const deletes = async () => (await emulator.control.stats()).deletes.length;

    // 1. Ctrl-C once a few servers are deleted.
    const first = startCli(args, env);
    await waitFor(deletes, (n) => n >= 2, `deletes by the first run: ${first.stderr()}`, 300_000);
    first.child.kill('SIGINT');
    const firstEnd = await withTimeout(first.done, 300_000, 'the first run to stop', first.stderr);
    expect(firstEnd.code, firstEnd.stderr.slice(-1500)).toBe(130);
    expect(firstEnd.stderr).toContain(`Interrupted. Run the same command again to resume (workflow ID ${workflowId}).`);
    const afterInterrupt = await deletes();
    expect(afterInterrupt).toBeLessThan(items.length);

    // 2. The same command resumes; SIGKILL it once it has deleted more: its dev server is left running.
    const second = startCli(args, env);
    await waitFor(deletes, (n) => n >= afterInterrupt + 2, `deletes by the second run: ${second.stderr()}`, 300_000);
    const lock = readLock(dataDir);
    expect(lock).toMatchObject({ cliPid: second.child.pid, serverPid: expect.any(Number), port: expect.any(Number) });
    second.child.kill('SIGKILL');
    await second.done;
    expect(isAlive(lock!.serverPid!)).toBe(true);
    expect(await deletes()).toBeLessThan(items.length);

    // 3. Another input: the next run stops the server the dead CLI left, and says that the interrupted run resumes alongside.
    const other = await inputFile('other.csv', [{ userPoolId: userPools[0]!.id, identifier: 'https://api.example.com/not-there' }]);
    const otherRun = await runCli(['run', '--input', other.input, '--json'], env);
    expect(otherRun.code, otherRun.stderr).toBe(0);
    expect(otherRun.stderr).toContain(
      `Stopping the Temporal dev server (pid ${lock!.serverPid}) left running on ${path.join(dataDir, 'temporal.db')} by rs-cleanup process ${lock!.cliPid}, which ended without stopping it`,
    );
    expect(otherRun.stderr).toContain(`1 earlier interrupted run(s) resume in this process too: ${workflowId}`);
    expect(isAlive(lock!.serverPid!)).toBe(false);

    // 4. The same command finishes the job: every item deleted exactly once.
    await emulator.control.setConfig({ faults: { latency: { fixedMs: 0 } } });
    const last = await runCli(args, env);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toContain('Attached to the run already going');
    const summary = JSON.parse(last.stdout);
    // A delete cut off by the SIGKILL may have reached Cognito: its retry finds the server gone (already-absent).
    expect(summary.counts.failed).toBe(0);
    expect(summary.counts.deleted + summary.counts['already-absent']).toBe(items.length);
    const stats = await emulator.control.stats();
    expect(stats.deletes).toHaveLength(items.length);
    expect(new Set(stats.deletes.map((d) => d.identifier)).size).toBe(items.length);
    expect(await readManifestCsv(path.join(summary.manifestDir, 'deleted.csv'))).toHaveLength(summary.counts.deleted);
    // The command does not wait for its server to exit (it drains for a second): it stops by itself.
    await waitFor(async () => devServersOn(path.join(dataDir, 'temporal.db')), (pids) => pids.length === 0, 'the last server to stop', 120_000);
  });
});
