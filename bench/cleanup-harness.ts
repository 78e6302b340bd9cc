/**
 * The machinery of bench/cleanup-throughput.ts: a Temporal dev server shared by
 * every scenario, and per scenario an in-process Cognito emulator plus an
 * in-process cleanup worker (both task queues, as `createCleanupWorker` builds
 * them) on a task queue of its own. `runCleanup` starts one real
 * `cleanupWorkflow`, bounded in time, and collects what the emulator saw, the
 * worker limiter's rate over time, the continue-as-new chain's history and the
 * CPU time of this process and of the dev server.
 *
 * Everything measured comes from the emulator's stats (what Cognito would
 * have accepted, second by second), the workflow's result, and Temporal's own
 * description of each run of the chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type EmulatorOptions, type EmulatorStats, type RunningEmulator } from '../emulator';
import type { ActivityConfig } from '../activities';
import { sha256File } from '../common/plan-file';
import { startDevServer, type DevServer } from '../common/temporal-dev-server';
import type { Limits } from '../common/types';
import { JobMetrics } from '../worker/metrics';
import { createCleanupWorker, type CleanupWorker } from '../worker/create-worker';
import { WORKER_ENV, WORKER_NODE_OPTIONS } from '../worker/heap';
import { cleanupWorkflow, type CleanupInput, type CleanupSummary } from '../workflows/cleanup';

/** Linux clock ticks per second (USER_HZ): /proc/<pid>/stat counts CPU time in these. */
const CLOCK_TICKS = 100;

// ---------------------------------------------------------------------------
// The shared dev server
// ---------------------------------------------------------------------------

export interface BenchTemporal {
  server: DevServer;
  client: Client;
  /** The dev server's process id (a child of this process), for its CPU time. */
  serverPid?: number;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function startBenchTemporal(): Promise<BenchTemporal> {
  if (!runtimeInstalled) {
    runtimeInstalled = true;
    // Each retried (throttled) attempt logs a warning; the numbers come from the emulator instead.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
  }
  const childrenBefore = new Set(childPids());
  const server = await startDevServer();
  const serverPid = childPids().find((pid) => !childrenBefore.has(pid) && commandOf(pid).includes('temporal'));
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  return {
    server,
    client,
    ...(serverPid !== undefined ? { serverPid } : {}),
    async close() {
      await connection.close();
      await server.stop();
    },
  };
}

// ---------------------------------------------------------------------------
// One scenario's stack: emulator + worker
// ---------------------------------------------------------------------------

export interface StackOptions {
  emulator: EmulatorOptions;
  /** deleteRates, readRates, clientReadRates of the worker (ActivityConfig). */
  activities: Pick<ActivityConfig, 'deleteRates' | 'readRates'> & Partial<ActivityConfig>;
  /** Server-side rate of the deletes task queue without fairness; `createCleanupWorker`'s default (deleteRates.rate) when absent. */
  deleteTaskQueueRate?: number;
  /** Server-side rate per fairness key; `createCleanupWorker`'s default when absent; false = queue-wide limit only. */
  fairnessKeyRate?: number | false;
  /**
   * Workers on the scenario's task queue; default 1. The first runs in this
   * process, the others as worker processes (`worker/main.ts`: one process
   * cannot hold two workers of one task queue), configured by `workerEnv`.
   */
  workers?: number;
  /** Environment of the extra worker processes, on top of the stack's (task queue, emulator, credentials). */
  workerEnv?: NodeJS.ProcessEnv;
}

export interface RateSample {
  at: number;
  /** The worker's DeleteResourceServer limiter rate at that moment (calls/s). */
  rate: number;
}

/** JobMetrics that also lets the bench read the limiter's current rate. */
class SampledMetrics extends JobMetrics {
  currentRate: () => number = () => NaN;
  override watchDeleteRate(currentRate: () => number): void {
    super.watchDeleteRate(currentRate);
    this.currentRate = currentRate;
  }
}

export interface Stack {
  emulator: RunningEmulator;
  taskQueue: string;
  tmpDir: string;
  rateSamples: RateSample[];
  runCleanup(options: RunOptions): Promise<RunMeasurement>;
  close(): Promise<void>;
}

export interface RunOptions {
  /** `userPoolId,identifier` pairs, in input order. */
  rows: { userPoolId: string; identifier: string }[];
  limits: Limits;
  /** The workflow is terminated past this; the measurement is then marked timed out. */
  timeoutMs: number;
  pageSize?: number;
  continueAsNewAfterEvents?: number;
}

export interface ChainRun {
  runId: string;
  historyLength: number;
  startTime: number;
  closeTime?: number;
}

export interface RunMeasurement {
  workflowId: string;
  items: number;
  startedAt: number;
  endedAt: number;
  timedOut: boolean;
  summary?: CleanupSummary;
  stats: EmulatorStats;
  rateSamples: RateSample[];
  chain: ChainRun[];
  cpu: { benchSeconds: number; serverSeconds?: number };
  /** Every throttled Cognito call of the run, from the audit log (one `attempt` record per try). */
  throttles: ThrottleRecord[];
}

export interface ThrottleRecord {
  at: number;
  operation: string;
  userPoolId: string;
}

/** Writes the run's rows as its input CSV in `dir` and returns the workflow input that executes it. */
export async function writeRunInput(dir: string, workflowId: string, run: RunOptions): Promise<CleanupInput> {
  const inputPath = path.join(dir, `${workflowId}.csv`);
  await writeFile(inputPath, ['userPoolId,identifier', ...run.rows.map((r) => `${r.userPoolId},${r.identifier}`)].join('\n') + '\n');
  return {
    source: { path: inputPath, sha256: await sha256File(inputPath) },
    execute: true,
    limits: run.limits,
    ...(run.pageSize !== undefined ? { pageSize: run.pageSize } : {}),
    ...(run.continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents: run.continueAsNewAfterEvents } : {}),
  };
}

