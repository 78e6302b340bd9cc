/**
 * The embedded default, as an operator on a laptop meets it: no
 * TEMPORAL_ADDRESS, so `run` (the real binary) starts its own dev server
 * (database in the data directory) and a worker. Other commands, run
 * in-process here as from another terminal, find that server: status, pause,
 * and a second `run` of the same input, which attaches through it while a
 * different input is refused. Ctrl-C stops a run that resumes when the same
 * command runs again; after a SIGKILL the next run stops the server the dead
 * CLI left behind and goes on; every item is deleted once. The embedded
 * server serves the Temporal Web UI, whose link to the run `run` and `status`
 * print; the server a command leaves stopping is waited for by the next one.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import os from 'node:os';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
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

  it("serves the Temporal Web UI: run and status print the run's link and the UI answers it; a taken port moves; --no-ui serves none", { timeout: 600_000 }, async () => {
    const { userPools, items } = seedPools('WebUi', 1, 3);
    await emulator.control.seed({ userPools });
    const { dataDir, env, inputFile } = await laptop('ui');
    const { input, workflowId } = await inputFile('ui.csv', items);
    // The port asked for is taken: the UI moves to another one.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as { port: number }).port;
    try {
      // Slow by configuration (3 items at 0.5/s), so that status finds it running.
      const run = startCli(['run', '--input', input, '--execute', '--yes', '--rate', '0.5', '--pool-rate', '0.5', '--window', '1', '--ui-port', String(takenPort), '--verbose'], env);
      const linkLine = /Temporal UI: (http:\/\/127\.0\.0\.1:(\d+))\/namespaces\/default\/workflows\/(\S+)\n/;
      await withTimeout(run.stderrMatches(linkLine), 300_000, "the run's UI link", run.stderr);
      const [, base = '', port, linkedId] = linkLine.exec(run.stderr())!;
      const link = `${base}/namespaces/default/workflows/${linkedId}`;
      expect(linkedId).toBe(workflowId);
      expect(Number(port)).not.toBe(takenPort);
      expect(readLock(dataDir)?.uiUrl).toBe(base);
      // The UI answers the link with its page.
      const page = await waitFor(
        () => fetch(link).then((r) => ({ status: r.status, type: r.headers.get('content-type') ?? '' }), (err: Error) => ({ status: 0, type: err.message })),
        (r) => r.status === 200,
        'the Web UI to answer',
        120_000,
      );
      expect(page.type).toMatch(/text\/html/);
      // Another terminal: status prints the same link, and --json carries it.
      const status = await cliInProcess(['status', workflowId], env);
      expect(status.stdout).toContain(`Temporal UI: ${link}\n`);
      expect(JSON.parse((await cliInProcess(['status', workflowId, '--json'], env)).stdout)).toMatchObject({ uiLink: link });
      const end = await withTimeout(run.done, 300_000, 'the run to end', run.stderr);
      expect(end.code, end.stderr).toBe(0);
      // --verbose: each start-up phase with its duration, the server's with the UI's address.
      expect(end.stderr).toMatch(new RegExp(`^\\[\\s*\\d+\\.\\d{3} s\\] Temporal dev server started on 127\\.0\\.0\\.1:\\d+, Web UI on ${base.replace(/\./g, '\\.')} \\(\\d+\\.\\d{3} s\\)$`, 'm'));
      for (const phase of ['CLI loaded', 'run loaded', 'input checked: 3 item\\(s\\)', 'workflow bundle (read from the cache|built .*)', 'worker started', 'workflow started']) {
        expect(end.stderr, phase).toMatch(new RegExp(`^\\[\\s*\\d+\\.\\d{3} s\\] ${phase} \\(\\d+\\.\\d{3} s\\)$`, 'm'));
      }
    } finally {
      taken.close();
    }

    // --no-ui: a headless server, no link.
    await emulator.control.seed({ userPools: seedPools('WebUiOff', 1, 1).userPools });
    const other = await inputFile('no-ui.csv', seedPools('WebUiOff', 1, 1).items);
    const headless = await runCli(['run', '--input', other.input, '--execute', '--yes', '--no-ui', '--verbose'], env);
    expect(headless.code, headless.stderr).toBe(0);
    expect(headless.stderr).not.toContain('Temporal UI:');
    expect(headless.stderr).toMatch(/\] Temporal dev server started on 127\.0\.0\.1:\d+ \(/);
  });

  it('the next command waits for the server the last one left stopping, without calling it left behind', { timeout: 300_000 }, async () => {
    const { dataDir, env } = await laptop('stopping');
    await mkdir(dataDir, { recursive: true });
    const dbFile = path.join(dataDir, 'temporal.db');
    /** A process with a dev server's command line on this database, which takes a moment to stop. */
    const lookalike = () =>
      spawn(process.execPath, ['-e', "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 300)); setInterval(() => {}, 1000)", 'server', 'start-dev', '--db-filename', dbFile], { stdio: 'ignore' });
    const quiet = { ...env, RS_CLEANUP_UI_PORT: 'off' };

    // 1. Noted as stopping by the last command: waited for, said so.
    const stopping = lookalike();
    await waitFor(async () => devServersOn(dbFile), (pids) => pids.includes(stopping.pid!), 'the lookalike to run');
    await writeFile(path.join(dataDir, 'temporal.stopping'), JSON.stringify({ serverPid: stopping.pid }));
    const first = await cliInProcess(['pause', 'no-such-run'], quiet);
    expect(first.stderr).toContain(`Waiting for the Temporal dev server of the last rs-cleanup command (pid ${stopping.pid}) to finish stopping...`);
    expect(first.stderr).not.toContain('left running');
    expect(first.stderr).toMatch(/rs-cleanup: no run with workflow ID 'no-such-run'/);
    expect(isAlive(stopping.pid!)).toBe(false);

    // 2. Not noted (its CLI died): stopped and named as left behind, as before.
    await waitFor(async () => devServersOn(dbFile), (pids) => pids.length === 0, "the first command's own server to stop", 120_000);
    const left = lookalike();
    await waitFor(async () => devServersOn(dbFile), (pids) => pids.includes(left.pid!), 'the lookalike to run');
    const second = await cliInProcess(['pause', 'no-such-run'], quiet);
    expect(second.stderr).toContain(`Stopping the Temporal dev server (pid ${left.pid}) left running on ${dbFile}...`);
    expect(isAlive(left.pid!)).toBe(false);
    await waitFor(async () => devServersOn(dbFile), (pids) => pids.length === 0, "the second command's own server to stop", 120_000);
  });
});
