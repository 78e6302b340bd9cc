/**
 * Builds a worker for the cleanup workflow and its activities. Used by the
 * worker entry (worker/main.ts) and by the CLI's embedded default.
 */
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { closeActivityDeps, createActivities, createActivityDeps, type ActivityConfig } from '../activities';

export interface CleanupWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityConfig;
  maxConcurrentActivities?: number;
}

export interface CleanupWorker {
  worker: Worker;
  /** Resolves when the worker has stopped and its clients are closed. */
  run(): Promise<void>;
}

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows');

export async function createCleanupWorker(options: CleanupWorkerOptions): Promise<CleanupWorker> {
  const deps = createActivityDeps(options.activities);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities(options.activities, deps),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 200,
  });
  return {
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await closeActivityDeps(deps);
      }
    },
  };
}
