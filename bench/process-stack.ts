/**
 * A benchmark stack whose worker is a process of its own (bench/bench-worker.ts,
 * i.e. `createCleanupWorker`), so the worker's CPU time and peak RSS are
 * measured apart from the emulator and the client, which run in this process.
 * Used by the `ratio` scenario of bench/cleanup-throughput.ts and by
 * bench/large-run.ts; bench/cleanup-harness.ts keeps the in-process stack.
 *
 * Also the yardstick the job is compared with: a plain promise pool that makes
 * the same two Cognito calls per item (DescribeResourceServer, then
 * DeleteResourceServer) through the same SDK clients against the same emulator.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeleteResourceServerCommand, DescribeResourceServerCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startEmulator, DEFAULT_TEST_CREDENTIALS, type EmulatorOptions, type RunningEmulator } from '../emulator';
import { CognitoClients } from '../cognito/clients';
import type { RateSettings } from '../cognito/rate-limiter';
import { cleanupWorkflow, type CleanupSummary } from '../workflows/cleanup';
import { chainOf, cpuSeconds, useEmulatorCredentials, type BenchTemporal, type RunMeasurement, type RunOptions, writeRunInput } from './cleanup-harness';
import type { BenchWorkerConfig } from './bench-worker';
import { WORKER_ENV, WORKER_NODE_OPTIONS } from '../worker/heap';

const REPO_ROOT = path.resolve(__dirname, '..');

// ---------------------------------------------------------------------------
// Process measurements (Linux /proc)
// ---------------------------------------------------------------------------

/** Peak resident set size of a live process so far (VmHWM), in MB; NaN when unknown. */
export function peakRssMb(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The 1-minute load average, as `uptime` shows it. */
export function loadAverage(): string {
  return os.loadavg().map((n) => n.toFixed(2)).join(' / ');
}

/** Total size of the files under a directory, in bytes, and how many there are. */
export async function directorySize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
    files += 1;
  }
  return { bytes, files };
}

// ---------------------------------------------------------------------------
// The worker process
// ---------------------------------------------------------------------------

export interface WorkerRates {
  deleteRates: RateSettings;
  readRates: RateSettings;
  clientReadRates: RateSettings;
  deleteTaskQueueRate: number;
  maxConcurrentActivities?: number;
}

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  /** Resolves once the worker polls. */
  ready: Promise<void>;
  /** SIGTERM and wait: running activities finish, a --cpu-prof profile is written. */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * A bench worker process, started as worker/main.ts is deployed: with
 * WORKER_NODE_OPTIONS and WORKER_ENV (worker/heap.ts) unless `nodeArgs` name
 * others (later options win: `--max-old-space-size=4096` measures an
 * unbounded heap) or this process's environment sets MALLOC_ARENA_MAX itself.
 */
