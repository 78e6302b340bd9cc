/**
 * Test helpers: a client for the suite's dev server and workers bound to a
 * unique task queue per test, so tests in one file never steal each other's tasks.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { makeTelemetryFilterString, DefaultLogger } from '@temporalio/worker';
import { loadWorkflowBundle, WORKFLOWS_PATH } from '../../worker/workflow-bundle';

let runtimeInstalled = false;
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    // Retried activity attempts log at WARN; tests read outcomes from the audit instead.
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
}

export function temporalAddress(): string {
  return inject('temporalAddress');
}

export async function connectClient(): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return new Client({ connection, namespace: 'default' });
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

const bundles = new Map<string, Promise<{ code: string }>>();
/**
 * Bundling takes seconds: the project's workflows come from the same cache the
 * workers use (built once, then read in milliseconds by every test file);
 * other workflow modules (test fixtures) are bundled once per test file.
 */
export function workflowBundle(workflowsPath: string): Promise<{ code: string }> {
  const resolved = path.resolve(workflowsPath);
  let bundle = bundles.get(resolved);
  if (!bundle) {
    bundle = isProjectWorkflows(resolved)
      ? loadWorkflowBundle().then((loaded) => loaded.bundle)
      : bundleWorkflowCode({ workflowsPath: resolved, logger: new DefaultLogger('WARN') });
    bundles.set(resolved, bundle);
  }
  return bundle;
}

function isProjectWorkflows(resolved: string): boolean {
  return resolved === WORKFLOWS_PATH || resolved === path.join(WORKFLOWS_PATH, 'index.ts');
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  /** Stops polling, waits for running activities, and closes the connection. */
  shutdown(): Promise<void>;
}

export async function startWorker(
  options: Omit<WorkerOptions, 'connection' | 'taskQueue' | 'workflowBundle' | 'workflowsPath'> & {
    /** Absent: an activity-only worker. */
    workflowsPath?: string;
    taskQueue?: string;
  },
): Promise<RunningWorker> {
  quietRuntime();
  const { workflowsPath, taskQueue = uniqueTaskQueue(), ...rest } = options;
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    ...(workflowsPath ? { workflowBundle: await workflowBundle(workflowsPath) } : {}),
    ...rest,
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
