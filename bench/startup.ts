/**
 * How long the CLI takes to start, on its embedded default (no
 * TEMPORAL_ADDRESS): the real binary (bin/rs-cleanup.js) as an operator runs
 * it, against a local Cognito emulator.
 *
 *   bash scripts/with-node.sh tsx bench/startup.ts [--runs 5] [--repo DIR] [--plain]
 *   bash scripts/with-node.sh tsx bench/startup.ts --parts [--repo DIR]
 *
 * - `run --input 10-items.csv --execute --yes --verbose`, warm: node_modules
 *   and the Temporal CLI present, the data directory (its SQLite database) and
 *   the workflow bundle cache made by one warm-up run that is not counted.
 *   Each run gets an input of its own (a fresh workflow ID) and a freshly seeded
 *   emulator, and must end with exit 0 and its 10 servers deleted. The dev
 *   server a run leaves stopping (it drains for a second after the CLI exits)
 *   is gone before the next run starts, as when an operator runs one command.
 * - `--help`, `status RUN`, `list` and `report RUN` with no server running.
 *
 * Prints the wall-clock time of each command, the start-up phases the CLI
 * printed with --verbose, and the load average (`uptime`) before each run:
 * numbers taken above a load of ~1.5 are not comparable. `--repo DIR` runs
 * the binary of another checkout (one whose node_modules is installed);
 * `--plain` leaves out --verbose, for a CLI that does not have it.
 *
 * `--parts` times the pieces a start is made of, apart, for a CLI that cannot
 * say (the one before --verbose): loading the CLI's entry module (that
 * checkout's cli/main.ts) in a fresh node, bundling the workflow code with
 * the SDK's bundler, and a dev server's start (until it answers) and stop
 * (SIGTERM until it exits), headless and with the Web UI.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../emulator';
import { laptopEnvironment } from './laptop-env';
import { devServersOn } from '../common/temporal-dev-server';

const ITEMS = 10;

interface Args {
  runs: number;
  repo: string;
  plain: boolean;
  parts: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 5, repo: path.resolve(__dirname, '..'), plain: false, parts: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') args.runs = Number(argv[++i]);
    else if (arg === '--repo') args.repo = path.resolve(argv[++i]!);
    else if (arg === '--plain') args.plain = true;
    else if (arg === '--parts') args.parts = true;
    else throw new Error(`unknown argument ${arg}; usage: tsx bench/startup.ts [--runs N] [--repo DIR] [--plain | --parts]`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs takes a positive integer');
  return args;
}

interface Timed {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
}

function runBinary(repo: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(repo, 'bin', 'rs-cleanup.js'), ...args], {
    cwd: repo,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, ms: performance.now() - started, stdout, stderr })));
}

/** The phases printed by --verbose: `[  1.234 s] what (0.567 s)`. */
function phases(stderr: string): { at: number; what: string; took: number }[] {
  const found: { at: number; what: string; took: number }[] = [];
  for (const line of stderr.split('\n')) {
    const match = /^\[\s*([\d.]+) s\] (.+) \(([\d.]+) s\)$/.exec(line);
    if (match) found.push({ at: Number(match[1]), what: match[2]!, took: Number(match[3]) });
  }
  return found;
}

