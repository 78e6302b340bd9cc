/**
 * Cognito's quota model, end to end: the real `cleanupWorkflow` on a Temporal
 * dev server, in-process workers and the in-process emulator with Cognito's
 * real quotas and 100 ms of latency on every call, as a new user would run it
 * (default limits and window).
 *
 *   npx tsx bench/quota-model.ts [p1] [p2] [p2r] [regions] [workers] [--json FILE]
 *
 * No scenario named: all five, in that order.
 *
 * - p1:      1,500 deletes: 600 in one pool, 300 in another, 600 over 30 pools.
 *            T* = 120 s (the big pool at 5/s).
 * - p2:      another application uses 8 of the 15 deletes/s; 600 items over 30
 *            pools. T* = 600 / 7 = 85.7 s.
 * - p2r:     p2 plus 5% of DeleteResourceServer calls throttled at random. T* as p2.
 * - regions: 600 items in us-east-1 and 600 in eu-west-1 (30 pools each):
 *            each Region has its own 15/s. T* = 40 s.
 * - workers: three workers on one task queue, 900 items over 45 pools.
 *            T* = 60 s (one account's 15/s, however many workers).
 *
 * For each: wall time (workflow start to its result: the CLI's own start-up is
 * not in it), T*, the ratio, throttled calls (every operation, from the
 * emulator's stats), failed items, when the first delete came, and the
 * busiest accepted second of each (account, Region) and of each pool.
 */
import { copyFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { EmulatorOptions, SeedUserPool } from '../emulator';
import { startBenchTemporal, startStack, type BenchTemporal, type RunMeasurement, type StackOptions } from './cleanup-harness';

const SCENARIOS = ['p1', 'p2', 'p2r', 'regions', 'workers'] as const;
type Scenario = (typeof SCENARIOS)[number];

const LATENCY_MS = 100;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'string' }, 'key-rate': { type: 'string' }, 'queue-rate': { type: 'string' } },
});
/** --key-rate N|off and --queue-rate N: the deletes queue's server-side limits, for experiments. */
const serverLimits: Partial<StackOptions> = {
  ...(values['key-rate'] !== undefined ? { fairnessKeyRate: values['key-rate'] === 'off' ? false : Number(values['key-rate']) } : {}),
  ...(values['queue-rate'] !== undefined ? { deleteTaskQueueRate: Number(values['queue-rate']) } : {}),
};
for (const name of positionals) {
  if (!(SCENARIOS as readonly string[]).includes(name)) {
    console.error(`unknown scenario '${name}'; choose from ${SCENARIOS.join(', ')}`);
    process.exit(2);
  }
}
const selected: Scenario[] = positionals.length > 0 ? (positionals as Scenario[]) : [...SCENARIOS];

interface Pool {
  region: string;
  size: number;
  accountId?: string;
}

interface ScenarioSpec {
  title: string;
  pools: Pool[];
  /** The physical limit, in seconds. */
  tStar: number;
  emulator?: EmulatorOptions;
  workers?: number;
  stack?: Partial<StackOptions>;
}

function poolSeed(prefix: string, pools: Pool[]): (SeedUserPool & { id: string })[] {
  return pools.map((pool, p) => ({
    id: `${pool.region}_${prefix}${String(p).padStart(3, '0')}`,
    name: `${prefix}-${p}`,
    ...(pool.accountId ? { accountId: pool.accountId } : {}),
    resourceServers: Array.from({ length: pool.size }, (_, s) => ({
      identifier: `https://bench.example.com/${prefix}/p${p}/s${s}`,
      name: `server ${p} ${s}`,
      scopes: [{ ScopeName: 'read', ScopeDescription: 'read' }],
    })),
  }));
}

const repeat = (n: number, pool: Pool): Pool[] => Array.from({ length: n }, () => ({ ...pool }));

