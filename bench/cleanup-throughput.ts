/**
 * Cleanup job benchmark: the real `cleanupWorkflow` on a Temporal dev server,
 * an in-process worker (both task queues, via createCleanupWorker) and the
 * in-process Cognito emulator.
 *
 *   npx tsx bench/cleanup-throughput.ts [raw] [quotas] [fairness] [throttled] [ratio] [--json FILE]
 *   npx tsx bench/cleanup-throughput.ts ratio [--items 20000] [--profile DIR]
 *   npm run bench -- fairness
 *
 * No scenario named: the first four, in that order (about 5.5 minutes on 2 cores).
 *
 * 1. raw:       quotas off, limiters at 10,000/s, 5,000 items (200 pools x 25),
 *               window 100 and 300: what the workflow itself can do.
 * 2. quotas:    Cognito's real quotas (15 deletes/s per account, 5/s per pool),
 *               limiter defaults 15/5, window 30, 300 items in 12 pools; once
 *               with the bottleneck limiters alone, once with the deletes task
 *               queue at the worker's default server-side rate (12/s).
 * 3. fairness:  one pool of 150 servers listed first, then 10 pools of 15:
 *               what the plan's order (each pool spread evenly) achieves against the
 *               theoretical input-order (naive) and optimal schedules.
 * 4. throttled: quotas on, another application using 5 of the 15 deletes/s,
 *               5% of DeleteResourceServer calls throttled at random: the
 *               adaptive limiter over time; and the background load alone.
 * 5. ratio:     the job against a plain promise pool making the same two
 *               Cognito calls per item (Describe, Delete) through the same SDK
 *               and emulator, in the same run: 20,000 items (800 pools x 25),
 *               quotas off, window 300, the worker in a process of its own
 *               (its CPU and peak RSS apart); pool, job, pool. --profile DIR
 *               writes the worker's CPU profile (node --cpu-prof) into DIR.
 *               --worker-arg=OPTION passes a node option to the worker process
 *               (after worker/heap.ts's, so e.g. --max-old-space-size=4096 wins).
 *               --kill-after N kills the worker (SIGKILL) once N deletes are
 *               done and starts a new one: the same run, killed and resumed,
 *               with the time the kill cost.
 *
 * Every run is bounded (terminated past its time limit, reported as such).
 * Numbers come from the emulator's stats (accepted calls per second, outcome
 * counts, the time of every delete), the workflow's summary and Temporal's
 * description of each run of the continue-as-new chain. Results: docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { TASK_QUEUE_RATE_SHARE } from '../worker/config';
import { LIMIT_BOUNDS } from '../common/options';
import type { SeedUserPool } from '../emulator';
import { loadAverage, peakRssMb, plainPool, runCleanupOn, startProcessStack, type MemorySample, type PoolMeasurement, type ProcessRunMeasurement, type ProcessStack } from './process-stack';
import {
  achieved,
  deletesBetween,
  deletesPerWindow,
  historyEvents,
  startBenchTemporal,
  startStack,
  type BenchTemporal,
  type RunMeasurement,
  type Stack,
  type StackOptions,
} from './cleanup-harness';

const SCENARIOS = ['raw', 'quotas', 'fairness', 'throttled', 'ratio'] as const;
/** Run when no scenario is named (ratio is asked for by name: it takes about 3 minutes on its own). */
const DEFAULT_SCENARIOS: readonly Scenario[] = ['raw', 'quotas', 'fairness', 'throttled'];
type Scenario = (typeof SCENARIOS)[number];

const HIGH = 10_000;
const ACCOUNT_LIMIT = 15;
const POOL_LIMIT = 5;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'string' },
    profile: { type: 'string' },
    items: { type: 'string' },
    'no-pool': { type: 'boolean' },
    // Node options for the worker process (ratio), e.g. --worker-arg=--max-old-space-size=512.
    'worker-arg': { type: 'string', multiple: true },
    // ratio: SIGKILL the worker once after this many deletes and start a new one (the run resumes).
    'kill-after': { type: 'string' },
  },
});
for (const name of positionals) {
  if (!(SCENARIOS as readonly string[]).includes(name)) {
    console.error(`unknown scenario '${name}'; choose from ${SCENARIOS.join(', ')}`);
    process.exit(2);
  }
}
const selected: Scenario[] = positionals.length > 0 ? (positionals as Scenario[]) : [...DEFAULT_SCENARIOS];
const results: Record<string, unknown> = {};

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...cells.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');