function loadAverage(): string {
  return os.loadavg().map((n) => n.toFixed(2)).join(' ');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The pieces of a start, apart (see --parts above). */
async function parts(args: Args): Promise<void> {
  const times = async (n: number, one: () => Promise<number>) => {
    const values: number[] = [];
    for (let i = 0; i < n; i++) values.push(await one());
    return `median ${seconds(median(values))} of ${n} (${values.map((v) => (v / 1000).toFixed(2)).join(', ')})`;
  };
  console.log(`bench/startup --parts: ${args.repo}, node ${process.version}, load ${loadAverage()}`);
  /** Runs `script` in a fresh node (from the checkout), which prints the milliseconds it measured. */
  const inFreshNode = (script: string) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { cwd: args.repo, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.once('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`${script} exited ${code}`))));
    });
  const main = JSON.stringify(path.join(args.repo, 'cli', 'main.ts'));
  const loadMain = `require('tsx/cjs'); const t = performance.now(); require(${main}); process.stdout.write(String(performance.now() - t));`;
  console.log(`  load cli/main.ts (tsx):          ${await times(5, () => inFreshNode(loadMain))}`);
  // Once per process, as a worker start does it (the SDK's own module load not counted).
  const bundle =
    `const { bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker'); const t = performance.now(); ` +
    `bundleWorkflowCode({ workflowsPath: ${JSON.stringify(path.join(args.repo, 'workflows'))}, logger: new DefaultLogger('WARN') })` +
    `.then(() => process.stdout.write(String(performance.now() - t)));`;
  console.log(`  bundle the workflow code:        ${await times(3, () => inFreshNode(`require('tsx/cjs'); ${bundle}`))}`);
  const { availablePort, startDevServer } = await import('../common/temporal-dev-server');
  for (const ui of [false, true]) {
    const starts: number[] = [];
    const stops: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-bench-server-'));
      let t = performance.now();
      const server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), ...(ui ? { uiPort: await availablePort(8233) } : {}) });
      starts.push(performance.now() - t);
      t = performance.now();
      await server.stop();
      stops.push(performance.now() - t);
      await rm(dir, { recursive: true, force: true });
    }
    const label = ui ? 'with the Web UI' : 'headless';
    console.log(`  dev server start, ${label.padEnd(16)} median ${seconds(median(starts))}; stop (SIGTERM to exit): median ${seconds(median(stops))}`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.parts) return parts(args);
  const emulator = await startEmulator({ port: 0, quotas: false });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-bench-startup-'));
  const env = laptopEnvironment(emulator.url, path.join(dir, 'data'));
  console.log(`bench/startup: ${args.repo}, node ${process.version}, ${os.cpus().length} cores, ${args.runs} run(s) after one warm-up`);
  try {
    let lastWorkflowId = '';
    const totals: number[] = [];
    const byPhase = new Map<string, number[]>();
    for (let run = 0; run <= args.runs; run++) {
      // 10 pools of one server each: the deletes take well under a second at the default 15/s.
      await emulator.control.reset();
      const userPools = Array.from({ length: ITEMS }, (_, p) => ({
        id: `us-east-1_Startup${p}`,
        name: `startup-${p}`,
        resourceServers: [{ identifier: `https://api.example.com/startup/${p}`, name: `server ${p}`, scopes: [{ ScopeName: 'read', ScopeDescription: 'read' }] }],
      }));
      await emulator.control.seed({ userPools });
      const input = path.join(dir, `10-items-${run}.csv`);
      // The ticket column makes each run's input, and so its workflow ID, new.
      await writeFile(input, `userPoolId,identifier,ticket\n${userPools.map((p) => `${p.id},${p.resourceServers[0]!.identifier},bench-${run}-${Date.now()}`).join('\n')}\n`);
      while (devServersOn(path.join(env.RS_CLEANUP_DATA_DIR!, 'temporal.db')).length > 0) await new Promise((r) => setTimeout(r, 100));
      const load = loadAverage();
      const result = await runBinary(args.repo, ['run', '--input', input, '--execute', '--yes', '--json', ...(args.plain ? [] : ['--verbose'])], env);
      const deleted = (await emulator.control.stats()).deletes.length;
      if (result.code !== 0 || deleted !== ITEMS) {
        throw new Error(`run ${run} ended with exit ${result.code} and ${deleted} of ${ITEMS} servers deleted:\n${result.stderr}`);
      }
      lastWorkflowId = (JSON.parse(result.stdout) as { workflowId: string }).workflowId;
      const found = phases(result.stderr);
      console.log(`${run === 0 ? 'warm-up' : `run ${run}`}: ${seconds(result.ms)} (load before: ${load})`);
      for (const phase of found) console.log(`    at ${phase.at.toFixed(2)} s  ${phase.what}: ${phase.took.toFixed(2)} s`);
      if (run === 0) continue;
      totals.push(result.ms);
      for (const phase of found) {
        const key = phase.what.replace(/ on 127\.0\.0\.1:\d+| \(pid \d+\)/g, '');
        byPhase.set(key, [...(byPhase.get(key) ?? []), phase.took * 1000]);
      }
    }
    console.log(`\nrun --input 10-items.csv --execute --yes: median ${seconds(median(totals))} of ${totals.length} (min ${seconds(Math.min(...totals))}, max ${seconds(Math.max(...totals))})`);
    for (const [what, values] of byPhase) console.log(`  ${what}: median ${seconds(median(values))}`);

    // The short commands, with no server running (the runs above have ended).
    while (devServersOn(path.join(env.RS_CLEANUP_DATA_DIR!, 'temporal.db')).length > 0) await new Promise((r) => setTimeout(r, 100));
    console.log('\nshort commands, no server running (median of 3):');
    for (const command of [['--help'], ['status', lastWorkflowId], ['list'], ['report', lastWorkflowId]]) {
      const times: number[] = [];
      let last: Timed | undefined;
      for (let i = 0; i < 3; i++) {
        last = await runBinary(args.repo, command, env);
        times.push(last.ms);
      }
      console.log(`  ${command.join(' ').replace(lastWorkflowId, 'RUN').padEnd(12)} ${seconds(median(times))}  exit ${last!.code}  (load ${loadAverage()})`);
    }
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