export function startWorkerProcess(config: BenchWorkerConfig, nodeArgs: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, [...WORKER_NODE_OPTIONS, ...nodeArgs, '--import', 'tsx', path.join(REPO_ROOT, 'bench', 'bench-worker.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...WORKER_ENV,
      ...process.env,
      BENCH_WORKER: JSON.stringify(config),
      AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    void exited.then((code) => reject(new Error(`the bench worker exited (${code}) before it was ready:\n${stderr}`)));
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    child,
    ready,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------
// The stack: in-process emulator, worker process
// ---------------------------------------------------------------------------

export interface ProcessStack {
  emulator: RunningEmulator;
  /** The worker processes' memory samples (bench/bench-worker.ts), one JSON line a second. */
  memoryFile: string;
  taskQueue: string;
  tmpDir: string;
  auditDir: string;
  worker: WorkerProcess;
  /** Starts a new worker process (after `worker.kill()`, say) and waits until it polls. */
  restartWorker(): Promise<WorkerProcess>;
  close(): Promise<void>;
}

export async function startProcessStack(
  temporal: BenchTemporal,
  options: { emulator: EmulatorOptions; worker: WorkerRates; workerNodeArgs?: string[] },
): Promise<ProcessStack> {
  useEmulatorCredentials();
  const emulator = await startEmulator({ port: 0, ...options.emulator });
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-bench-'));
  const auditDir = path.join(tmpDir, 'audit');
  const taskQueue = `bench-${randomUUID()}`;
  const config: BenchWorkerConfig = {
    memoryFile: path.join(tmpDir, 'worker-memory.jsonl'),
    address: temporal.server.address,
    namespace: temporal.server.namespace,
    taskQueue,
    activities: {
      cognito: { endpoint: emulator.url },
      auditDir,
      deleteRates: options.worker.deleteRates,
      readRates: options.worker.readRates,
      clientReadRates: options.worker.clientReadRates,
    },
    deleteTaskQueueRate: options.worker.deleteTaskQueueRate,
    ...(options.worker.maxConcurrentActivities !== undefined ? { maxConcurrentActivities: options.worker.maxConcurrentActivities } : {}),
  };
  const stack: ProcessStack = {
    emulator,
    memoryFile: config.memoryFile!,
    taskQueue,
    tmpDir,
    auditDir,
    worker: startWorkerProcess(config, options.workerNodeArgs),
    async restartWorker() {
      stack.worker = startWorkerProcess(config, options.workerNodeArgs);
      await stack.worker.ready;
      return stack.worker;
    },
    async close() {
      await stack.worker.stop();
      await emulator.close();
      await rm(tmpDir, { recursive: true, force: true });
    },
  };
  try {
    await stack.worker.ready;
  } catch (err) {
    await stack.close();
    throw err;
  }
  return stack;
}

// ---------------------------------------------------------------------------
// One run, measured
// ---------------------------------------------------------------------------

export interface ProcessRunOptions extends RunOptions {
  /** Called once the run has started (to kill the worker mid-run, say). */
  during?: (handle: { workflowId: string }) => Promise<void>;
}

export interface ProcessRunMeasurement extends Pick<RunMeasurement, 'workflowId' | 'items' | 'startedAt' | 'endedAt' | 'timedOut' | 'summary' | 'stats' | 'chain'> {
  /** CPU seconds over the run: the worker process(es), the dev server, this process (emulator + client). */
  cpu: { workerSeconds: number; serverSeconds?: number; benchSeconds: number };
  /** Peak RSS in MB at the end of the run: the last worker process (its whole life) and the dev server's. */
  peakRss: { workerMb: number; serverMb?: number };
  /** The 1/5/15-minute load averages at the start and at the end. */
  load: { start: string; end: string };
  /** The worker's memory over the run (MB), sampled every second in the worker process. */
  memory: MemorySample[];
}

/** One sample of the worker's process.memoryUsage(), in MB; `at` in seconds from the run's start. */
export interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** The workflow thread's isolate. */
  threadHeapUsed: number;
  threadHeapTotal: number;
}

/** The worker's memory samples between two moments (ms since the epoch), in MB. */
export function memorySamples(file: string, from: number, to: number): MemorySample[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const mb = (bytes: number) => bytes / 2 ** 20;
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<keyof MemorySample, number>)
    .filter((m) => m.at >= from && m.at <= to)
    .map((m) => ({ at: (m.at - from) / 1000, rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), threadHeapUsed: mb(m.threadHeapUsed ?? 0), threadHeapTotal: mb(m.threadHeapTotal ?? 0) }));
}