const SPECS: Record<Scenario, ScenarioSpec> = {
  p1: {
    title: 'P1: 1,500 deletes (600 in one pool, 300 in another, 600 over 30 pools)',
    pools: [{ region: 'us-east-1', size: 600 }, { region: 'us-east-1', size: 300 }, ...repeat(30, { region: 'us-east-1', size: 20 })],
    tStar: 600 / 5,
  },
  p2: {
    title: 'P2: another application uses 8 of the 15 deletes/s; 600 items over 30 pools',
    pools: repeat(30, { region: 'us-east-1', size: 20 }),
    tStar: 600 / 7,
    emulator: { faults: { backgroundLoad: { UserPoolResourceUpdate: 8 } } },
  },
  p2r: {
    title: 'P2r: P2 plus 5% of DeleteResourceServer calls throttled at random',
    pools: repeat(30, { region: 'us-east-1', size: 20 }),
    tStar: 600 / 7,
    emulator: { faults: { backgroundLoad: { UserPoolResourceUpdate: 8 }, operations: { DeleteResourceServer: { throttle: 0.05 } } } },
  },
  regions: {
    title: 'Two Regions: 600 items in us-east-1 and 600 in eu-west-1, 30 pools each',
    pools: [...repeat(30, { region: 'us-east-1', size: 20 }), ...repeat(30, { region: 'eu-west-1', size: 20 })],
    tStar: 600 / 15,
  },
  workers: {
    title: 'Three workers on one task queue: 900 items over 45 pools, one account',
    pools: repeat(45, { region: 'us-east-1', size: 20 }),
    tStar: 900 / 15,
    workers: 3,
    // The workers' defaults: with fairness (the bench's dev server has it), each (account, Region) key at the
    // rate across all workers; the queue-wide fallback, were the server to refuse it, at 80% (12/s).
    stack: { deleteTaskQueueRate: 12, workerEnv: { RS_CLEANUP_TASK_QUEUE_RATE: '12' } },
  },
};

interface Row {
  scenario: string;
  items: number;
  wallSeconds: number;
  tStar: number;
  ratio: number;
  throttled: number;
  throttledDeletes: number;
  throttledByOperation: Record<string, number>;
  failed: number;
  deleted: number;
  firstDeleteAfterSeconds: number;
  busiestAccountSecond: Record<string, number>;
  busiestPoolSecond: number;
  status: string;
  /** Per 10 s from the start: deletes, and deletes of the biggest pool. */
  timeline: { from: number; deletes: number; biggestPool: number; throttled: number; lowestRate: number }[];
  /** When each run of the continue-as-new chain started, seconds from the start. */
  generations: number[];
}

function summarize(scenario: Scenario, spec: ScenarioSpec, m: RunMeasurement): Row {
  const throttled = Object.values(m.stats.operations).reduce((n, outcomes) => n + (outcomes.TooManyRequestsException ?? 0), 0);
  const firstDelete = m.stats.deletes[0] ? Date.parse(m.stats.deletes[0].time) : NaN;
  const busiestAccountSecond: Record<string, number> = {};
  let busiestPoolSecond = 0;
  for (const second of m.stats.accepted.perSecond) {
    for (const [account, regions] of Object.entries(second.accounts ?? {})) {
      for (const [region, categories] of Object.entries(regions)) {
        const key = `${account}/${region}`;
        busiestAccountSecond[key] = Math.max(busiestAccountSecond[key] ?? 0, categories.UserPoolResourceUpdate ?? 0);
      }
    }
    for (const operations of Object.values(second.pools)) busiestPoolSecond = Math.max(busiestPoolSecond, operations.DeleteResourceServer ?? 0);
  }
  const wallSeconds = (m.endedAt - m.startedAt) / 1000;
  const sizes = new Map<string, number>();
  for (const d of m.stats.deletes) sizes.set(d.userPoolId, (sizes.get(d.userPoolId) ?? 0) + 1);
  const biggest = [...sizes].sort((a, b) => b[1] - a[1])[0]?.[0];
  const timeline: Row['timeline'] = [];
  for (const d of m.stats.deletes) {
    const bucket = Math.floor((Date.parse(d.time) - m.startedAt) / 10_000);
    while (timeline.length <= bucket) timeline.push({ from: timeline.length * 10, deletes: 0, biggestPool: 0, throttled: 0, lowestRate: Number.POSITIVE_INFINITY });
    timeline[bucket]!.deletes += 1;
    if (d.userPoolId === biggest) timeline[bucket]!.biggestPool += 1;
  }
  for (const t of m.throttles) {
    const slot = timeline[Math.floor((t.at - m.startedAt) / 10_000)];
    if (slot) slot.throttled += 1;
  }
  for (const sample of m.rateSamples) {
    const slot = timeline[Math.floor((sample.at - m.startedAt) / 10_000)];
    if (slot) slot.lowestRate = Math.min(slot.lowestRate, sample.rate);
  }
  return {
    scenario,
    items: m.items,
    wallSeconds,
    tStar: spec.tStar,
    ratio: wallSeconds / spec.tStar,
    throttled,
    throttledDeletes: m.stats.operations.DeleteResourceServer?.TooManyRequestsException ?? 0,
    throttledByOperation: Object.fromEntries(
      Object.entries(m.stats.operations)
        .map(([op, outcomes]) => [op, outcomes.TooManyRequestsException ?? 0] as const)
        .filter(([, n]) => n > 0),
    ),
    failed: m.summary?.counts.failed ?? NaN,
    deleted: m.stats.deletes.length,
    firstDeleteAfterSeconds: (firstDelete - m.startedAt) / 1000,
    busiestAccountSecond,
    busiestPoolSecond,
    status: m.timedOut ? 'TIMED OUT' : m.summary!.status,
    timeline,
    generations: m.chain.map((run) => (run.startTime - m.startedAt) / 1000),
  };
}