export function useEmulatorCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = DEFAULT_TEST_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = DEFAULT_TEST_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

export async function startStack(temporal: BenchTemporal, options: StackOptions): Promise<Stack> {
  useEmulatorCredentials();
  const emulator = await startEmulator({ port: 0, ...options.emulator });
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-bench-'));
  const taskQueue = `bench-${randomUUID()}`;
  const metrics = new SampledMetrics();
  let connection: NativeConnection | undefined;
  let worker: CleanupWorker | undefined;
  const processes: WorkerProcess[] = [];
  try {
    connection = await NativeConnection.connect({ address: temporal.server.address });
    worker = await createCleanupWorker({
      connection,
      namespace: temporal.server.namespace,
      taskQueue,
      activities: {
        cognito: { endpoint: emulator.url },
        auditDir: path.join(tmpDir, 'audit'),
        ...options.activities,
      },
      ...(options.deleteTaskQueueRate !== undefined ? { deleteTaskQueueRate: options.deleteTaskQueueRate } : {}),
      ...(options.fairnessKeyRate !== undefined ? { fairnessKeyRate: options.fairnessKeyRate } : {}),
      metrics,
    });
    for (let i = 1; i < (options.workers ?? 1); i++) {
      processes.push(
        startWorkerProcess({
          TEMPORAL_ADDRESS: temporal.server.address,
          TEMPORAL_NAMESPACE: temporal.server.namespace,
          TEMPORAL_TASK_QUEUE: taskQueue,
          COGNITO_ENDPOINT: emulator.url,
          RS_CLEANUP_AUDIT_DIR: path.join(tmpDir, 'audit'),
          RS_CLEANUP_RATE: String(options.activities.deleteRates.rate),
          RS_CLEANUP_POOL_RATE: String(options.activities.deleteRates.poolRate),
          RS_CLEANUP_READ_RATE: String(options.activities.readRates.rate),
          RS_CLEANUP_POOL_READ_RATE: String(options.activities.readRates.poolRate),
          LOG_LEVEL: 'info',
          ...options.workerEnv,
        }),
      );
    }
    await Promise.all(processes.map((p) => p.started));
  } catch (err) {
    worker?.shutdown();
    for (const p of processes) p.child.kill('SIGKILL');
    await emulator.close();
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
  const running = worker.run();
  const cleanupWorker = worker;
  const rateSamples: RateSample[] = [];
  const sampler = setInterval(() => rateSamples.push({ at: Date.now(), rate: metrics.currentRate() }), 250);
  const workerConnection = connection;
  let runs = 0;

  return {
    emulator,
    taskQueue,
    tmpDir,
    rateSamples,
    async runCleanup(run) {
      const workflowId = `bench-${++runs}-${randomUUID()}`;
      const input = await writeRunInput(tmpDir, workflowId, run);
      await emulator.control.resetStats();
      const cpuBefore = cpuSeconds(process.pid);
      const serverCpuBefore = temporal.serverPid !== undefined ? cpuSeconds(temporal.serverPid) : undefined;
      const startedAt = Date.now();
      const handle = await temporal.client.workflow.start(cleanupWorkflow, { taskQueue, workflowId, args: [input] });

      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), run.timeoutMs)));
      const outcome = await Promise.race([handle.result(), timeout]);
      clearTimeout(timer);
      const endedAt = Date.now();
      const cpu = {
        benchSeconds: cpuSeconds(process.pid) - cpuBefore,
        ...(serverCpuBefore !== undefined ? { serverSeconds: cpuSeconds(temporal.serverPid!) - serverCpuBefore } : {}),
      };
      const timedOut = outcome === 'timeout';
      if (timedOut) await handle.terminate('benchmark time bound reached').catch(() => undefined);
      const stats = await emulator.control.stats();
      const chain = await chainOf(temporal.client, workflowId);
      const throttles = throttlesFromAudit(outcome === 'timeout' ? undefined : (outcome as CleanupSummary).auditFile);
      return {
        workflowId,
        items: run.rows.length,
        startedAt,
        endedAt,
        timedOut,
        ...(timedOut ? {} : { summary: outcome as CleanupSummary }),
        stats,
        rateSamples: rateSamples.filter((s) => s.at >= startedAt && s.at <= endedAt),
        chain,
        cpu,
        throttles,
      };
    },
    async close() {
      clearInterval(sampler);
      cleanupWorker.shutdown();
      for (const p of processes) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.done));
      await running.catch((err: unknown) => console.error('worker stopped with an error:', err));
      await workerConnection.close();
      await emulator.close();
      await rm(tmpDir, { recursive: true, force: true });
    },
  };
}

interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker logged that it started (it polls both queues then). */
  started: Promise<void>;
  done: Promise<number | null>;
}

function startWorkerProcess(env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, [...WORKER_NODE_OPTIONS, '--import', 'tsx', path.join(__dirname, '..', 'worker', 'main.ts')], {
    cwd: path.join(__dirname, '..'),
    env: { ...WORKER_ENV, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const done = new Promise<number | null>((resolve) => child.once('close', resolve));
  const started = new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.includes('"worker started"')) resolve();
      buffered = buffered.slice(-200);
    });
    void done.then((code) => reject(new Error(`a worker process exited (${code}) before it started`)));
  });
  started.catch(() => undefined);
  return { child, started, done };
}

/** Throttled attempts recorded in the run's audit log (pino JSON lines). */
function throttlesFromAudit(auditFile: string | undefined): ThrottleRecord[] {
  if (!auditFile) return [];
  let text: string;
  try {
    text = readFileSync(auditFile, 'utf8');
  } catch {
    return [];
  }
  const records: ThrottleRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('TooManyRequestsException')) continue;
    const r = JSON.parse(line) as { event?: string; errorCode?: string; time?: string; operation?: string; userPoolId?: string };
    if (r.event === 'attempt' && r.errorCode === 'TooManyRequestsException' && r.time) {
      records.push({ at: Date.parse(r.time), operation: r.operation ?? '?', userPoolId: r.userPoolId ?? '?' });
    }
  }
  return records.sort((a, b) => a.at - b.at);
}

/** Every run of the workflow's continue-as-new chain with its history length, oldest first. */
export async function chainOf(client: Client, workflowId: string): Promise<ChainRun[]> {
  const runIds: string[] = [];
  // Visibility is eventually consistent: wait until it lists the closed chain.
  for (let attempt = 0; attempt < 20; attempt++) {
    runIds.length = 0;
    let open = false;
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      runIds.push(execution.runId);
      if (execution.status.name === 'RUNNING') open = true;
    }
    if (runIds.length > 0 && !open) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const runs = await Promise.all(
    runIds.map(async (runId) => {
      const description = await client.workflow.getHandle(workflowId, runId).describe();
      return {
        runId,
        historyLength: description.historyLength,
        startTime: description.startTime.getTime(),
        ...(description.closeTime ? { closeTime: description.closeTime.getTime() } : {}),
      };
    }),
  );
  return runs.sort((a, b) => a.startTime - b.startTime);
}