function print(title: string, body: string): void {
  console.log(`\n### ${title}\n\n${body}\n`);
}

function status(m: Pick<RunMeasurement, 'timedOut' | 'summary'>): string {
  if (m.timedOut) return 'TIMED OUT';
  const s = m.summary!;
  return `${s.status} (${s.counts.deleted} deleted, ${s.counts.failed} failed)`;
}

/** Accepted DeleteResourceServer-category calls per calendar second, as one compact list. */
function perSecondSeries(m: RunMeasurement): number[] {
  const seconds = m.stats.accepted.perSecond.filter((s) => (s.categories.UserPoolResourceUpdate ?? 0) > 0);
  if (seconds.length === 0) return [];
  const first = seconds[0]!.second;
  const series: number[] = [];
  for (const s of seconds) series[s.second - first] = s.categories.UserPoolResourceUpdate ?? 0;
  return Array.from(series, (n) => n ?? 0);
}

/** Throttled calls as `+12.3s Delete big`, relative to `from`; `big` names one pool to tell apart. */
function throttleList(m: RunMeasurement, from: number, big?: string): string {
  if (m.throttles.length === 0) return 'none';
  return m.throttles
    .map((t) => `+${f1((t.at - from) / 1000)}s ${t.operation.replace('ResourceServer', '')}${big ? (t.userPoolId === big ? ' big' : ' small') : ''}`)
    .join(', ');
}

/** Mean of the full seconds (the first and last calendar seconds are partial). */
function meanOfFullSeconds(series: number[]): number {
  const full = series.slice(1, -1);
  return full.length > 0 ? full.reduce((a, b) => a + b, 0) / full.length : NaN;
}

// ---------------------------------------------------------------------------
// Seeds and inputs
// ---------------------------------------------------------------------------

async function seedGenerated(stack: Stack, pools: number, perPool: number) {
  await stack.emulator.control.reset();
  await stack.emulator.control.seed({
    generate: { pools, serversPerPool: perPool, scopesPerServer: 1, region: 'us-east-1', identifierPrefix: 'https://bench.example.com/' },
  });
  const state = await stack.emulator.control.state();
  // Input as an export lists it: pool by pool.
  return state.userPools.flatMap((pool) => pool.resourceServers.map((rs) => ({ userPoolId: pool.id, identifier: rs.identifier })));
}

function explicitPools(prefix: string, sizes: number[]): (SeedUserPool & { id: string })[] {
  return sizes.map((size, p) => ({
    id: `us-east-1_${prefix}${String(p).padStart(2, '0')}`,
    name: `${prefix}-${p}`,
    resourceServers: Array.from({ length: size }, (_, s) => ({
      identifier: `https://bench.example.com/${prefix}/p${p}/s${s}`,
      name: `server ${p} ${s}`,
      scopes: [{ ScopeName: 'read', ScopeDescription: 'read' }],
    })),
  }));
}

async function withStack<T>(temporal: BenchTemporal, options: StackOptions, body: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await startStack(temporal, options);
  try {
    return await body(stack);
  } finally {
    await stack.close();
  }
}

// ---------------------------------------------------------------------------
// 1. Raw orchestration throughput
// ---------------------------------------------------------------------------

