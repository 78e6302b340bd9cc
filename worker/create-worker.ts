/**
 * Builds a worker for the cleanup workflow and its activities. Used by the
 * worker entry (worker/main.ts) and by the CLI's embedded default.
 *
 * One worker process is two Temporal workers on one connection:
 * - the main task queue: the workflows and the bookkeeping activities;
 * - `<taskQueue>-deletes`: the delete activities, under a limit the Temporal
 *   server enforces across ALL workers polling that queue
 *   (worker/delete-queue-limit.ts): one per (account, Region) fairness key, or
 *   one queue-wide limit where the server has no fairness. That is what keeps
 *   many workers under one Cognito quota: per-worker limits would multiply with
 *   the number of workers. Each delete activity makes at most one
 *   DeleteResourceServer call, so R activities/s means at most R deletes/s.
 * The worker's own limiters still run inside each activity (cognito/access.ts):
 * they hold the per-pool limit, smooth what the server dispatches in bursts,
 * share the worker's budget between runs and slow down on congestion.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { closeActivityDeps, createActivities, createActivityDeps, deleteActivities, type ActivityConfig } from '../activities';
import { ACTIVITY_TIMEOUTS } from '../common/options';
import type { JobMetrics } from './metrics';
import { loadWorkflowBundle, type WorkflowBundle } from './workflow-bundle';
import { setDeleteQueueLimit, type DeleteQueueLimit } from './delete-queue-limit';
import { boundWorkflowThreadHeap, WORKER_HEAP } from './heap';

export interface CleanupWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityConfig;
  maxConcurrentActivities?: number;
  /**
   * Delete activities started per second across all workers of the deletes
   * queue when the server has no fairness (server-enforced, queue-wide).
   * Default `activities.deleteRates.rate`, right for one worker (the CLI's
   * embedded one); worker/main.ts passes the configured RS_CLEANUP_TASK_QUEUE_RATE.
   */
  deleteTaskQueueRate?: number;
  /**
   * Delete activities dispatched per second per (account, Region) fairness key
   * across all workers (server-enforced); false for the queue-wide limit only.
   * Default `activities.deleteRates.rate`.
   */
  fairnessKeyRate?: number | false;
  /** Counts outcomes and throttled calls, and reads the limiter's current rate. */
  metrics?: JobMetrics;
  /** The workflow code; default: the cached bundle (worker/workflow-bundle.ts), built when stale. */
  workflowBundle?: WorkflowBundle;
}

export interface CleanupWorker {
  /** Polls the main task queue (workflows, bookkeeping activities). */
  worker: Worker;
  /** Polls the deletes task queue. Stops when `worker` stops, and the other way round. */
  deleteWorker: Worker;
  /** Resolves when both workers have stopped and the clients are closed. */
  run(): Promise<void>;
  /** Starts a graceful shutdown of both workers. */
  shutdown(): void;
  /** True while both workers are running (the metrics server's /healthz). */
  isRunning(): boolean;
  /** The server-side limit on the deletes queue: per fairness key, or queue-wide (and why). */
  deleteQueueLimit: DeleteQueueLimit;
}

/**
 * Worker options every rs-cleanup worker needs. Heartbeats reach the server
 * at most a second apart: a cancel (the pause update) reaches a delete waiting
 * in the limiter through its heartbeat, and the SDK would otherwise hold
 * heartbeats back for 80% of the heartbeat timeout (24 s at the default 30 s).
 */
export const WORKER_TUNING = {
  maxHeartbeatThrottleInterval: ACTIVITY_TIMEOUTS.heartbeatThrottleSeconds * 1_000,
} as const;

/** The queue the cleanup workflow sends deletes to by default (see `deleteTaskQueue` in workflows/cleanup.ts). */
export function deleteTaskQueueFor(taskQueue: string): string {
  return `${taskQueue}-deletes`;
}

export async function createCleanupWorker(options: CleanupWorkerOptions): Promise<CleanupWorker> {
  const deps = { ...createActivityDeps(options.activities), ...(options.metrics ? { observer: options.metrics } : {}) };
  options.metrics?.watchDeleteRate(() => deps.cognito.currentRate('UserPoolResourceUpdate'));
  const activities = createActivities(options.activities, deps);
  const maxConcurrent = options.maxConcurrentActivities ?? 200;
  let worker: Worker | undefined;
  let deleteWorker: Worker | undefined;
  let deleteQueueLimit: DeleteQueueLimit | undefined;
  const stopBoth = () => {
    for (const w of [worker, deleteWorker]) if (w?.getState() === 'RUNNING') w.shutdown();
  };
  // The workflow thread's heap, whatever this process's own (worker/heap.ts).
  boundWorkflowThreadHeap();
  try {
    worker = await Worker.create({
      connection: options.connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      workflowBundle: options.workflowBundle ?? (await loadWorkflowBundle()).bundle,
      // deleteResourceServer stays registered here too: runs started before the
      // deletes queue existed scheduled their deletes on this queue.
      activities,
      maxConcurrentActivityTaskExecutions: maxConcurrent,
      maxCachedWorkflows: WORKER_HEAP.maxCachedWorkflows,
      ...WORKER_TUNING,
    });
    deleteQueueLimit = await setDeleteQueueLimit(options.connection, options.namespace, deleteTaskQueueFor(options.taskQueue), {
      fairnessKeyRate: options.fairnessKeyRate ?? options.activities.deleteRates.rate,
      queueRate: options.deleteTaskQueueRate ?? options.activities.deleteRates.rate,
    });
    deleteWorker = await Worker.create({
      connection: options.connection,
      namespace: options.namespace,
      taskQueue: deleteTaskQueueFor(options.taskQueue),
      activities: deleteActivities(activities),
      maxConcurrentActivityTaskExecutions: maxConcurrent,
      ...(deleteQueueLimit.mode === 'queue-wide' ? { maxTaskQueueActivitiesPerSecond: deleteQueueLimit.rate } : {}),
      ...WORKER_TUNING,
    });
  } catch (err) {
    await closeActivityDeps(deps);
    throw err;
  }
  const main = worker;
  const deletes = deleteWorker;
  const limit = deleteQueueLimit;
  return {
    worker: main,
    deleteWorker: deletes,
    async run() {
      // A process polls both queues or neither: when one worker stops (a
      // shutdown, or a fatal error), the other is asked to stop too.
      const runs = [main.run(), deletes.run()].map((running) => running.finally(stopBoth));
      const results = await Promise.allSettled(runs);
      await closeActivityDeps(deps);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown: stopBoth,
    isRunning: () => main.getState() === 'RUNNING' && deletes.getState() === 'RUNNING',
    deleteQueueLimit: limit,
  };
}
