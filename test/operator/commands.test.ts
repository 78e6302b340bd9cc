/**
 * Every operator command, run in-process through the CLI's own parsing
 * (cli/main.ts runCli), against the suite's Temporal server, a worker on the
 * test's task queue and the emulator: status, list, pause, resume, set-rate,
 * cancel, report, redrive, discover, restore and schedule.
 */
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateResourceServerCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import { readInputFile } from '../../common/input-reader';
import { csvInput, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { runCli } from '../helpers/processes';
import { cliEnvironment, cliInProcess, comparableState } from './helpers';
import { waitFor } from '../helpers/wait-for';

describe('operator commands', () => {
  let env: CleanupEnv;
  let cliEnv: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => cliInProcess(args, cliEnv);
  const cliJson = async (...args: string[]) => {
    const result = await cli(...args, '--json');
    // `status` of an ended run exits with that run's code (1, 3, 4); 2 is a usage error.
    if (result.code === 2 || !result.stdout) throw new Error(`rs-cleanup ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    cliEnv = cliEnvironment(env);
  });
  afterAll(() => env?.close());
  beforeEach(async () => {
    await env.emulator.control.reset();
    await env.emulator.control.setConfig({ faults: { failNext: [] }, maxResourceServersPerPool: 25 });
  });

  it('status, list, pause, set-rate, resume, cancel and report a run', { timeout: 600_000 }, async () => {
    const { userPools, items } = seedPools('Ops', 2, 25);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('ops.csv', csvInput(items));
    const id = `ops-${Date.now()}`;
    // Slow by configuration (50 items at 1/s), so every command below finds it running however busy the machine.
    await env.start({ source, execute: true, limits: { rate: 1, poolRate: 1, window: 2 } }, id);

    const running = await waitFor(() => cliJson('status', id), (s) => s.status === 'RUNNING' && s.progress.done >= 2, 'the run to get going');
    expect(running.progress).toMatchObject({ total: items.length, execute: true, limits: { rate: 1, poolRate: 1, window: 2 } });
    expect((await cliJson('list')).some((r: any) => r.workflowId === id && r.status === 'RUNNING')).toBe(true);

    // pause returns once the run holds still: nothing in flight, and no delete until resume.
    expect(await cliJson('pause', id, '--reason', 'change window')).toMatchObject({
      workflowId: id,
      paused: true,
      progress: { paused: true, inFlight: 0, pauseReason: 'change window' },
    });
    const deletesAtPause = (await env.emulator.control.stats()).deletes.length;
    const paused = await cliJson('status', id);
    expect(paused.progress).toMatchObject({ paused: true, inFlight: 0, pauseReason: 'change window' });
    expect((await cli('status', id)).stdout).toContain('change window');
    // Slower still (about 4 s an item): the run is still going when the cancel comes, however busy the machine.
    expect(await cliJson('set-rate', id, '--rate', '0.25', '--pool-rate', '0.25', '--window', '1')).toEqual({ rate: 0.25, poolRate: 0.25, window: 1 });
    const refused = await cli('set-rate', id, '--window', '9999');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^rs-cleanup: option '--window <n>' argument '9999' is invalid\. .*from 1 to 500.*\nUsage: rs-cleanup set-rate \[options\] <run> .*\n$/);
    expect((await env.emulator.control.stats()).deletes).toHaveLength(deletesAtPause);
    expect((await cli('resume', id)).code).toBe(0);
    const resumed = await waitFor(
      () => cliJson('status', id),
      (s) => s.progress && !s.progress.paused && s.progress.done > paused.progress.done,
      'progress after resume',
    );
    expect(resumed.progress.limits).toEqual({ rate: 0.25, poolRate: 0.25, window: 1 });
    const cancelled = await cli('cancel', id, '--reason', 'change freeze');
    expect(cancelled.code).toBe(0);

    const final = await waitFor(() => cliJson('status', id), (s) => s.status === 'COMPLETED', 'the run to end');
    expect(final.summary).toMatchObject({ status: 'cancelled', stopReason: 'cancelled: change freeze' });
    expect(final.summary.counts.deleted + final.summary.counts.cancelled).toBe(items.length);
    const statusText = await cli('status', id);
    expect(statusText.code).toBe(3);
    expect(statusText.stdout).toContain('cancelled (cancelled: change freeze)');

    const report = await cli('report', id);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(new RegExp(`deleted\\s+${final.summary.counts.deleted}\\s`));
    expect(report.stdout).toMatch(new RegExp(`cancelled\\s+${final.summary.counts.cancelled}\\s`));
    const reportJson = await cliJson('report', id);
    expect(reportJson.counts).toEqual(final.summary.counts);

    const missing = await cli('status', 'no-such-run');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("rs-cleanup: no run with workflow ID 'no-such-run'; see the runs with: rs-cleanup list\n");
  });

  it("redrive runs the failed and cancelled items again with the run's options unless given anew; report shows them", async () => {
    const { userPools, items } = seedPools('Redrive', 1, 6);
    const pool = userPools[0]!.id;
    await env.emulator.control.seed({ userPools });
    // The first item is protected; the next two fail hard, which stops the run (--max-failures 2): three are cancelled.
    await env.emulator.control.setConfig({
      faults: { failNext: [{ operation: 'DeleteResourceServer', count: 2, error: 'InvalidParameterException' }] },
    });
    const source = await env.inputFile('redrive.csv', csvInput(items));
    const id = `redrive-${Date.now()}`;
    const first = await env.run(
      {
        source,
        execute: true,
        inUse: 'delete',
        verify: true,
        protect: [`${pool},${items[0]!.identifier}`],
        limits: { rate: 3, poolRate: 3, window: 1 },
        failureThreshold: { count: 2 },
      },
      id,
    );
    expect(first.counts).toMatchObject({ 'skipped-protected': 1, failed: 2, cancelled: 3, deleted: 0 });

    const report = await cli('report', id);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('--in-use delete --rate 3 --pool-rate 3 --window 1');
    expect(report.stdout).toContain('--verify');
    expect(report.stdout).toMatch(/failed, by error code[^\n]*\n\s+2  InvalidParameterException: /);
    expect(report.stdout).toMatch(/cancelled, by error code[^\n]*\n\s+3  failure threshold reached/);
    expect(report.stdout).toContain(`rs-cleanup redrive ${id} --execute`);
    expect((await cliJson('report', id)).errors.failed).toEqual([{ code: 'InvalidParameterException', count: 2, sample: expect.any(String) }]);

    const dry = await cliJson('redrive', id);
    expect(dry.counts).toMatchObject({ 'would-delete': 5 });
    expect(dry.options).toMatchObject({ execute: false, inUse: 'delete', verify: true, limits: { rate: 3, poolRate: 3, window: 1 } });
    expect(dry.options.protect).toContain(`${pool},${items[0]!.identifier}`);
    expect((await env.emulator.control.stats()).deletes).toHaveLength(0);

    // A flag given anew wins; the rest is still the original run's.
    const redriven = await cliJson('redrive', id, '--execute', '--yes', '--rate', '4');
    expect(redriven.counts).toMatchObject({ deleted: 5, failed: 0 });
    expect(redriven.options).toMatchObject({ execute: true, inUse: 'delete', verify: true, limits: { rate: 4, poolRate: 3, window: 1 } });
    expect(redriven.workflowId).toMatch(new RegExp(`^${id}-redrive-`));
    const stats = await env.emulator.control.stats();
    expect(new Set(stats.deletes.map((d) => d.identifier))).toEqual(new Set(items.slice(1).map((i) => i.identifier)));
    expect(stats.deletes).toHaveLength(5);
    expect((await cli('redrive', redriven.workflowId)).stderr).toContain('nothing to redrive');
  });

  it('discover writes a valid input of the servers whose identifiers match', async () => {
    // 61 servers exceed the default 25 per pool: raise the adjustable quota, as an account can.
    await env.emulator.control.setConfig({ maxResourceServersPerPool: 100 });
    await env.emulator.control.seed({
      userPools: [{
        id: 'us-east-1_Discover1',
        name: 'discover',
        resourceServers: [
          ...Array.from({ length: 60 }, (_, i) => ({ identifier: `https://api.example.com/tenant-a/${i}`, name: `a${i}` })),
          { identifier: 'https://api.example.com/tenant-b/1', name: 'b1' },
        ],
      }],
    });
    const output = path.join(env.tmpDir, 'discovered.csv');
    // A real process: discover writes to the process's own streams (cli/discover.ts is another change's).
    const discover = (...args: string[]) => runCli(args, cliEnv);
    const discoverJson = async (...args: string[]) => JSON.parse((await discover(...args, '--json')).stdout);

    const result = await discover('discover', '--pool', 'us-east-1_Discover1', '--match', '/tenant-a/', '-o', output);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('60 of 61 resource servers');
    const parsed = await readInputFile(output);
    expect(parsed.errors).toEqual([]);
    expect(parsed.items).toHaveLength(60); // more than one ListResourceServers page of 50
    expect(parsed.items.every((i) => i.identifier.includes('/tenant-a/'))).toBe(true);
    const json = await discoverJson('discover', '--pool', 'us-east-1_Discover1', '--match', 'tenant-b');
    expect(json).toMatchObject({ listed: 61, matched: [{ identifier: 'https://api.example.com/tenant-b/1', name: 'b1' }] });
    expect((await cli('discover', '--pool', 'us-east-1_Discover1', '--match', '(')).code).toBe(2);
    expect((await cli('discover', '--pool', 'not a pool')).code).toBe(2);
  });

  it('restore brings back exactly what was deleted, is idempotent, and leaves conflicts alone', async () => {
    const { userPools, items } = seedPools('Restore', 2, 4);
    await env.emulator.control.seed({
      userPools: userPools.map((pool, p) => ({
        ...pool,
        clients: [{ clientName: `app-${p}`, allowedOAuthScopes: [`${pool.resourceServers[0]!.identifier}/read`] }],
      })),
    });
    const before = comparableState(await env.emulator.control.state());
    const source = await env.inputFile('restore.csv', csvInput(items));
    const summary = await env.run({ source, execute: true, inUse: 'delete' });
    expect(summary.counts.deleted).toBe(items.length);
    expect((await env.emulator.control.state()).userPools.every((p) => p.resourceServers.length === 0)).toBe(true);

    const dry = await cliJson('restore', '--from', summary.manifestDir!);
    expect(dry.counts).toMatchObject({ 'would-restore': items.length, restored: 0 });
    expect((await env.emulator.control.state()).userPools[0]!.resourceServers).toHaveLength(0);

    // Without --json, restore --execute shows its progress on standard error, ending with every item.
    const restoring = await cli('restore', '--from', summary.manifestDir!, '--execute');
    expect(restoring.code, restoring.stderr).toBe(0);
    expect(restoring.stderr).toMatch(new RegExp(`^Restoring ${items.length} resource server\\(s\\)\n\\[#+-*\\] 1/${items.length} \\d+% \\| restored 1 \\| [\\d.]+/s`));
    expect(restoring.stderr).toMatch(new RegExp(`\\[#{24}\\] ${items.length}/${items.length} 100% \\| restored ${items.length} \\| [\\d.]+/s\n$`));
    expect(restoring.stdout).toMatch(/^ {2}restored {8}8$/m);
    expect(comparableState(await env.emulator.control.state())).toEqual(before);

    const again = await cliJson('restore', '--from', summary.auditFile!, '--execute');
    expect((await cli('restore', '--from', summary.auditFile!, '--execute', '--json')).stderr).not.toMatch(/\d+\/\d+ \d+%/);
    expect(again.counts).toMatchObject({ 'already-present': items.length, restored: 0 });
  });

  it('restore reports a server recreated with another definition as a conflict and leaves it alone', async () => {
    const { userPools, items } = seedPools('Conflict', 1, 2);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('conflict.csv', csvInput(items));
    const summary = await env.run({ source, execute: true });
    const sdk = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: env.emulator.url, credentials: DEFAULT_TEST_CREDENTIALS });
    await sdk.send(new CreateResourceServerCommand({ UserPoolId: items[0]!.userPoolId, Identifier: items[0]!.identifier, Name: 'someone else' }));
    sdk.destroy();

    const result = await cli('restore', '--from', summary.manifestDir!, '--execute', '--json');

    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.counts).toMatchObject({ conflict: 1, restored: 1 });
    const servers = (await env.emulator.control.state()).userPools[0]!.resourceServers;
    expect(servers.find((s) => s.identifier === items[0]!.identifier)!.name).toBe('someone else');
  });

  it('schedules a cleanup that runs when triggered, and manages the schedule', { timeout: 600_000 }, async () => {
    const { userPools, items } = seedPools('Sched', 1, 4);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('sched.csv', csvInput(items));
    const id = `sched-${Date.now()}`;

    const created = await cli('schedule', 'create', '--id', id, '--every', '1h', '--input', source.path, '--execute', '--yes', '--audit-dir', env.auditDir);
    expect(created.code).toBe(0);
    // The same ID again is refused, not replaced; a bad cron expression is refused before anything is asked or created.
    const again = await cli('schedule', 'create', '--id', id, '--every', '2h', '--input', source.path);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `rs-cleanup: a schedule with ID '${id}' exists already; nothing was changed. See it with: rs-cleanup schedule describe ${id}; pick another --id, or delete it first\n`,
    );
    for (const cron of ['61 * * * *', '0 3 * *', 'every monday']) {
      const badCron = await cli('schedule', 'create', '--id', `${id}-cron`, '--cron', cron, '--input', source.path, '--execute');
      expect(badCron.code, cron).toBe(2);
      expect(badCron.stderr, cron).toMatch(/^rs-cleanup: option '--cron <expr>' argument .* is invalid\. .* is not a cron expression: .*\nUsage: rs-cleanup schedule create \[options\] .*\n$/);
    }
    await expect(env.client.schedule.getHandle(`${id}-cron`).describe()).rejects.toThrow(/not found/i);
    expect((await cliJson('schedule', 'list')).some((s: any) => s.scheduleId === id)).toBe(true);
    expect(await cliJson('schedule', 'describe', id)).toMatchObject({ scheduleId: id, input: source.path, execute: true, spec: 'every 1h', overlap: 'SKIP' });

    expect((await cli('schedule', 'trigger', id)).code).toBe(0);
    await waitFor(async () => (await env.emulator.control.stats()).deletes.length, (n) => n === items.length, 'the scheduled run to delete');
    const described = await waitFor(() => cliJson('schedule', 'describe', id), (d) => d.recentActions.length === 1 && d.runningWorkflows.length === 0, 'the run to finish');
    const runId = described.recentActions[0].workflowId;
    expect(runId).toMatch(new RegExp(`^${id}`));
    // The schedule's own view can say "done" a moment before the run has written its manifest.
    const status = await waitFor(() => cliJson('status', runId), (s) => s.status === 'COMPLETED', 'the scheduled run to complete');
    expect(status.summary).toMatchObject({ status: 'completed', counts: { deleted: items.length } });

    expect((await cli('schedule', 'pause', id, '--note', 'freeze')).code).toBe(0);
    expect(await cliJson('schedule', 'describe', id)).toMatchObject({ paused: true, note: 'freeze' });
    expect((await cli('schedule', 'unpause', id)).code).toBe(0);
    expect((await cliJson('schedule', 'describe', id)).paused).toBe(false);
    expect((await cli('schedule', 'delete', id)).code).toBe(0);
    expect((await cliJson('schedule', 'list')).some((s: any) => s.scheduleId === id)).toBe(false);
    expect((await cli('schedule', 'describe', id)).code).toBe(2);
    expect((await cli('schedule', 'describe', id)).stderr).toBe(`rs-cleanup: no schedule with ID '${id}'; see them with: rs-cleanup schedule list\n`);
    const noCluster = await cliInProcess(['schedule', 'list'], { ...cliEnv, TEMPORAL_ADDRESS: '' });
    expect(noCluster.code).toBe(2);
    expect(noCluster.stderr).toMatch(/^rs-cleanup: schedules need a Temporal cluster .*\n$/);
  });
});