async function raw(temporal: BenchTemporal): Promise<void> {
  const pools = 200;
  const perPool = 25;
  const stackOptions: StackOptions = {
    emulator: { quotas: false },
    activities: {
      deleteRates: { rate: HIGH, poolRate: HIGH },
      readRates: { rate: HIGH, poolRate: HIGH },
      clientReadRates: { rate: HIGH, poolRate: HIGH },
    },
    deleteTaskQueueRate: HIGH,
  };
  const rows: (string | number)[][] = [];
  const generationRows: (string | number)[][] = [];
  const out: unknown[] = [];
  await withStack(temporal, stackOptions, async (stack) => {
    for (const window of [100, 300]) {
      const items = await seedGenerated(stack, pools, perPool);
      const m = await stack.runCleanup({ rows: items, limits: { rate: HIGH, poolRate: HIGH, window }, timeoutMs: 180_000 });
      const a = achieved(m);
      const events = historyEvents(m);
      const e2e = a.endToEndSeconds;
      rows.push([
        window, a.items, status(m), f1(e2e), f1(a.endToEndPerSecond), f1(a.firstDeleteAfterSeconds), f1(a.deletesPerSecond),
        m.chain.length, m.summary?.generations ?? '-', events, f2(events / a.items), Math.max(...m.chain.map((r) => r.historyLength)),
        `${f2(m.cpu.benchSeconds / e2e)} / ${m.cpu.serverSeconds !== undefined ? f2(m.cpu.serverSeconds / e2e) : '-'}`,
      ]);
      // Per generation: its deletes, their rate, and the gap before the next generation's first delete.
      const deleteTimes = m.stats.deletes.map((d) => Date.parse(d.time));
      m.chain.forEach((run, i) => {
        const end = run.closeTime ?? m.endedAt;
        const mine = deleteTimes.filter((t) => t >= run.startTime && t <= end);
        const next = m.chain[i + 1];
        const nextFirst = next ? deleteTimes.find((t) => t >= next.startTime) : undefined;
        const lastMine = mine[mine.length - 1];
        generationRows.push([
          window, i + 1, run.historyLength, mine.length, f1((end - run.startTime) / 1000),
          mine.length > 1 ? f1((mine.length - 1) / ((lastMine! - mine[0]!) / 1000)) : '-',
          nextFirst !== undefined && lastMine !== undefined ? f2((nextFirst - lastMine) / 1000) : '-',
        ]);
      });
      out.push({ window, achieved: a, chain: m.chain, historyEvents: events, cpu: m.cpu, perSecond: perSecondSeries(m), summary: m.summary });
    }
  });
  results.raw = out;
  print(
    'Scenario 1: raw orchestration throughput (quotas off, limiters 10,000/s, 200 pools x 25)',
    table(
      ['window', 'items', 'result', 'end to end s', 'items/s end to end', 'first delete after s', 'deletes/s (first to last delete)', 'runs in chain', 'generations (summary)', 'history events', 'events/item', 'largest run history', 'CPU cores: bench process / dev server'],
      rows,
    ) +
      '\n\nPer generation of the continue-as-new chain:\n\n' +
      table(['window', 'generation', 'history events', 'deletes', 'run duration s', 'deletes/s', 'gap to next generation\'s first delete s'], generationRows),
  );
}

// ---------------------------------------------------------------------------
// 2. Cognito's real quotas, many pools
// ---------------------------------------------------------------------------

async function quotas(temporal: BenchTemporal): Promise<void> {
  const variants: { name: string; deleteTaskQueueRate: number }[] = [
    { name: 'limiters alone (task queue 10,000/s)', deleteTaskQueueRate: HIGH },
    { name: `task queue ${ACCOUNT_LIMIT * TASK_QUEUE_RATE_SHARE}/s (worker default)`, deleteTaskQueueRate: ACCOUNT_LIMIT * TASK_QUEUE_RATE_SHARE },
  ];
  const rows: (string | number)[][] = [];
  const windows: string[] = [];
  const out: unknown[] = [];
  for (const variant of variants) {
    await withStack(
      temporal,
      {
        emulator: {},
        activities: { deleteRates: { rate: ACCOUNT_LIMIT, poolRate: POOL_LIMIT }, readRates: { rate: 20, poolRate: 5 } },
        deleteTaskQueueRate: variant.deleteTaskQueueRate,
      },
      async (stack) => {
        const items = await seedGenerated(stack, 12, 25);
        const m = await stack.runCleanup({ rows: items, limits: { rate: ACCOUNT_LIMIT, poolRate: POOL_LIMIT, window: 30 }, timeoutMs: 120_000 });
        const a = achieved(m);
        const series = perSecondSeries(m);
        rows.push([
          variant.name, a.items, status(m), f1(a.endToEndSeconds), f1(a.firstDeleteAfterSeconds), f2(a.deletesPerSecond),
          `${((a.deletesPerSecond / ACCOUNT_LIMIT) * 100).toFixed(0)}%`, f2(meanOfFullSeconds(series)), a.busiestSecond,
          a.throttledDeletes, a.throttledReads,
        ]);
        windows.push(`- ${variant.name}: accepted deletes per second ${JSON.stringify(series)}; throttled calls: ${throttleList(m, Date.parse(m.stats.deletes[0]?.time ?? ''))}`);
        out.push({ variant: variant.name, achieved: a, perSecond: series, summary: m.summary });
      },
    );
  }
  results.quotas = out;
  print(
    'Scenario 2: Cognito\'s real quotas (15/s account, 5/s per pool), limiter 15/5, window 30, 12 pools x 25',
    table(
      ['variant', 'items', 'result', 'end to end s', 'first delete after s', 'deletes/s (first to last delete)', 'of the 15/s quota', 'mean deletes/s (full seconds)', 'busiest second', 'throttled deletes', 'throttled reads'],
      rows,
    ) + '\n\n' + windows.join('\n'),
  );
}

