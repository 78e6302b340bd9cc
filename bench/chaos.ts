/**
 * The chaos suite: runs real cleanups while breaking things, and prints one
 * line per scenario with the invariants that must hold whatever happens:
 * - every plan item exactly once in the manifest;
 * - each resource server deleted at most once (the emulator's delete log),
 *   and every item the manifest says `deleted` really gone;
 * - how long each crash stalled the run: from the moment the broken part is
 *   back (a new worker started, the dev server answering again) to the next
 *   DeleteResourceServer the emulator accepted (or the run's end).
 *
 * Scenarios: worker processes killed (SIGKILL) at random moments; the dev
 * server stopped and restarted on its database file mid-run; the fault storm
 * of docs/chaos.md on 2,000 items; the audit directory on a full disk (a
 * 1 MiB tmpfs, when this machine lets us mount one).
 *
 *   npx tsx bench/chaos.ts [--seed N] [--only random-kills,server-restart,storm,full-disk]
 *
 * Its own dev server (on a database file), worker processes and an in-process
 * emulator; results go in docs/chaos.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type RunningEmulator } from '../emulator';
import { sha256File } from '../common/plan-file';
import { startDevServer, freePort, type DevServer } from '../common/temporal-dev-server';
import { OUTCOMES } from '../common/types';
import { cleanupWorkflow, progressQuery, resumeSignal, type CleanupInput, type CleanupSummary } from '../workflows/cleanup';
import { startWorkerProcess } from '../test/helpers/processes';

const { values: args } = parseArgs({ options: { seed: { type: 'string', default: '1' }, only: { type: 'string' } } });
let seed = Number(args.seed);
/** A small seeded PRNG (mulberry32): the kill moments repeat with the same --seed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stack {
  dir: string;
  dbFile: string;
  port: number;
  server: DevServer;
  client: Client;
  emulator: RunningEmulator;
}

async function connect(address: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace: 'default' });
}

function seedItems(prefix: string, pools: number, servers: number) {
  const userPools = Array.from({ length: pools }, (_, p) => ({
    id: `us-east-1_${prefix}${p}`,
    name: `${prefix}-${p}`,
    resourceServers: Array.from({ length: servers }, (_, s) => ({ identifier: `https://api.example.com/${prefix}/${p}/${s}`, name: `s ${p} ${s}` })),
  }));
  const items = userPools.flatMap((pool) => pool.resourceServers.map((rs) => ({ userPoolId: pool.id, identifier: rs.identifier })));
  return { userPools, items };
}

function workerEnv(stack: Stack, taskQueue: string, auditDir: string, extra: Record<string, string> = {}) {
  return {
    TEMPORAL_ADDRESS: `127.0.0.1:${stack.port}`,
    TEMPORAL_TASK_QUEUE: taskQueue,
    COGNITO_ENDPOINT: stack.emulator.url,
    AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
    RS_CLEANUP_AUDIT_DIR: auditDir,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Starts the run; returns its handle and what the scenario needs to check it. */
async function startRun(stack: Stack, name: string, items: { userPoolId: string; identifier: string }[], input: Omit<CleanupInput, 'source'>, taskQueue: string) {
  const inputPath = path.join(stack.dir, `${name}.csv`);
  await writeFile(inputPath, ['userPoolId,identifier', ...items.map((i) => `${i.userPoolId},${i.identifier}`)].join('\n') + '\n');
  return stack.client.workflow.start(cleanupWorkflow, {
    taskQueue,
    workflowId: `chaos-${name}-${Date.now()}`,
    args: [{ source: { path: inputPath, sha256: await sha256File(inputPath) }, ...input }],
  });
}

/** Seconds from `since` to the first delete the emulator accepted after it, or to `end`. */
async function stallAfter(emulator: RunningEmulator, since: number, end: number): Promise<number> {
  const next = (await emulator.control.stats()).deletes.map((d) => Date.parse(d.time)).filter((t) => t >= since).sort((a, b) => a - b)[0];
  return ((next ?? end) - since) / 1000;
}