export async function runCleanupOn(temporal: BenchTemporal, stack: ProcessStack, run: ProcessRunOptions): Promise<ProcessRunMeasurement> {
  const workflowId = `bench-${randomUUID()}`;
  const input = await writeRunInput(stack.tmpDir, workflowId, run);
  await stack.emulator.control.resetStats();
  const load = { start: loadAverage(), end: '' };
  // Worker CPU: every worker process of the run (a restart adds a new one).
  let workerCpu = 0;
  let counted = stack.worker;
  let counterBase = cpuSeconds(counted.pid);
  const countWorker = () => {
    if (counted !== stack.worker) {
      counted = stack.worker;
      counterBase = 0;
    }
    const now = cpuSeconds(counted.pid);
    if (Number.isFinite(now)) {
      workerCpu += now - counterBase;
      counterBase = now;
    }
  };
  const sampler = setInterval(countWorker, 200);
  const benchBefore = cpuSeconds(process.pid);
  const serverBefore = temporal.serverPid !== undefined ? cpuSeconds(temporal.serverPid) : undefined;
  const startedAt = Date.now();
  const handle = await temporal.client.workflow.start(cleanupWorkflow, { taskQueue: stack.taskQueue, workflowId, args: [input] });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), run.timeoutMs)));
  const during = run.during?.({ workflowId });
  const outcome = await Promise.race([handle.result(), timeout]);
  clearTimeout(timer);
  const endedAt = Date.now();
  await during;
  countWorker();
  clearInterval(sampler);
  const cpu = {
    workerSeconds: workerCpu,
    benchSeconds: cpuSeconds(process.pid) - benchBefore,
    ...(serverBefore !== undefined ? { serverSeconds: cpuSeconds(temporal.serverPid!) - serverBefore } : {}),
  };
  const peakRss = {
    workerMb: peakRssMb(stack.worker.pid),
    ...(temporal.serverPid !== undefined ? { serverMb: peakRssMb(temporal.serverPid) } : {}),
  };
  load.end = loadAverage();
  const timedOut = outcome === 'timeout';
  if (timedOut) await handle.terminate('benchmark time bound reached').catch(() => undefined);
  return {
    workflowId,
    items: run.rows.length,
    startedAt,
    endedAt,
    timedOut,
    ...(timedOut ? {} : { summary: outcome as CleanupSummary }),
    stats: await stack.emulator.control.stats(),
    chain: await chainOf(temporal.client, workflowId),
    cpu,
    peakRss,
    load,
    memory: memorySamples(stack.memoryFile, startedAt, endedAt),
  };
}

// ---------------------------------------------------------------------------
// The yardstick: a plain promise pool
// ---------------------------------------------------------------------------

export interface PoolMeasurement {
  items: number;
  deleted: number;
  failed: number;
  seconds: number;
  itemsPerSecond: number;
  /** CPU seconds of this process over the pool: the pool, the SDK and the emulator. */
  cpuSeconds: number;
  load: string;
}

/**
 * Describe then Delete every item, `concurrency` at a time, through the same
 * SDK clients (cognito/clients.ts) as the worker: what the same calls cost
 * with no workflow, no audit and no limiter around them.
 */
export async function plainPool(emulatorUrl: string, rows: { userPoolId: string; identifier: string }[], concurrency: number): Promise<PoolMeasurement> {
  useEmulatorCredentials();
  const clients = new CognitoClients({ endpoint: emulatorUrl });
  let next = 0;
  let deleted = 0;
  let failed = 0;
  const cpuBefore = cpuSeconds(process.pid);
  const startedAt = Date.now();
  const lane = async () => {
    while (next < rows.length) {
      const { userPoolId, identifier } = rows[next++]!;
      const client = clients.forUserPool(userPoolId);
      try {
        await client.send(new DescribeResourceServerCommand({ UserPoolId: userPoolId, Identifier: identifier }));
        await client.send(new DeleteResourceServerCommand({ UserPoolId: userPoolId, Identifier: identifier }));
        deleted += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (Date.now() - startedAt) / 1000;
  clients.destroy();
  return { items: rows.length, deleted, failed, seconds, itemsPerSecond: deleted / seconds, cpuSeconds: cpuSeconds(process.pid) - cpuBefore, load: loadAverage() };
}