async function runScenario(temporal: BenchTemporal, scenario: Scenario): Promise<Row> {
  const spec = SPECS[scenario];
  const userPools = poolSeed(scenario.toUpperCase(), spec.pools);
  const stack = await startStack(temporal, {
    emulator: {
      maxResourceServersPerPool: 1_000,
      faultSeed: 42,
      ...spec.emulator,
      faults: { latency: { fixedMs: LATENCY_MS }, ...spec.emulator?.faults },
    },
    activities: { deleteRates: { rate: 15, poolRate: 5 }, readRates: { rate: 20, poolRate: 5 } },
    ...(spec.workers ? { workers: spec.workers } : {}),
    ...spec.stack,
    ...serverLimits,
  });
  try {
    await stack.emulator.control.seed({ userPools });
    // Input as an export lists it: pool by pool.
    const rows = userPools.flatMap((pool) => pool.resourceServers!.map((rs) => ({ userPoolId: pool.id, identifier: rs.identifier })));
    const m = await stack.runCleanup({ rows, limits: { rate: 15, poolRate: 5, window: 30 }, timeoutMs: spec.tStar * 4 * 1000 });
    if (process.env.BENCH_KEEP_AUDIT && m.summary?.auditFile) copyFileSync(m.summary.auditFile, `${process.env.BENCH_KEEP_AUDIT}/${scenario}-audit.jsonl`);
    // Every accepted delete's time and pool, for working out where the time went (gaps, first and last deletes).
    if (process.env.BENCH_KEEP_AUDIT) {
      await writeFile(
        `${process.env.BENCH_KEEP_AUDIT}/${scenario}-deletes.json`,
        JSON.stringify({ startedAt: m.startedAt, endedAt: m.endedAt, deletes: m.stats.deletes, throttles: m.throttles }),
      );
    }
    return summarize(scenario, spec, m);
  } finally {
    await stack.close();
  }
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');

async function main(): Promise<void> {
  const cpus = os.cpus();
  console.log(`machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown'}), node ${process.version}; load average at start ${os.loadavg().map(f2).join(' ')}`);
  const temporal = await startBenchTemporal();
  const rows: (Row & { loadAverage: number[] })[] = [];
  try {
    for (const scenario of selected) {
      const loadBefore = os.loadavg();
      const row = await runScenario(temporal, scenario);
      rows.push({ ...row, loadAverage: loadBefore });
      console.log(
        `${SPECS[scenario].title}\n  ${row.status}: ${f1(row.wallSeconds)} s, T* ${f1(row.tStar)} s, ratio ${f2(row.ratio)}; ` +
          `throttled calls ${row.throttled} (${Object.entries(row.throttledByOperation).map(([op, n]) => `${op} ${n}`).join(', ') || 'none'}); failed ${row.failed}; deleted ${row.deleted}/${row.items}; ` +
          `first delete after ${f1(row.firstDeleteAfterSeconds)} s; busiest second per account/Region ${JSON.stringify(row.busiestAccountSecond)}, ` +
          `per pool ${row.busiestPoolSecond}; load average before ${loadBefore.map(f2).join(' ')}\n` +
          `  per 10 s (deletes/biggest pool's/throttled/lowest limiter rate): ${row.timeline.map((t) => `${t.deletes}/${t.biggestPool}/${t.throttled}/${f1(t.lowestRate)}`).join(' ')}; generations start at ${row.generations.map(f1).join(', ')} s`,
      );
    }
  } finally {
    await temporal.close();
  }
  console.log(`\n| scenario | wall s | T* s | ratio | throttled calls | failed items | first delete after s | load (1 min) |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${f1(r.wallSeconds)} | ${f1(r.tStar)} | ${f2(r.ratio)} | ${r.throttled} | ${r.failed} | ${f1(r.firstDeleteAfterSeconds)} | ${f2(r.loadAverage[0]!)} |`);
  }
  if (values.json) await writeFile(values.json, JSON.stringify(rows, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