/** The invariants, as one line's fields. */
async function invariants(summary: CleanupSummary, emulator: RunningEmulator, items: { userPoolId: string; identifier: string }[]) {
  const key = (r: { userPoolId?: string; identifier?: string }) => `${r.userPoolId} ${r.identifier}`;
  const { parse } = await import('csv-parse/sync');
  const lines: string[] = [];
  const deletedInManifest: string[] = [];
  for (const outcome of OUTCOMES) {
    const rows = parse(readFileSync(path.join(summary.manifestDir!, `${outcome}.csv`), 'utf8'), { columns: true }) as Record<string, string>[];
    lines.push(...rows.map(key));
    if (outcome === 'deleted') deletedInManifest.push(...rows.map(key));
  }
  const expected = new Set(items.map(key));
  const exact = lines.length === expected.size && new Set(lines).size === lines.length && lines.every((l) => expected.has(l));
  const deletes = (await emulator.control.stats()).deletes.map(key).filter((k) => expected.has(k));
  const once = new Set(deletes).size === deletes.length;
  const gone = new Set(deletes);
  const honest = deletedInManifest.every((k) => gone.has(k));
  const counts = Object.entries(summary.counts).filter(([, n]) => n > 0).map(([o, n]) => `${o}:${n}`).join(',');
  return `items=${items.length} status=${summary.status} outcomes=${counts} manifestExactlyOnce=${exact ? 'yes' : 'NO'} deletedAtMostOnce=${once ? 'yes' : 'NO'} deletedReallyGone=${honest ? 'yes' : 'NO'} missing=${summary.missing}`;
}

/** Worker processes killed with SIGKILL at random moments; a new one started at once each time. */
async function randomKills(stack: Stack): Promise<string> {
  const { userPools, items } = seedItems('Kill', 12, 25);
  await stack.emulator.control.reset();
  await stack.emulator.control.seed({ userPools });
  await stack.emulator.control.setConfig({ quotas: {}, faults: { latency: { fixedMs: 20, jitterMs: 30 } } });
  const taskQueue = `chaos-kill-${Date.now()}`;
  const env = workerEnv(stack, taskQueue, path.join(stack.dir, 'audit'));
  let worker = startWorkerProcess(env);
  const started = Date.now();
  const handle = await startRun(stack, 'kills', items, { execute: true, heartbeatTimeoutSeconds: 10 }, taskQueue);
  const restarts: number[] = [];
  for (let crash = 0; crash < 4; crash++) {
    await sleep(3_000 + random() * 12_000);
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.phase === 'done') break;
    worker.child.kill('SIGKILL');
    await worker.done;
    restarts.push(Date.now());
    worker = startWorkerProcess(env);
  }
  const summary = await handle.result();
  const end = Date.now();
  worker.child.kill('SIGTERM');
  await worker.done;
  const stalls = await Promise.all(restarts.map((t) => stallAfter(stack.emulator, t, end)));
  return `random-kills ${await invariants(summary, stack.emulator, items)} crashes=${restarts.length} stalls=${stalls.map((s) => `${s.toFixed(1)}s`).join(',')} duration=${((end - started) / 1000).toFixed(0)}s`;
}

/** The dev server stopped mid-run and started again on the same database file and port. */
async function serverRestart(stack: Stack): Promise<string> {
  const { userPools, items } = seedItems('Restart', 8, 25);
  await stack.emulator.control.reset();
  await stack.emulator.control.seed({ userPools });
  await stack.emulator.control.setConfig({ quotas: {}, faults: { latency: { fixedMs: 20, jitterMs: 30 } } });
  const taskQueue = `chaos-restart-${Date.now()}`;
  const worker = startWorkerProcess(workerEnv(stack, taskQueue, path.join(stack.dir, 'audit')));
  const started = Date.now();
  const handle = await startRun(stack, 'restart', items, { execute: true }, taskQueue);
  await sleep(6_000 + random() * 4_000);
  await stack.client.connection.close();
  const stopped = Date.now();
  await stack.server.stop();
  await sleep(2_000);
  stack.server = await startDevServer({ dbFile: stack.dbFile, port: stack.port, startTimeoutMs: 120_000 });
  const back = Date.now();
  stack.client = await connect(stack.server.address);
  const summary = await stack.client.workflow.getHandle<typeof cleanupWorkflow>(handle.workflowId).result();
  const end = Date.now();
  worker.child.kill('SIGTERM');
  await worker.done;
  return `server-restart ${await invariants(summary, stack.emulator, items)} outage=${((back - stopped) / 1000).toFixed(1)}s stall=${(await stallAfter(stack.emulator, back, end)).toFixed(1)}s duration=${((end - started) / 1000).toFixed(0)}s`;
}