// ---------------------------------------------------------------------------
// 3. Fairness: one big pool listed first, many small ones
// ---------------------------------------------------------------------------

async function fairness(temporal: BenchTemporal): Promise<void> {
  const bigSize = 150;
  const smallPools = 10;
  const smallSize = 15;
  const userPools = explicitPools('Fair', [bigSize, ...Array.from({ length: smallPools }, () => smallSize)]);
  const big = userPools[0]!.id;
  const items = userPools.flatMap((pool) => pool.resourceServers!.map((rs) => ({ userPoolId: pool.id, identifier: rs.identifier })));
  const total = items.length;
  await withStack(
    temporal,
    {
      // Cognito's adjustable quota "resource servers per pool", raised so one pool can hold 150.
      emulator: { maxResourceServersPerPool: 200 },
      activities: { deleteRates: { rate: ACCOUNT_LIMIT, poolRate: POOL_LIMIT }, readRates: { rate: 20, poolRate: 5 } },
      deleteTaskQueueRate: HIGH,
    },
    async (stack) => {
      await stack.emulator.control.seed({ userPools });
      const m = await stack.runCleanup({ rows: items, limits: { rate: ACCOUNT_LIMIT, poolRate: POOL_LIMIT, window: 30 }, timeoutMs: 120_000 });
      const a = achieved(m);
      const times = m.stats.deletes.map((d) => ({ t: Date.parse(d.time), pool: d.userPoolId }));
      const first = times[0]!.t;
      const last = times[times.length - 1]!.t;
      const lastSmall = Math.max(...times.filter((d) => d.pool !== big).map((d) => d.t));
      const firstHalf = deletesBetween(m, first, first + (last - first) / 2, big);
      const secondHalf = deletesBetween(m, first + (last - first) / 2, last, big);
      const whileSmall = deletesBetween(m, first, lastSmall, big);
      const afterSmall = deletesBetween(m, lastSmall, last, big);

      // Theoretical schedules at Cognito's limits (no start-up, no latency):
      // naive input order keeps the window full of the big pool's items, so it
      // runs 150 items at 5/s, then the 150 small-pool items at 15/s.
      const naiveBig = bigSize / POOL_LIMIT;
      const naiveSmall = (total - bigSize) / ACCOUNT_LIMIT;
      const naiveTotal = naiveBig + naiveSmall;
      // Naive, first half of its run: all of it inside the big pool's phase.
      const naiveFirstHalfRate = POOL_LIMIT;
      // The best any order can do: the big pool at 5/s the whole time, the others in the remaining 10/s.
      const optimal = Math.max(total / ACCOUNT_LIMIT, bigSize / POOL_LIMIT);
      // What plain round-robin order gives in theory: while small pools last, the window holds
      // about one big-pool item in 11, so the account runs at 15/s; then the big pool's remainder at 5/s.
      const roundRobinSmallPhaseBig = smallSize; // one big-pool item per round, 15 rounds
      const rrTheory = (smallPools * smallSize + roundRobinSmallPhaseBig) / ACCOUNT_LIMIT + (bigSize - roundRobinSmallPhaseBig) / POOL_LIMIT;

      const rows: (string | number)[][] = [
        ['measured: plan order (each pool spread evenly)', f1(a.deletePhaseSeconds), f2(firstHalf.perSecond), `${((firstHalf.perSecond / ACCOUNT_LIMIT) * 100).toFixed(0)}%`, f2(secondHalf.perSecond), f2(a.deletesPerSecond)],
        ['theory: input order (big pool first)', f1(naiveTotal), f2(naiveFirstHalfRate), `${((naiveFirstHalfRate / ACCOUNT_LIMIT) * 100).toFixed(0)}%`, f2(total / 2 / (naiveTotal / 2)) + ' (mean)', f2(total / naiveTotal)],
        ['theory: round-robin', f1(rrTheory), '-', '-', '-', f2(total / rrTheory)],
        ['theory: optimal (big pool at 5/s throughout)', f1(optimal), f2(ACCOUNT_LIMIT), '100%', f2(ACCOUNT_LIMIT), f2(total / optimal)],
      ];
      const spans: (string | number)[][] = [
        ['while small pools had servers', f1((lastSmall - first) / 1000), whileSmall.deletes, whileSmall.inPool, f2(whileSmall.perSecond), whileSmall.throttled],
        ['after the last small-pool delete', f1((last - lastSmall) / 1000), afterSmall.deletes, afterSmall.inPool, f2(afterSmall.perSecond), afterSmall.throttled],
        ['first half of the delete phase', f1((last - first) / 2000), firstHalf.deletes, firstHalf.inPool, f2(firstHalf.perSecond), firstHalf.throttled],
        ['second half of the delete phase', f1((last - first) / 2000), secondHalf.deletes, secondHalf.inPool, f2(secondHalf.perSecond), secondHalf.throttled],
      ];
      results.fairness = {
        achieved: a, perSecond: perSecondSeries(m), firstHalf, secondHalf, whileSmall, afterSmall,
        lastSmallAfterSeconds: (lastSmall - first) / 1000, theory: { naiveTotal, naiveFirstHalfRate, optimal, rrTheory }, summary: m.summary,
      };
      print(
        `Scenario 3: fairness, one pool of ${bigSize} listed first + ${smallPools} pools of ${smallSize} (quotas on, limiter 15/5, window 30)`,
        `result: ${status(m)}; end to end ${f1(a.endToEndSeconds)} s; first delete after ${f1(a.firstDeleteAfterSeconds)} s; ` +
          `busiest second ${a.busiestSecond}; throttled deletes ${a.throttledDeletes}, reads ${a.throttledReads}\n\n` +
          table(['schedule', 'delete phase s', 'deletes/s, first half', 'of the 15/s quota', 'deletes/s, second half', 'deletes/s overall'], rows) +
          '\n\n' +
          table(['span (measured)', 'seconds', 'deletes', `of them in the big pool`, 'deletes/s', 'throttled calls'], spans) +
          `\n\naccepted deletes per second: ${JSON.stringify(perSecondSeries(m))}` +
          `\n\nthrottled calls (seconds from the first delete, operation, pool): ${throttleList(m, first, big)}`,
      );
    },
  );
}

