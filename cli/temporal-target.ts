/**
 * Where the CLI finds Temporal:
 * - TEMPORAL_ADDRESS set: that cluster (workers run elsewhere);
 * - else an embedded dev server another rs-cleanup process is running now
 *   (its address is in the data directory), so `status` and `pause` reach a
 *   `run` going on in another terminal;
 * - else the embedded default: start the dev server on the project's database
 *   (and, for commands that run work, a worker in this process).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, ScheduleNotFoundError, WorkflowNotFoundError, type ConnectionOptions } from '@temporalio/client';
import { UsageError } from './exit-codes';
import { namesTemporalCluster, readTemporalConnection } from '../common/temporal-connection';
import { readWorkerConfig } from '../worker/config';
import { dataDirectory, embeddedAddressFile, isAlive, startEmbeddedStack, type EmbeddedStack } from './embedded-temporal';

export interface TemporalTarget {
  client: Client;
  taskQueue: string;
  /** True when this process started the server (it goes away when the command ends). */
  embedded: boolean;
  close(): Promise<void>;
  /**
   * Ctrl-C: stops the embedded worker (in-flight activities finish) and server;
   * the process exits next. The client's connection stays open: closing it
   * under a pending retry makes the client throw from a timer.
   */
  interrupt(): Promise<void>;
}

export interface TargetOptions {
  /** Commands that run work (run, redrive) need a worker when the server is embedded. */
  needsWorker: boolean;
  taskQueue?: string;
}

export async function connectTemporal(options: TargetOptions): Promise<TemporalTarget> {
  const config = readWorkerConfig();
  const taskQueue = options.taskQueue ?? config.temporal.taskQueue;
  let stack: EmbeddedStack | undefined;
  let connectOptions: ConnectionOptions;
  let namespace: string;

  if (namesTemporalCluster()) {
    // A cluster or Temporal Cloud: address, namespace, TLS and API key from the profile and the environment.
    const settings = readTemporalConnection();
    connectOptions = settings.options;
    namespace = settings.namespace;
  } else {
    const running = runningEmbeddedServer();
    if (running && !options.needsWorker) {
      connectOptions = { address: running };
      namespace = config.temporal.namespace;
    } else {
      process.stderr.write(
        `No TEMPORAL_ADDRESS: starting the embedded Temporal dev server${options.needsWorker ? ' and a worker' : ''}...\n`,
      );
      const activities = {
        ...config.activities,
        auditDir: process.env.RS_CLEANUP_AUDIT_DIR ? config.activities.auditDir : path.join(dataDirectory(), 'audit'),
      };
      stack = await startEmbeddedStack(activities, taskQueue, options.needsWorker);
      connectOptions = { address: stack.address };
      namespace = stack.namespace;
    }
  }
  const connection = await Connection.connect(connectOptions);
  const client = new Client({ connection, namespace });
  // Ctrl-C and the normal end may both close: the second call waits for the first.
  let closing: Promise<void> | undefined;
  return {
    client,
    taskQueue,
    embedded: stack !== undefined,
    close() {
      closing ??= (async () => {
        await connection.close();
        await stack?.stop();
      })();
      return closing;
    },
    async interrupt() {
      await stack?.stop();
    },
  };
}

/**
 * Runs `action` against Temporal (no worker needed) and closes the connection;
 * a missing run or schedule is a usage error, not a stack trace.
 */
export async function withTarget<T>(action: (target: TemporalTarget) => Promise<T>, taskQueue?: string): Promise<T> {
  const target = await connectTemporal({ needsWorker: false, ...(taskQueue ? { taskQueue } : {}) });
  try {
    return await action(target);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no run with workflow ID '${err.workflowId}'`);
    if (err instanceof ScheduleNotFoundError) throw new UsageError(`no schedule with ID '${err.scheduleId}'`);
    throw err;
  } finally {
    await target.close();
  }
}

/** The address of the embedded server a live rs-cleanup process is running, if any. */
function runningEmbeddedServer(): string | undefined {
  try {
    const { pid, address } = JSON.parse(readFileSync(embeddedAddressFile(), 'utf8')) as { pid: number; address: string };
    return isAlive(pid) ? address : undefined;
  } catch {
    return undefined;
  }
}
