/**
 * Everyday mistakes, in-process through the CLI's own parsing: each one is
 * one line with the next step and the documented exit code, and nothing
 * starts. Bad option values; TEMPORAL_ADDRESS pointing at nothing; an input
 * changed after it was checked; no AWS credentials at all; Ctrl-C while a run
 * is followed (and nothing left behind by an in-process run).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Connection } from '@temporalio/client';
import { closeActivityDeps, createActivities, createActivityDeps } from '../../activities';
import { sha256File } from '../../common/plan-file';
import { freePort } from '../../common/temporal-dev-server';
import { csvInput, seedPools, startCleanupEnv, WORKFLOWS, type CleanupEnv } from '../helpers/cleanup-env';
import { startWorker, uniqueTaskQueue } from '../helpers/temporal';
import { waitFor, withTimeout } from '../helpers/wait-for';
import { cliEnvironment, cliInProcess, startCliInProcess } from '../operator/helpers';

const oneLine = (text: string) => text.trim().split('\n').length === 1 && text.startsWith('rs-cleanup: ') && text.endsWith('\n');

describe('option values are checked before anything starts', () => {
  // Nothing answers here: a command that got past its options would say "cannot reach" instead.
  const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', RS_CLEANUP_DATA_DIR: path.join(os.tmpdir(), 'rs-cleanup-options-never-used') };
  const refusals: [string[], RegExp][] = [
    [['run', '--pair', 'us-east-1_A1,x', '--rate', '0'], /'--rate <n>' argument '0' is invalid\. expected calls per second from 0\.01 to 1000/],
    [['run', '--pair', 'us-east-1_A1,x', '--rate', '0.001'], /'--rate <n>' argument '0\.001'/],
    [['run', '--pair', 'us-east-1_A1,x', '--rate', '1e9'], /'--rate <n>' argument '1e9'/],
    [['run', '--pair', 'us-east-1_A1,x', '--pool-rate', '-1'], /'--pool-rate <n>' argument '-1'/],
    [['run', '--pair', 'us-east-1_A1,x', '--window', '1.5'], /'--window <n>' argument '1\.5' is invalid\. expected items in flight: a whole number from 1 to 500/],
    [['run', '--pair', 'us-east-1_A1,x', '--window', '501'], /'--window <n>' argument '501'/],
    [['run', '--pair', 'us-east-1_A1,x', '--max-deletes', '0'], /'--max-deletes <n>' argument '0'/],
    [['run', '--pair', 'us-east-1_A1,x', '--max-failures', '2.5'], /'--max-failures <n>' argument '2\.5'/],
    [['run', '--pair', 'us-east-1_A1,x', '--max-failure-percent', '0'], /'--max-failure-percent <p>' argument '0'/],
    [['run', '--pair', 'us-east-1_A1,x', '--max-failure-percent', '101'], /'--max-failure-percent <p>' argument '101'/],
    [['run', '--pair', 'us-east-1_A1,x', '--max-attempts', '3000000000'], /'--max-attempts <n>' argument '3000000000' is invalid\. expected attempts per item: a whole number from 1 to 100/],
    [['run', '--pair', 'us-east-1_A1,x', '--in-use', 'maybe'], /'--in-use <policy>' argument 'maybe' is invalid\. Allowed choices are skip, delete, fail/],
    [['run', '--pair', 'us-east-1_A1,x', '--format', 'xml'], /'--format <format>' argument 'xml' is invalid/],
    [['run', '--pair', 'us-east-1_A1,x', '--id', ''], /'--id <workflowId>' argument '' is invalid\. expected a name, got an empty one/],
    [['run', '--pair', 'us-east-1_A1,x', '--task-queue', 'a\tb'], /'--task-queue <name>' argument .* is invalid\. expected no control characters/],
    [['redrive', 'some-run', '--window', '0'], /'--window <n>' argument '0'/],
    [['set-rate', 'some-run', '--rate', '5000'], /'--rate <n>' argument '5000'/],
    [['set-rate', 'some-run'], /give at least one of --rate, --pool-rate, --window/],
    [['list', '--limit', '0'], /'--limit <n>' argument '0'/],
    [['list', '--limit', '5000'], /'--limit <n>' argument '5000'/],
    [['status', ''], /value '' is invalid for argument 'run'\. expected a name, got an empty one/],
    [['schedule', 'create', '--id', 's', '--input', 'x.csv', '--every', '0h'], /'--every <duration>' argument '0h' is invalid/],
    [['schedule', 'create', '--id', 's', '--input', 'x.csv', '--cron', '0 25 * * *'], /hour 25 is outside 0-23/],
    [['schedule', 'create', '--id', 's', '--input', 'x.csv', '--cron', '0 3 * * 1', '--every', '1h'], /give exactly one of --cron EXPR or --every DURATION/],
    [['run', '--rate'], /option '--rate <n>' argument missing/],
    [['run', '--no-such-flag'], /unknown option '--no-such-flag'/],
  ];

  // Refused by a command, after the command line parsed: the one line alone.
  const byCommand = [/give at least one of --rate/, /give exactly one of --cron/];

  it.each(refusals)("rs-cleanup %j: exit 2, one line, then the command's short usage", async (args, message) => {
    const result = await cliInProcess(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    const [line, ...rest] = result.stderr.split('\n');
    expect(oneLine(`${line}\n`), result.stderr).toBe(true);
    if (byCommand.some((m) => m.test(result.stderr))) {
      expect(rest.join('\n'), result.stderr).toBe('');
    } else {
      const command = args[0] === 'schedule' ? 'schedule create' : args[0];
      // Not the whole help: its usage line, and where the rest is.
      expect(rest, result.stderr).toEqual([expect.stringMatching(new RegExp(`^Usage: rs-cleanup ${command} \\[options\\].*\\(rs-cleanup ${command} --help for more\\)$`)), '']);
    }
  });

  it("a global option's mistake: one line, then the program's usage (the option is the program's)", async () => {
    const result = await cliInProcess(['run', '--pair', 'us-east-1_A1,x', '--ui-port', '0'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "rs-cleanup: option '--ui-port <port>' argument '0' is invalid. expected a port number: a whole number from 1 to 65535, got '0'\n" +
        'Usage: rs-cleanup [options] [command]  (rs-cleanup --help for more)\n',
    );
  });

  it('values at the bounds pass (then the command meets the unreachable server)', async () => {
    const result = await cliInProcess(
      ['run', '--pair', 'us-east-1_A1,x', '--rate', '0.01', '--pool-rate', '1000', '--window', '500', '--max-attempts', '100', '--max-failure-percent', '100', '--id', 'x'.repeat(1000)],
      env,
    );
    expect(result.stderr).toMatch(/^rs-cleanup: cannot reach Temporal at 127\.0\.0\.1:1 \(TEMPORAL_ADDRESS\)/);
  });
});

describe('TEMPORAL_ADDRESS pointing at nothing', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers: a firewall or a wrong service.
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    silent?.close();
  });

  it('names the address in one line and exits 2, whether nothing listens or nothing answers', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const silentAddress = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    for (const [address, args] of [
      [closed, ['status', 'some-run']],
      [silentAddress, ['run', '--pair', 'us-east-1_A1,x', '--execute', '--yes']],
    ] as const) {
      const result = await cliInProcess([...args], { TEMPORAL_ADDRESS: address });
      expect(result.code, address).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(`^rs-cleanup: cannot reach Temporal at ${address.replace(/\./g, '\\.')} \\(TEMPORAL_ADDRESS\\): .*; is the server running there, and are the address and its TLS settings right\\?\\n$`),
      );
    }
  });
});

describe('a run against the suite server', () => {
  let env: CleanupEnv;
  let cliEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = await startCleanupEnv({ emulator: { quotas: false } });
    cliEnv = cliEnvironment(env);
  });
  afterAll(() => env?.close());
  afterEach(() => vi.restoreAllMocks());

  it('an input changed after it was checked fails in one line, exit 2, nothing deleted', async () => {
    const { userPools, items } = seedPools('Changed', 1, 3);
    await env.emulator.control.reset();
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('changed.csv', csvInput(items));
    // No worker polls this queue yet: the run waits, and the file changes before prepareInput reads it.
    const taskQueue = uniqueTaskQueue('changed');
    const run = startCliInProcess(['run', '--input', source.path, '--execute', '--yes', '--audit-dir', env.auditDir], { ...cliEnv, TEMPORAL_TASK_QUEUE: taskQueue });
    const handle = env.client.workflow.getHandle(`rs-cleanup-${source.sha256!.slice(0, 12)}-execute`);
    await waitFor(async () => (await handle.describe().catch(() => undefined))?.status.name, (s) => s === 'RUNNING', 'the run to start');
    await writeFile(source.path, csvInput(items.slice(0, 1)));

    const deps = createActivityDeps(env.config);
    const worker = await startWorker({ workflowsPath: WORKFLOWS, activities: createActivities(env.config, deps), taskQueue });
    try {
      const result = await withTimeout(run.done, 120_000, 'the run to end', run.stderr);
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines.at(-1)).toMatch(
        new RegExp(`^rs-cleanup: the input ${source.path.replace(/[.]/g, '\\.')} changed since the run was started: .*; nothing was deleted\\. Run the command again to check the file as it is now`),
      );
      expect((await env.emulator.control.stats()).operations).toEqual({});
    } finally {
      await worker.shutdown();
      await closeActivityDeps(deps);
    }
  });

  it('Ctrl-C while following: exit 130, the run goes on, and the in-process command leaves nothing behind', async () => {
    const { userPools, items } = seedPools('Interrupt', 1, 10);
    await env.emulator.control.reset();
    await env.emulator.control.seed({ userPools });
    const source = await env.inputFile('interrupt.csv', csvInput(items));
    const hooks = () => ['SIGINT', 'SIGTERM', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'].map((e) => process.listenerCount(e));
    const hooksBefore = hooks();
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`process.exit(${code}) called by an in-process command`);
    }) as typeof process.exit);
    const opened: { closed: boolean }[] = [];
    const connect = Connection.connect.bind(Connection);
    vi.spyOn(Connection, 'connect').mockImplementation(async (options) => {
      const connection = await connect(options);
      const record = { closed: false };
      opened.push(record);
      const close = connection.close.bind(connection);
      connection.close = async () => {
        record.closed = true;
        return close();
      };
      return connection;
    });

    // Slow by configuration (10 items, one at a time, at 0.2/s): still running when interrupted, however busy the machine.
    const run = startCliInProcess(['run', '--input', source.path, '--execute', '--yes', '--rate', '0.2', '--pool-rate', '0.2', '--window', '1', '--audit-dir', env.auditDir], cliEnv);
    await withTimeout(run.stderrMatches(/EXECUTE: deleting 10 resource server\(s\)/), 120_000, 'the run to start', run.stderr);
    run.interrupt();
    const result = await withTimeout(run.done, 120_000, 'the command to stop', run.stderr);

    expect(result.code).toBe(130);
    const workflowId = `rs-cleanup-${source.sha256!.slice(0, 12)}-execute`;
    expect(result.stderr).toContain(`Interrupted. The run goes on in Temporal; follow it with: rs-cleanup status ${workflowId} --watch (workflow ID ${workflowId}).`);
    const handle = env.client.workflow.getHandle(workflowId);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    // Other commands, too, close what they open.
    expect((await cliInProcess(['status', workflowId, '--json'], cliEnv)).code).toBe(0);
    expect((await cliInProcess(['list', '--json'], cliEnv)).code).toBe(0);
    expect((await cliInProcess(['pause', workflowId], cliEnv)).code).toBe(0);
    expect(exit).not.toHaveBeenCalled();
    expect(hooks()).toEqual(hooksBefore);
    expect(opened.length).toBe(4);
    expect(opened.every((c) => c.closed)).toBe(true);

    // Its deletes wait in the limiter at 0.2/s: end it at once rather than let a cancel drain them.
    await handle.terminate('test over');
  });
});

describe('no AWS credentials at all, with the embedded default', () => {
  const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'HOME'];
  const saved: Record<string, string | undefined> = {};
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-nocreds-'));
    for (const name of names) saved[name] = process.env[name];
    // The SDK's default chain reads this process's environment and home directory: leave it nothing to find.
    for (const name of names) delete process.env[name];
    Object.assign(process.env, {
      HOME: dir,
      AWS_CONFIG_FILE: path.join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
  afterAll(() => {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('says that no credentials were found and how to provide them, exit 2, before any server starts', async () => {
    const input = path.join(dir, 'input.csv');
    await writeFile(input, csvInput([{ userPoolId: 'us-east-1_NoCreds1', identifier: 'https://api.example.com/x' }]));
    const dataDir = path.join(dir, 'data');

    const result = await cliInProcess(['run', '--input', input, '--execute', '--yes'], { RS_CLEANUP_DATA_DIR: dataDir });

    expect(result.code).toBe(2);
    expect(oneLine(result.stderr), result.stderr).toBe(true);
    expect(result.stderr).toMatch(/^rs-cleanup: no AWS credentials: the embedded worker calls Cognito with the AWS SDK's default credential chain, which found none \(.*\); provide them with AWS_PROFILE .*, with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or with an IAM role\. Nothing was deleted\n$/);
    expect(result.stderr).not.toMatch(/cognito-idp:|IAM polic/);
    // Nothing started: no server, no lock, no database.
    expect(existsSync(dataDir) ? await readdir(dataDir) : []).toEqual([]);
    expect(await sha256File(input)).toBeTruthy();
  });
});

describe('a Web UI port that is not one, with the embedded default', () => {
  it('RS_CLEANUP_UI_PORT is named in one line, exit 2, before any server starts', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-ui-port-'));
    const result = await cliInProcess(['pause', 'some-run'], { RS_CLEANUP_DATA_DIR: dataDir, RS_CLEANUP_UI_PORT: 'eighty' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("rs-cleanup: RS_CLEANUP_UI_PORT='eighty' is not a port: expected a whole number from 1 to 65535, or 'off'\n");
    expect(await readdir(dataDir)).toEqual([]);
  });
});
