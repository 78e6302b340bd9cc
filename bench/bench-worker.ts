/**
 * A cleanup worker process for the benchmarks: `createCleanupWorker` (the very
 * function worker/main.ts runs) with the benchmark's configuration, in a
 * process of its own so that its CPU time and peak RSS are its own, not the
 * emulator's or the client's.
 *
 * Why not worker/main.ts itself: its environment has no setting for the
 * client-read limiter (ListUserPoolClients, DescribeUserPoolClient), which
 * stays at Cognito's 15/s; with quotas off the dependency check over 4,000
 * pools would then take 4.5 minutes of a run that is meant to measure the
 * workflow.
 *
 *   BENCH_WORKER='{"address":...,"namespace":...,"taskQueue":...,"activities":{...}}' node --import tsx bench/bench-worker.ts
 *
 * Stops gracefully on SIGTERM; prints `ready` on standard output once polling.
 */
import { appendFileSync } from 'node:fs';
import type v8 from 'node:v8';
import type { Worker as WorkerThread } from 'node:worker_threads';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { ActivityConfig } from '../activities';
import { createCleanupWorker } from '../worker/create-worker';

export interface BenchWorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  activities: ActivityConfig;
  deleteTaskQueueRate?: number;
  maxConcurrentActivities?: number;
  /** Appends process.memoryUsage() as a JSON line to this file every `memoryEveryMs` (default 1 s). */
  memoryFile?: string;
  memoryEveryMs?: number;
}

/**
 * Samples the process's memory: rss is the whole process (every isolate, the
 * Rust core, native buffers); heapUsed, heapTotal, external and arrayBuffers
 * are this thread's isolate only (the workflows run in a thread of their own).
 */
function sampleMemory(file: string, everyMs: number): void {
  const threads = watchWorkerThreads();
  const sample = async () => {
    const m = process.memoryUsage();
    // The workflow thread's isolate (Worker.getHeapStatistics, Node 22.16 and later).
    let threadHeapUsed = 0;
    let threadHeapTotal = 0;
    for (const thread of threads) {
      const stats = await (thread as unknown as { getHeapStatistics?: () => Promise<v8.HeapInfo> }).getHeapStatistics?.().catch(() => undefined);
      threadHeapUsed += stats?.used_heap_size ?? 0;
      threadHeapTotal += stats?.total_heap_size ?? 0;
    }
    const line = { at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, threadHeapUsed, threadHeapTotal };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
  void sample();
  setInterval(() => void sample(), everyMs).unref();
}

/** Keeps every worker thread started from now on (the SDK starts the workflow thread in Worker.create). */
function watchWorkerThreads(): WorkerThread[] {
  const threads: WorkerThread[] = [];
  const module = require('node:worker_threads') as { Worker: typeof WorkerThread };
  const Original = module.Worker;
  module.Worker = class extends Original {
    constructor(...args: ConstructorParameters<typeof WorkerThread>) {
      super(...args);
      threads.push(this);
      this.once('exit', () => threads.splice(threads.indexOf(this), 1));
    }
  };
  return threads;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_WORKER ?? '') as BenchWorkerConfig;
  if (config.memoryFile) sampleMemory(config.memoryFile, config.memoryEveryMs ?? 1_000);
  Runtime.install({
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    // Retried attempts log warnings; the benchmarks read what happened from the emulator and the audit.
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await createCleanupWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities: config.activities,
    ...(config.deleteTaskQueueRate !== undefined ? { deleteTaskQueueRate: config.deleteTaskQueueRate } : {}),
    ...(config.maxConcurrentActivities !== undefined ? { maxConcurrentActivities: config.maxConcurrentActivities } : {}),
  });
  const running = worker.run();
  process.stdout.write('ready\n');
  try {
    await running;
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
