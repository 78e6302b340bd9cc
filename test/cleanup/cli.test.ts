/**
 * The `rs-cleanup run` command as an operator meets it: a real process against
 * the suite's Temporal server (TEMPORAL_ADDRESS set, so it only starts the
 * workflow) and a worker on the test's task queue.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import { csvInput, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { runCli } from '../helpers/processes';
import { temporalAddress } from '../helpers/temporal';

describe('rs-cleanup run', () => {
  let env: CleanupEnv;
  let cliEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    cliEnv = {
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: env.worker.taskQueue,
      AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
      RS_CLEANUP_DATA_DIR: path.join(env.tmpDir, 'data'),
    };
  });
  afterAll(() => env?.close());
  beforeEach(() => env.emulator.control.reset());

  it('is a dry-run by default: exit 0, JSON summary, nothing deleted', async () => {
    const { userPools, items } = seedPools('CliDry', 2, 3);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('cli-dry.csv', csvInput(items));

    const result = await runCli(['run', '--input', source.path, '--json', '--audit-dir', env.auditDir], cliEnv);

    expect(result.stderr).toContain('Dry-run');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.counts['would-delete']).toBe(items.length);
    expect((await env.emulator.control.stats()).deletes).toEqual([]);
  });

  it('deletes with --execute and exits 1 when an item failed, pointing at failed.csv, which re-runs as input', async () => {
    const { userPools, items } = seedPools('CliExec', 1, 4);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({
      faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'InvalidParameterException' }] },
    });
    const source = await env.inputFile('cli-exec.csv', csvInput(items));

    const first = await runCli(['run', '--input', source.path, '--execute', '--yes', '--window', '1', '--audit-dir', env.auditDir], cliEnv);

    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/deleted\s+3/);
    expect(first.stdout).toMatch(/failed\s+1/);
    const rerun = first.stdout.match(/rs-cleanup run --input (\S+failed\.csv) --execute/);
    expect(rerun).not.toBeNull();
    const failedCsv = await readFile(rerun![1]!, 'utf8');
    expect(failedCsv.split('\n')[0]).toContain('userPoolId,identifier');

    const second = await runCli(['run', '--input', rerun![1]!, '--execute', '--yes', '--json', '--audit-dir', env.auditDir], cliEnv);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).counts.deleted).toBe(1);
    expect((await env.emulator.control.stats()).deletes).toHaveLength(4);
  });

  it('exits 2 on invalid input, naming file, row and column, and starts nothing', async () => {
    const source = await env.inputFile('cli-bad.csv', 'userPoolId,identifier\nnot-a-pool,x\nus-east-1_Ok1,"two words"\n');

    const result = await runCli(['run', '--input', source.path, '--execute'], cliEnv);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${source.path}:2`);
    expect(result.stderr).toContain(`${source.path}:3`);
    expect(result.stderr).toMatch(/identifier/);
    expect(result.stderr).toContain('Nothing was deleted');
    expect((await env.emulator.control.stats()).operations).toEqual({});
  });

  it('exits 2 on usage errors: no input, a missing file, a bad number', async () => {
    expect((await runCli(['run'], cliEnv)).code).toBe(2);
    const missing = await runCli(['run', '--input', '/nonexistent/input.csv'], cliEnv);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/input.csv');
    expect((await runCli(['run', '--pair', 'us-east-1_A1,x', '--rate', 'fast'], cliEnv)).code).toBe(2);
  });

  it('takes --pair items split at the first comma', async () => {
    const identifier = 'https://api.example.com/a,b:c';
    await env.emulator.control.seed({
      userPools: [{ id: 'us-east-1_Pairs1', name: 'pairs', resourceServers: [{ identifier, name: 'comma' }] }],
    });

    const result = await runCli(['run', '--pair', `us-east-1_Pairs1,${identifier}`, '--execute', '--yes', '--json', '--audit-dir', env.auditDir], cliEnv);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).counts.deleted).toBe(1);
    expect((await env.emulator.control.stats()).deletes.map((d) => d.identifier)).toEqual([identifier]);
  });
});