// ---------------------------------------------------------------------------
// 4. A throttled account
// ---------------------------------------------------------------------------

async function throttled(temporal: BenchTemporal): Promise<void> {
  const variants = [
    { name: 'background load 5/s + 5% random throttling', throttle: 0.05 },
    { name: 'background load 5/s only', throttle: 0 },
  ];
  const rows: (string | number)[][] = [];
  const windowTables: string[] = [];
  const out: unknown[] = [];
  for (const variant of variants) {
    await withStack(
      temporal,
      {
        emulator: {
          faultSeed: 42,
          faults: {
            backgroundLoad: { UserPoolResourceUpdate: 5 },
            ...(variant.throttle > 0 ? { operations: { DeleteResourceServer: { throttle: variant.throttle } } } : {}),
          },
        },
        activities: { deleteRates: { rate: ACCOUNT_LIMIT, poolRate: POOL_LIMIT }, readRates: { rate: 20, poolRate: 5 } },
        deleteTaskQueueRate: HIGH,
      },
      async (stack) => {
        const items = await seedGenerated(stack, 12, 25);
        const m = await stack.runCleanup({ rows: items, limits: { rate: ACCOUNT_LIMIT, poolRate: POOL_LIMIT, window: 30 }, timeoutMs: 150_000 });
        const a = achieved(m);
        const available = ACCOUNT_LIMIT - 5;
        rows.push([
          variant.name, a.items, status(m), f1(a.endToEndSeconds), f2(a.deletesPerSecond), `${((a.deletesPerSecond / available) * 100).toFixed(0)}%`,
          a.busiestSecond, a.throttledDeletes, a.throttledReads, a.deleteOutcomes.ok ?? 0,
        ]);
        const windows = deletesPerWindow(m, 5);
        windowTables.push(
          `${variant.name}:\n\n` +
            table(
              ['seconds from first delete', 'deletes', 'deletes/s', 'throttled calls', 'limiter rate (min-max)'],
              windows.map((w) => [
                `${w.from}-${w.from + 5}`, w.deletes, f1(w.perSecond), w.throttled,
                w.limiterRate ? `${f1(w.limiterRate.min)}-${f1(w.limiterRate.max)}` : '-',
              ]),
            ),
        );
        out.push({ variant: variant.name, achieved: a, windows, perSecond: perSecondSeries(m), summary: m.summary });
      },
    );
  }
  results.throttled = out;
  print(
    'Scenario 4: throttled account (quotas on, 5 of the 15 deletes/s used by another application), limiter 15/5, window 30, 12 pools x 25',
    table(
      ['variant', 'items', 'result', 'end to end s', 'deletes/s (first to last delete)', 'of the 10/s left', 'busiest second', 'throttled deletes', 'throttled reads', 'DeleteResourceServer ok'],
      rows,
    ) + '\n\nPer 5-second window (limiter rate: the worker limiter\'s DeleteResourceServer rate, sampled every 250 ms):\n\n' + windowTables.join('\n\n'),
  );
}

