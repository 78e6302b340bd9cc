/**
 * The `rs-cleanup run` command as an operator meets it, against the suite's
 * Temporal server (TEMPORAL_ADDRESS set, so it only starts the workflow) and a
 * worker on the test's task queue. The command runs in-process (cli/main.ts
 * runCli); one test runs the real binary for its exit codes.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { csvInput, seedPools, startCleanupEnv, type CleanupEnv } from '../helpers/cleanup-env';
import { runCli } from '../helpers/processes';
import { cliEnvironment, cliInProcess } from '../operator/helpers';

describe('rs-cleanup run', () => {
  let env: CleanupEnv;
  let cliEnv: NodeJS.ProcessEnv;
  const run = (...args: string[]) => cliInProcess(['run', ...args], cliEnv);

  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    cliEnv = cliEnvironment(env);
  });
  afterAll(() => env?.close());
  beforeEach(async () => {
    await env.emulator.control.reset();
    await env.emulator.control.setConfig({ faults: { failNext: [] } });
  });

  it('the real binary exits 0 on a clean dry-run, 1 when an item failed, 2 on a usage error', async () => {
    const { userPools, items } = seedPools('CliBin', 1, 2);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('cli-bin.csv', csvInput(items));

    const dry = await runCli(['run', '--input', source.path, '--json', '--audit-dir', env.auditDir], cliEnv);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).counts['would-delete']).toBe(items.length);

    await env.emulator.control.setConfig({
      faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'InvalidParameterException' }] },
    });
    const failed = await runCli(['run', '--input', source.path, '--execute', '--yes', '--window', '1', '--audit-dir', env.auditDir], cliEnv);
    expect(failed.code, failed.stderr).toBe(1);

    const usage = await runCli(['run', '--input', source.path, '--window', '0'], cliEnv);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe(
      "rs-cleanup: option '--window <n>' argument '0' is invalid. expected items in flight: a whole number from 1 to 500, got '0'\n" +
        'Usage: rs-cleanup run [options]  (rs-cleanup run --help for more)\n',
    );
  });

  it('is a dry-run by default: exit 0, JSON summary, nothing deleted', async () => {
    const { userPools, items } = seedPools('CliDry', 2, 3);
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('cli-dry.csv', csvInput(items));

    const result = await run('--input', source.path, '--json', '--audit-dir', env.auditDir);

    expect(result.stderr).toContain('Dry-run');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.counts['would-delete']).toBe(items.length);
    expect((await env.emulator.control.stats()).deletes).toEqual([]);
  });

  it('deletes with --execute and exits 1 when an item failed, pointing at redrive; failed.csv re-runs as input too', async () => {
    const { userPools, items } = seedPools('CliExec', 1, 4);
    await env.emulator.control.seed({ userPools });
    await env.emulator.control.setConfig({
      faults: { failNext: [{ operation: 'DeleteResourceServer', count: 1, error: 'InvalidParameterException' }] },
    });
    const source = await env.inputFile('cli-exec.csv', csvInput(items));

    const first = await run('--input', source.path, '--execute', '--yes', '--window', '1', '--audit-dir', env.auditDir);

    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/deleted\s+3/);
    expect(first.stdout).toMatch(/failed\s+1/);
    expect(first.stdout).toMatch(/rs-cleanup redrive rs-cleanup-\S+-execute --execute/);
    const manifestDir = first.stdout.match(/^\s+manifest\s+(\S+)$/m)![1]!;
    const failedCsvPath = path.join(manifestDir, 'failed.csv');
    const failedCsv = await readFile(failedCsvPath, 'utf8');
    expect(failedCsv.split('\n')[0]).toContain('userPoolId,identifier');

    const second = await run('--input', failedCsvPath, '--execute', '--yes', '--json', '--audit-dir', env.auditDir);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).counts.deleted).toBe(1);
    expect((await env.emulator.control.stats()).deletes).toHaveLength(4);
  });

  it('exits 2 on invalid input, naming file, row and column, and starts nothing', async () => {
    const source = await env.inputFile('cli-bad.csv', 'userPoolId,identifier\nnot-a-pool,x\nus-east-1_Ok1,"two words"\n');

    const result = await run('--input', source.path, '--execute');

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${source.path}:2`);
    expect(result.stderr).toContain(`${source.path}:3`);
    expect(result.stderr).toMatch(/identifier/);
    expect(result.stderr).toContain('Nothing was deleted');
    expect((await env.emulator.control.stats()).operations).toEqual({});
  });

  it("exits 2 on usage errors, in one line (then the command's usage): no input, a missing file, a bad number", async () => {
    const none = await run();
    expect(none).toMatchObject({ code: 2, stderr: 'rs-cleanup: nothing to do: give --input FILE or at least one --pair POOL,IDENTIFIER\n' });
    const missing = await run('--input', '/nonexistent/input.csv');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/input.csv');
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const fast = await run('--pair', 'us-east-1_A1,x', '--rate', 'fast');
    expect(fast).toMatchObject({
      code: 2,
      stderr: "rs-cleanup: option '--rate <n>' argument 'fast' is invalid. expected a number, got 'fast'\nUsage: rs-cleanup run [options]  (rs-cleanup run --help for more)\n",
    });
  });

  it('takes --pair items split at the first comma', async () => {
    const identifier = 'https://api.example.com/a,b:c';
    await env.emulator.control.seed({
      userPools: [{ id: 'us-east-1_Pairs1', name: 'pairs', resourceServers: [{ identifier, name: 'comma' }] }],
    });

    const result = await run('--pair', `us-east-1_Pairs1,${identifier}`, '--execute', '--yes', '--json', '--audit-dir', env.auditDir);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).counts.deleted).toBe(1);
    expect((await env.emulator.control.stats()).deletes.map((d) => d.identifier)).toEqual([identifier]);
  });

  it('refuses a bad --pair naming the pair as typed, and writes no input file', async () => {
    const inputsDir = path.join(cliEnv.RS_CLEANUP_DATA_DIR!, 'inputs-refused');
    const result = await cliInProcess(
      ['run', '--pair', 'us-east-1_Pairs1,https://api.example.com/ok', '--pair', 'us-east-1_Pairs1,two words', '--execute', '--yes'],
      { ...cliEnv, RS_CLEANUP_DATA_DIR: inputsDir },
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^rs-cleanup: --pair 'us-east-1_Pairs1,two words': column 'identifier': .*; nothing was deleted\n$/);
    expect(result.stderr).not.toContain('.csv');
    expect(existsSync(path.join(inputsDir, 'inputs'))).toBe(false);
    expect((await env.emulator.control.stats()).operations).toEqual({});
  });
});
