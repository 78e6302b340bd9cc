/**
 * `status`, `list` and `report` on the embedded default when no Temporal
 * server is running: they start none (no database, lock or server process
 * appears in the data directory) and read what the runs left on disk: the
 * summary of a finished run (the same report as through the server), that a
 * run has not finished and how to resume it, or that no such run is recorded.
 *
 * The finished run is a real one, made through the suite's server
 * (TEMPORAL_ADDRESS set) into the audit directory the offline commands read.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devServersOn } from '../../common/temporal-dev-server';
import { runDirectory } from '../../common/run-files';
import { csvInput, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { cliEnvironment, cliInProcess } from '../operator/helpers';

describe('status, list and report with no server running', () => {
  let env: CleanupEnv;
  let online: NodeJS.ProcessEnv;
  let offline: NodeJS.ProcessEnv;
  let dataDir: string;
  let finished: { workflowId: string; counts: Record<string, number>; summaryFile: string };
  const unfinishedId = 'rs-cleanup-0123456789ab-execute';

  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    online = cliEnvironment(env);
    const { userPools, items } = seedPools('Offline', 2, 3);
    await env.emulator.control.seed({ userPools });
    // One item fails: the report has an error code and a redrive command to show.
    await env.emulator.control.setConfig({ faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'InvalidParameterException' }] } });
    const input = await env.inputFile('offline.csv', csvInput(items));
    const run = await cliInProcess(['run', '--input', input.path, '--execute', '--yes', '--window', '1', '--json', '--audit-dir', env.auditDir], online);
    expect(run.code, run.stderr).toBe(1);
    finished = JSON.parse(run.stdout);
    // A run that started and never finished: its directory, no manifest.
    const runDir = runDirectory(env.auditDir, unfinishedId, 'first-run-id');
    await mkdir(runDir, { recursive: true });
    await writeFile(path.join(runDir, 'audit.jsonl'), '');

    dataDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-no-server-'));
    offline = { ...online, RS_CLEANUP_DATA_DIR: dataDir, RS_CLEANUP_AUDIT_DIR: env.auditDir };
    delete offline.TEMPORAL_ADDRESS;
  });
  afterAll(() => env?.close());

  /** Nothing of a Temporal server in the data directory: no database, no lock, no process. */
  async function expectNoServer(): Promise<void> {
    expect(await readdir(dataDir)).toEqual([]);
    expect(devServersOn(path.join(dataDir, 'temporal.db'))).toEqual([]);
  }

  it("status of a finished run: its summary from the manifest, with the run's exit code", async () => {
    const status = await cliInProcess(['status', finished.workflowId], offline);
    expect(status.code, status.stderr).toBe(1); // an item failed
    expect(status.stdout).toContain(`Run ${finished.workflowId}: completed`);
    expect(status.stdout).toMatch(/^ {2}failed {12}1$/m);
    expect(status.stdout).toContain(`rs-cleanup redrive ${finished.workflowId} --execute`);
    expect(status.stderr).toBe(`(from ${finished.summaryFile}: no Temporal server is running)\n`);
    const json = JSON.parse((await cliInProcess(['status', finished.workflowId, '--json'], offline)).stdout);
    expect(json).toMatchObject({ workflowId: finished.workflowId, status: 'COMPLETED', summary: { status: 'completed', counts: finished.counts } });
    await expectNoServer();
  });

  it('report reads the same manifest as through the server', async () => {
    const through = await cliInProcess(['report', finished.workflowId, '--json'], online);
    const fromDisk = await cliInProcess(['report', finished.workflowId, '--json'], offline);
    expect(fromDisk.code, fromDisk.stderr).toBe(0);
    expect(JSON.parse(fromDisk.stdout)).toEqual(JSON.parse(through.stdout));
    expect((await cliInProcess(['report', finished.workflowId], offline)).stdout).toContain('InvalidParameterException');
    await expectNoServer();
  });

  it('a run that has not finished: status says how to resume it; report refuses it', async () => {
    const status = await cliInProcess(['status', unfinishedId], offline);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^Run ${unfinishedId}: started .* and not finished; no rs-cleanup command is running it now \\(run the same \`rs-cleanup run\` command again to resume it\\)`));
    const report = await cliInProcess(['report', unfinishedId], offline);
    expect(report.code).toBe(2);
    expect(report.stderr).toMatch(/^rs-cleanup: run .* has not finished: run the same `rs-cleanup run` command again to resume it\n$/);
    await expectNoServer();
  });

  it('list shows the runs recorded on disk, finished or not', async () => {
    const list = await cliInProcess(['list', '--json'], offline);
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { workflowId: string; status: string; outcome?: string }[];
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ workflowId: finished.workflowId, status: 'COMPLETED', outcome: 'completed' }),
        expect.objectContaining({ workflowId: unfinishedId, status: 'UNFINISHED' }),
      ]),
    );
    expect((await cliInProcess(['list'], offline)).stderr).toMatch(/^No Temporal server is running .*: the runs recorded in .*\n$/);
    await expectNoServer();
  });

  it('a run recorded nowhere: one line, exit 2', async () => {
    const status = await cliInProcess(['status', 'no-such-run'], offline);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/^rs-cleanup: no run with workflow ID 'no-such-run' is recorded in .*, and no Temporal server is running .*see the runs with: rs-cleanup list\n$/);
    await expectNoServer();
  });

  it('--verbose prints the start-up phases of the command', async () => {
    const status = await cliInProcess(['status', finished.workflowId, '--verbose'], offline);
    expect(status.stderr).toMatch(/^\[\s*\d+\.\d{3} s\] status loaded \(\d+\.\d{3} s\)$/m);
    expect(existsSync(path.join(dataDir, 'temporal.lock'))).toBe(false);
  });
});