// ---------------------------------------------------------------------------
// 5. The job against a plain promise pool
// ---------------------------------------------------------------------------

function poolRow(name: string, p: PoolMeasurement, items: number): (string | number)[] {
  return [name, `${p.deleted} deleted, ${p.failed} failed`, f1(p.seconds), f1(p.itemsPerSecond), `- / - / ${f2((p.cpuSeconds * 1000) / items)}`, p.load];
}

/** Bytes and files under a directory, as du counts them. */
function directoryUsage(directory: string): string {
  const bytes = Number(execFileSync('du', ['-sb', directory], { encoding: 'utf8' }).split('\t')[0]);
  const files = Number(execFileSync('du', ['-s', '--inodes', directory], { encoding: 'utf8' }).split('\t')[0]);
  return `${f1(bytes / 2 ** 20)} MiB in ${files} files and directories`;
}

/** When the worker was killed mid-run, and when its successor was polling. */
interface KillRecord {
  /** Deletes done (the emulator's count) when it was killed. */
  deletesAtKill: number;
  killedAt: number;
  readyAt: number;
  oldWorkerPeakMb: number;
}

/** Waits until `after` deletes are done, kills the worker (SIGKILL) and starts a new one. */
async function killWorkerAfter(stack: ProcessStack, after: number, deadline: number): Promise<KillRecord | undefined> {
  while (Date.now() < deadline) {
    const deletes = (await stack.emulator.control.stats()).deletes.length;
    if (deletes >= after) {
      const oldWorkerPeakMb = peakRssMb(stack.worker.pid);
      const killedAt = Date.now();
      await stack.worker.kill();
      await stack.restartWorker();
      return { deletesAtKill: deletes, killedAt, readyAt: Date.now(), oldWorkerPeakMb };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return undefined;
}

/**
 * What the kill cost, from the emulator's delete times. Time lost: the time
 * from the kill to the run's last delete, less what the deletes after the kill
 * would have taken at the pace before it (the new worker's start, the deletes
 * that were in flight on the killed one waiting out their heartbeat timeout,
 * their retries). Also the longest pause in deletes after the kill.
 */
function killCost(kill: KillRecord, m: ProcessRunMeasurement): string {
  const times = m.stats.deletes.map((d) => Date.parse(d.time));
  const before = times.filter((t) => t <= kill.killedAt);
  const after = times.filter((t) => t > kill.killedAt);
  if (before.length < 2 || after.length === 0) return `worker killed after ${kill.deletesAtKill} deletes; too few deletes on one side of the kill to say what it cost`;
  const paceBefore = (before.length - 1) / ((before[before.length - 1]! - before[0]!) / 1000);
  const last = after[after.length - 1]!;
  const lostSeconds = (last - kill.killedAt) / 1000 - after.length / paceBefore;
  let longestPause = after[0]! - kill.killedAt;
  for (let i = 1; i < after.length; i++) longestPause = Math.max(longestPause, after[i]! - after[i - 1]!);
  const within30 = after.filter((t) => t <= kill.killedAt + 30_000).length;
  return (
    `worker killed (SIGKILL) after ${kill.deletesAtKill} deletes; the new one polled ${f1((kill.readyAt - kill.killedAt) / 1000)} s later; ` +
    `first delete after the kill ${f1((after[0]! - kill.killedAt) / 1000)} s after it; longest pause in deletes after the kill ${f1(longestPause / 1000)} s; ` +
    `${within30} deletes in the 30 s after the kill; deletes/s before the kill ${f1(paceBefore)}, after it ${f1(after.length / ((last - kill.killedAt) / 1000))}; ` +
    `**time lost ${f1(lostSeconds)} s** (from the kill to the last delete, less the deletes after it at the pace before it)`
  );
}

/** The worker's memory at ten points of the run, and each measure's peak. */
function memoryTable(samples: MemorySample[]): string {
  if (samples.length === 0) return '(no samples)';
  const columns = ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'threadHeapUsed', 'threadHeapTotal'] as const;
  const picks = Array.from({ length: 10 }, (_, i) => samples[Math.round(((samples.length - 1) * i) / 9)]!);
  const peak = Object.fromEntries(columns.map((c) => [c, Math.max(...samples.map((m) => m[c]))])) as Record<(typeof columns)[number], number>;
  return table(
    ['at s', ...columns],
    [...picks.map((m) => [f1(m.at), ...columns.map((c) => f1(m[c]))]), ['peak', ...columns.map((c) => f1(peak[c]))]],
  );
}

async function ratio(temporal: BenchTemporal): Promise<void> {
  const items = Number(values.items ?? 20_000);
  const perPool = 25;
  const pools = Math.ceil(items / perPool);
  const window = 300;
  const high = { rate: HIGH, poolRate: HIGH };
  const stack = await startProcessStack(temporal, {
    emulator: { quotas: false },
    worker: { deleteRates: high, readRates: high, clientReadRates: high, deleteTaskQueueRate: HIGH },
    workerNodeArgs: [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []), ...(values['worker-arg'] ?? [])],
  });
  const seed = async () => {
    await stack.emulator.control.reset();
    await stack.emulator.control.seed({
      generate: { pools, serversPerPool: perPool, scopesPerServer: 1, region: 'us-east-1', identifierPrefix: 'https://bench.example.com/' },
    });
    const state = await stack.emulator.control.state();
    return state.userPools.flatMap((pool) => pool.resourceServers.map((rs) => ({ userPoolId: pool.id, identifier: rs.identifier }))).slice(0, items);
  };
  const poolRuns: PoolMeasurement[] = [];
  try {
    const withPool = values['no-pool'] !== true;
    if (withPool) poolRuns.push(await plainPool(stack.emulator.url, await seed(), window));
    const rows = await seed();
    const killAfter = values['kill-after'] !== undefined ? Number(values['kill-after']) : undefined;
    if (killAfter !== undefined && !(Number.isInteger(killAfter) && killAfter > 0 && killAfter < rows.length)) {
      throw new Error(`--kill-after takes a whole number of deletes between 1 and ${rows.length - 1}, got ${values['kill-after']}`);
    }
    let kill: KillRecord | undefined;
    // 100,000 items take some 20 minutes on this machine.
    const timeoutMs = Math.max(900_000, items * 40);
    const deadline = Date.now() + timeoutMs;
    const m = await runCleanupOn(temporal, stack, {
      ...(killAfter !== undefined ? { during: async () => void (kill = await killWorkerAfter(stack, killAfter, deadline)) } : {}),
      rows,
      // The run's rates at their bound: quotas are off, the workflow is what is measured.
      limits: { rate: LIMIT_BOUNDS.maxRate, poolRate: LIMIT_BOUNDS.maxRate, window },
      timeoutMs,
    });
    const runDirectory = directoryUsage(stack.auditDir);
    if (withPool) poolRuns.push(await plainPool(stack.emulator.url, await seed(), window));
    const e2e = (m.endedAt - m.startedAt) / 1000;
    const jobPerSecond = m.stats.deletes.length / e2e;
    const poolPerSecond = poolRuns.reduce((n, p) => n + p.itemsPerSecond, 0) / poolRuns.length;
    const events = m.chain.reduce((n, r) => n + r.historyLength, 0);
    const jobCpu = m.cpu.workerSeconds + (m.cpu.serverSeconds ?? NaN) + m.cpu.benchSeconds;
    const poolCpuMs = poolRuns.reduce((n, p) => n + (p.cpuSeconds * 1000) / p.items, 0) / poolRuns.length;
    const ms = (seconds: number) => f2((seconds * 1000) / items);
    const killed = kill ? killCost(kill, m) : undefined;
    const workerPeakMb = Math.max(m.peakRss.workerMb, kill?.oldWorkerPeakMb ?? 0);
    results.ratio = { items, window, job: { ...m, stats: undefined, deletes: m.stats.deletes.length }, pool: poolRuns, jobPerSecond, poolPerSecond, ratio: jobPerSecond / poolPerSecond, events, kill, killed };
    print(
      `Scenario 5: the job against a plain promise pool (${items} items, ${pools} pools, quotas off, window ${window})`,
      table(
        ['run', 'result', 'seconds', 'items/s end to end', 'CPU ms per item (worker / dev server / emulator + client)', 'load average at the end'],
        [
          ...poolRuns.slice(0, 1).map((p) => poolRow('plain pool (before)', p, items)),
          ['job', status(m), f1(e2e), f1(jobPerSecond), `${ms(m.cpu.workerSeconds)} / ${m.cpu.serverSeconds !== undefined ? ms(m.cpu.serverSeconds) : '-'} / ${ms(m.cpu.benchSeconds)}`, m.load.end],
          ...poolRuns.slice(1).map((p) => poolRow('plain pool (after)', p, items)),
        ],
      ) +
        `\n\n- ratio job / plain pool (mean of the two): **${f2(jobPerSecond / poolPerSecond)}**` +
        `\n- CPU per item: job ${ms(jobCpu)} ms (all three processes), plain pool ${f2(poolCpuMs)} ms` +
        (killed ? `\n- ${killed}` : '') +
        `\n- worker peak RSS ${f1(workerPeakMb)} MB${kill ? ` (the killed worker ${f1(kill.oldWorkerPeakMb)}, the new one ${f1(m.peakRss.workerMb)})` : ''}; dev server peak RSS ${m.peakRss.serverMb !== undefined ? f1(m.peakRss.serverMb) : '-'} MB` +
        `\n- history events ${events} (${f2(events / items)} per item), ${m.chain.length} generations` +
        `\n- run directory (audit, plan, backups, intents, outcomes, manifest): ${runDirectory}` +
        `\n- load average at the job's start ${m.load.start}` +
        `\n\nThe worker's memory (MB; heap, external and arrayBuffers are its main thread's isolate, threadHeap the workflow thread's, rss the whole process):\n\n` +
        memoryTable(m.memory),
    );
  } finally {
    await stack.close();
  }
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, node ${process.version}`);
  console.log(`scenarios: ${selected.join(', ')}; load average ${loadAverage()}`);
  const started = Date.now();
  const temporal = await startBenchTemporal();
  try {
    const run: Record<Scenario, (t: BenchTemporal) => Promise<void>> = { raw, quotas, fairness, throttled, ratio };
    for (const scenario of selected) {
      const t = Date.now();
      await run[scenario](temporal);
      console.log(`(${scenario}: ${f1((Date.now() - t) / 1000)} s including set-up)`);
    }
  } finally {
    await temporal.close();
  }
  console.log(`\ntotal ${f1((Date.now() - started) / 1000)} s`);
  if (values.json) {
    await writeFile(values.json, JSON.stringify({ machine: { cores: cpus.length, model: cpus[0]?.model, node: process.version }, results }, null, 2));
    console.log(`raw results written to ${values.json}`);
  }
}

// Exits when done: a closed Temporal client can leave a handle open that keeps the process waiting.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
