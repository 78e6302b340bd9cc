/**
 * The dependency check of a very large plan, through the CLI as an operator
 * runs it (bin/rs-cleanup.js on its embedded default: a dev server and the
 * worker in the CLI's process), against an in-process Cognito emulator with
 * its quotas off: its memory, and how soon Ctrl-C ends it.
 *
 *   bash scripts/with-node.sh tsx bench/dependency-check.ts [--items 1000000] [--pools 10000] [--watch 60] [--tries 3]
 *
 * The input has `--items` rows over `--pools` user pools (each pool holds two
 * resource servers, both used by the pool's one app client; the other rows name
 * servers that do not exist, which the check does not need). `run --input` is
 * a dry-run: the CLI validates the input and writes the plan, the workflow
 * starts and its first activity moves the plan in, then the check lists and
 * describes every pool's clients at the worker's default client-read rate
 * (Cognito's 15/s; 10,000 pools take over 20 minutes). Each try, with a data
 * directory of its own:
 * - samples the CLI's RSS (and so the embedded worker's) and the dev server's
 *   every 250 ms, from the start until the CLI has exited;
 * - once the check has run `--watch` seconds (counted from the emulator's first
 *   ListUserPoolClients), sends SIGINT to the CLI's process group, as Ctrl-C in
 *   a terminal does, and times how long the CLI takes to exit (it is killed
 *   after 120 s, and the try says so).
 * Prints per try: when the check started, the calls it made, peak RSS before
 * and during the check, the RSS at the end of the watch, and the time from
 * Ctrl-C to exit. Results: docs/performance.md ("Dependency check of 1,000,000 items").
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator, type RunningEmulator } from '../emulator';
import { laptopEnvironment } from './laptop-env';
import { devServersOn } from '../common/temporal-dev-server';

const REPO_ROOT = path.resolve(__dirname, '..');
const KILL_AFTER_MS = 120_000;

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    pools: { type: 'string', default: '10000' },
    watch: { type: 'string', default: '60' },
    tries: { type: 'string', default: '3' },
  },
});
const ITEMS = Number(values.items);
const POOLS = Number(values.pools);
const WATCH_MS = Number(values.watch) * 1000;
const TRIES = Number(values.tries);

/** RSS of a live process now, in MB (VmRSS); NaN once it is gone. */
function rssMb(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function loadAverage(): string {
  return os.loadavg().map((n) => n.toFixed(2)).join(' / ');
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

async function writeInput(file: string, poolIds: string[]): Promise<void> {
  const out = createWriteStream(file);
  out.write('userPoolId,identifier\n');
  const perPool = Math.ceil(ITEMS / poolIds.length);
  let rows = 0;
  for (let s = 1; s <= perPool && rows < ITEMS; s++) {
    // Pool by pool would be the export's order; server by server spreads the rows the same, and is as valid.
    for (let p = 0; p < poolIds.length && rows < ITEMS; p++) {
      if (!out.write(`${poolIds[p]},https://bench.example.com/pool-${p + 1}/server-${s}\n`)) await once(out, 'drain');
      rows += 1;
    }
  }
  out.end();
  await once(out, 'finish');
}

/** The emulator's ListUserPoolClients and DescribeUserPoolClient calls so far. */
async function checkCalls(emulator: RunningEmulator): Promise<{ list: number; describe: number }> {
  const { operations } = await emulator.control.stats();
  const sum = (name: string) => Object.values(operations[name] ?? {}).reduce((a, b) => a + b, 0);
  return { list: sum('ListUserPoolClients'), describe: sum('DescribeUserPoolClient') };
}

interface Try {
  load: string;
  checkStartedAfter: number;
  peakBeforeCheck: number;
  peakDuringCheck: number;
  rssAtInterrupt: number;
  serverPeak: number;
  calls: { list: number; describe: number };
  exitAfterInterrupt: number;
  exit: string;
  killed: boolean;
  /** What the CLI printed after Ctrl-C (its --verbose phases: how long the worker took to stop). */
  afterInterrupt: string;
}

async function oneTry(emulator: RunningEmulator, dir: string, input: string, index: number): Promise<Try> {
  const dataDir = path.join(dir, `data-${index}`);
  const env = laptopEnvironment(emulator.url, dataDir);
  await emulator.control.resetStats();
  const load = loadAverage();
  const started = performance.now();
  // Its own process group, as a command in a terminal: Ctrl-C reaches the CLI and the dev server it started.
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'rs-cleanup.js'), 'run', '--input', input, '--verbose'], {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let afterInterrupt = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
    if (interruptedAt !== undefined) afterInterrupt += d.toString();
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  let exitedAt: number | undefined;
  void exited.then(() => (exitedAt = performance.now()));
  const pid = child.pid!;
  let checkStartedAt: number | undefined;
  let interruptedAt: number | undefined;
  let peakBeforeCheck = 0;
  let peakDuringCheck = 0;
  let serverPeak = 0;
  let rssAtInterrupt = NaN;
  const dbFile = path.join(dataDir, 'temporal.db');
  let serverPid: number | undefined;
  const sampler = setInterval(() => {
    const rss = rssMb(pid);
    if (Number.isFinite(rss)) {
      if (checkStartedAt === undefined) peakBeforeCheck = Math.max(peakBeforeCheck, rss);
      else if (interruptedAt === undefined) peakDuringCheck = Math.max(peakDuringCheck, rss);
    }
    serverPid ??= devServersOn(dbFile)[0];
    if (serverPid !== undefined) serverPeak = Math.max(serverPeak, rssMb(serverPid) || 0);
  }, 250);
  try {
    // Until the check has run WATCH_MS (or the CLI ended by itself).
    while (exitedAt === undefined) {
      await new Promise((r) => setTimeout(r, 250));
      if (checkStartedAt === undefined && (await checkCalls(emulator)).list > 0) checkStartedAt = performance.now();
      if (checkStartedAt !== undefined && performance.now() - checkStartedAt >= WATCH_MS) break;
    }
    const calls = await checkCalls(emulator);
    let killed = false;
    if (exitedAt === undefined) {
      rssAtInterrupt = rssMb(pid);
      interruptedAt = performance.now();
      process.kill(-pid, 'SIGINT');
      const timer = setTimeout(() => {
        killed = true;
        process.kill(-pid, 'SIGKILL');
      }, KILL_AFTER_MS);
      await exited;
      clearTimeout(timer);
    }
    const exit = await exited;
    return {
      load,
      checkStartedAfter: checkStartedAt !== undefined ? (checkStartedAt - started) / 1000 : NaN,
      peakBeforeCheck,
      peakDuringCheck,
      rssAtInterrupt,
      serverPeak,
      calls,
      exitAfterInterrupt: interruptedAt !== undefined ? (exitedAt! - interruptedAt) / 1000 : NaN,
      exit: interruptedAt === undefined ? `ended by itself (${exit}) before the watch: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : exit,
      killed,
      afterInterrupt,
    };
  } finally {
    clearInterval(sampler);
    // What is left of this try's processes (the dev server finishes stopping by itself; a killed try leaves it).
    for (const left of devServersOn(dbFile)) {
      try {
        process.kill(left, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

async function main(): Promise<void> {
  console.log(`bench/dependency-check: ${ITEMS} items over ${POOLS} pools, watch ${WATCH_MS / 1000} s, ${TRIES} tries; node ${process.version}, ${os.cpus().length} cores, load ${loadAverage()}`);
  const emulator = await startEmulator({ port: 0, quotas: false });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-bench-depcheck-'));
  try {
    const seeded = await emulator.control.seed({
      generate: { pools: POOLS, serversPerPool: 2, scopesPerServer: 1, clientsPerPool: 1, region: 'us-east-1', identifierPrefix: 'https://bench.example.com/' },
    });
    const input = path.join(dir, 'input.csv');
    await writeInput(input, seeded.userPools.map((p) => p.id));
    const rows: string[] = [];
    for (let i = 1; i <= TRIES; i++) {
      const t = await oneTry(emulator, dir, input, i);
      const line =
        `| ${i} | ${t.load} | ${f1(t.checkStartedAfter)} | ${t.calls.list} / ${t.calls.describe} | ${f1(t.peakBeforeCheck)} | ${f1(t.peakDuringCheck)} | ` +
        `${f1(t.rssAtInterrupt)} | ${f1(t.serverPeak)} | ${f1(t.exitAfterInterrupt)}${t.killed ? ' (killed at 120 s)' : ''} | ${t.exit} |`;
      console.log(line);
      console.log(t.afterInterrupt.trim().split('\n').map((l) => `    ${l}`).join('\n'));
      rows.push(line);
    }
    console.log(
      `\n| try | load at start | check started after s | ListUserPoolClients / DescribeUserPoolClient calls | CLI peak RSS before the check MB | CLI peak RSS during the check MB | CLI RSS at Ctrl-C MB | dev server peak RSS MB | Ctrl-C to exit s | exit |\n|---|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}`,
    );
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