// ---------------------------------------------------------------------------
// CPU time from /proc (Linux)
// ---------------------------------------------------------------------------

function childPids(): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) children.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** User + system CPU seconds of a process (all its threads) so far; NaN off Linux. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14 and 15)
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------
// What a run achieved, from the emulator's stats
// ---------------------------------------------------------------------------

export interface Achieved {
  items: number;
  deleted: number;
  /** Workflow start to result, as the client saw it. */
  endToEndSeconds: number;
  /** Workflow start to the first successful delete (prepareInput, checkDependencies, first page). */
  firstDeleteAfterSeconds: number;
  /** First to last successful delete. */
  deletePhaseSeconds: number;
  /** Successful deletes per second over the delete phase ((n - 1) / phase). */
  deletesPerSecond: number;
  /** Items per second, end to end. */
  endToEndPerSecond: number;
  /** Most DeleteResourceServer-category calls Cognito accepted in one calendar second. */
  busiestSecond: number;
  deleteOutcomes: Record<string, number>;
  describeOutcomes: Record<string, number>;
  throttledDeletes: number;
  throttledReads: number;
}

export function achieved(m: RunMeasurement): Achieved {
  const times = m.stats.deletes.map((d) => Date.parse(d.time));
  const first = times[0] ?? NaN;
  const last = times[times.length - 1] ?? NaN;
  const phase = (last - first) / 1000;
  const deleteOutcomes = m.stats.operations.DeleteResourceServer ?? {};
  const describeOutcomes = m.stats.operations.DescribeResourceServer ?? {};
  return {
    items: m.items,
    deleted: m.stats.deletes.length,
    endToEndSeconds: (m.endedAt - m.startedAt) / 1000,
    firstDeleteAfterSeconds: (first - m.startedAt) / 1000,
    deletePhaseSeconds: phase,
    deletesPerSecond: times.length > 1 ? (times.length - 1) / phase : NaN,
    endToEndPerSecond: m.stats.deletes.length / ((m.endedAt - m.startedAt) / 1000),
    busiestSecond: Math.max(0, ...m.stats.accepted.perSecond.map((s) => s.categories.UserPoolResourceUpdate ?? 0)),
    deleteOutcomes,
    describeOutcomes,
    throttledDeletes: deleteOutcomes.TooManyRequestsException ?? 0,
    throttledReads: describeOutcomes.TooManyRequestsException ?? 0,
  };
}

/** Successful deletes in consecutive windows of `seconds`, from the first delete. */
export function deletesPerWindow(
  m: RunMeasurement,
  seconds: number,
): { from: number; deletes: number; perSecond: number; throttled: number; limiterRate?: { min: number; max: number } }[] {
  const times = m.stats.deletes.map((d) => Date.parse(d.time));
  if (times.length === 0) return [];
  const first = times[0]!;
  const buckets: number[] = [];
  for (const t of times) {
    const i = Math.floor((t - first) / (seconds * 1000));
    buckets[i] = (buckets[i] ?? 0) + 1;
  }
  return Array.from(buckets, (n, i) => {
    const from = first + i * seconds * 1000;
    const to = from + seconds * 1000;
    const samples = m.rateSamples.filter((s) => s.at >= from && s.at < to).map((s) => s.rate);
    return {
      from: i * seconds,
      deletes: n ?? 0,
      perSecond: (n ?? 0) / seconds,
      throttled: m.throttles.filter((t) => t.at >= from && t.at < to).length,
      ...(samples.length > 0 ? { limiterRate: { min: Math.min(...samples), max: Math.max(...samples) } } : {}),
    };
  });
}

/** Successful deletes per second between two moments (ms), and how many of them were in `pool`. */
export function deletesBetween(
  m: RunMeasurement,
  from: number,
  to: number,
  pool?: string,
): { deletes: number; inPool: number; perSecond: number; throttled: number } {
  const inSpan = m.stats.deletes.filter((d) => {
    const t = Date.parse(d.time);
    return t >= from && t <= to;
  });
  return {
    deletes: inSpan.length,
    inPool: pool ? inSpan.filter((d) => d.userPoolId === pool).length : 0,
    perSecond: inSpan.length / ((to - from) / 1000),
    throttled: m.throttles.filter((t) => t.at >= from && t.at < to).length,
  };
}

export function historyEvents(m: RunMeasurement): number {
  return m.chain.reduce((n, r) => n + r.historyLength, 0);
}