/** 20% throttling and 5% internal errors on Describe and Delete, dropped connections, latency spikes. */
async function storm(stack: Stack): Promise<string> {
  const { userPools, items } = seedItems('Storm', 40, 50);
  await stack.emulator.control.reset();
  await stack.emulator.control.setConfig({ quotas: false, maxResourceServersPerPool: 50 });
  await stack.emulator.control.seed({ userPools });
  const faults = { throttle: 0.2, internalError: 0.05, dropBeforeProcessing: 0.01, dropAfterProcessing: 0.01 };
  await stack.emulator.control.setConfig({
    faultSeed: 2_000,
    faults: { operations: { DescribeResourceServer: faults, DeleteResourceServer: faults }, latency: { fixedMs: 0, jitterMs: 5, spikeProbability: 0.02, spikeMs: 300 } },
  });
  const taskQueue = `chaos-storm-${Date.now()}`;
  const auditDir = path.join(stack.dir, 'audit');
  const worker = startWorkerProcess(workerEnv(stack, taskQueue, auditDir, { RS_CLEANUP_RATE: '100', RS_CLEANUP_POOL_RATE: '100', RS_CLEANUP_READ_RATE: '100', RS_CLEANUP_POOL_READ_RATE: '100' }));
  const started = Date.now();
  const handle = await startRun(stack, 'storm', items, { execute: true, limits: { rate: 100, poolRate: 100, window: 150 }, pageSize: 500 }, taskQueue);
  const summary = await handle.result();
  const seconds = (Date.now() - started) / 1000;
  worker.child.kill('SIGTERM');
  await worker.done;
  const audit = readFileSync(summary.auditFile!, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const attempts = audit.filter((r) => r.event === 'attempt').map((r) => r.attempt as number);
  const stats = await stack.emulator.control.stats();
  const throttled = (stats.operations.DeleteResourceServer?.TooManyRequestsException ?? 0) + (stats.operations.DescribeResourceServer?.TooManyRequestsException ?? 0);
  return `storm ${await invariants(summary, stack.emulator, items)} itemsPerSecond=${(items.length / seconds).toFixed(1)} maxAttempts=${Math.max(...attempts)} throttled=${throttled} duration=${seconds.toFixed(0)}s`;
}

/** The run's directory on a 1 MiB tmpfs, filled mid-run: the run pauses itself, then finishes after space is freed. */
async function fullDisk(stack: Stack): Promise<string> {
  const mount = path.join(stack.dir, 'full');
  mkdirSync(mount, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount], { stdio: 'ignore' });
  } catch {
    return 'full-disk skipped: cannot mount a tmpfs here (needs root)';
  }
  try {
    const { userPools, items } = seedItems('Full', 4, 10);
    await stack.emulator.control.reset();
    await stack.emulator.control.seed({ userPools });
    await stack.emulator.control.setConfig({ quotas: {}, faults: { latency: { fixedMs: 20, jitterMs: 10 } } });
    const taskQueue = `chaos-full-${Date.now()}`;
    const worker = startWorkerProcess(workerEnv(stack, taskQueue, path.join(stack.dir, 'audit-unused')));
    const handle = await startRun(stack, 'full', items, { execute: true, limits: { rate: 2, poolRate: 1, window: 3 }, auditDir: path.join(mount, 'audit') }, taskQueue);
    while ((await handle.query(progressQuery)).done < 5) await sleep(250);
    const fillers: string[] = [];
    for (const size of [65_536, 4_096, 512, 64, 1]) {
      for (let i = 0; ; i++) {
        const file = path.join(mount, `filler-${size}-${i}`);
        try {
          writeFileSync(file, Buffer.alloc(size));
          fillers.push(file);
        } catch {
          rmSync(file, { force: true });
          break;
        }
      }
    }
    let p = await handle.query(progressQuery);
    while (!(p.paused && p.inFlight === 0)) {
      await sleep(250);
      p = await handle.query(progressQuery);
    }
    const deletesWhileFull = (await stack.emulator.control.stats()).deletes.length;
    await sleep(3_000);
    const heldStill = (await stack.emulator.control.stats()).deletes.length === deletesWhileFull;
    for (const file of fillers) rmSync(file);
    await handle.signal(resumeSignal);
    const summary = await handle.result();
    worker.child.kill('SIGTERM');
    await worker.done;
    return `full-disk ${await invariants(summary, stack.emulator, items)} pausedItself=yes heldWhileFull=${heldStill ? 'yes' : 'NO'} pauseReason="${p.pauseReason?.slice(0, 60)}..."`;
  } finally {
    execFileSync('umount', ['-l', mount]);
  }
}

const SCENARIOS: Record<string, (stack: Stack) => Promise<string>> = {
  'random-kills': randomKills,
  'server-restart': serverRestart,
  storm,
  'full-disk': fullDisk,
};

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-chaos-'));
  const dbFile = path.join(dir, 'temporal.db');
  const port = await freePort();
  const server = await startDevServer({ dbFile, port, startTimeoutMs: 120_000 });
  const stack: Stack = { dir, dbFile, port, server, client: await connect(server.address), emulator: await startEmulator({ port: 0 }) };
  const only = args.only?.split(',');
  console.log(`# chaos ${new Date().toISOString()} load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${os.cpus().length} cores, seed ${args.seed}`);
  try {
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      if (only && !only.includes(name)) continue;
      try {
        console.log(await scenario(stack));
      } catch (err) {
        console.log(`${name} ERROR ${(err as Error).stack ?? err}`);
      }
    }
  } finally {
    await stack.client.connection.close();
    await stack.emulator.close();
    await stack.server.stop();
  }
  console.log(`# load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
