/**
 * Where the CLI finds Temporal:
 * - TEMPORAL_ADDRESS set: that cluster (workers run elsewhere);
 * - else the embedded dev server another rs-cleanup process is running now
 *   (its lock in the data directory says where), so `status`, `pause` and a
 *   second `run` of the same input reach a run going on in another terminal;
 * - else the embedded default: start the dev server on the project's database
 *   (and, for commands that run work, a worker in this process).
 */
import path from 'node:path';
import { Client, Connection, ScheduleNotFoundError, WorkflowNotFoundError, type ConnectionOptions } from '@temporalio/client';
import { UsageError } from './exit-codes';
import { namesTemporalCluster, readTemporalConnection } from '../common/temporal-connection';
import { readWorkerConfig } from '../worker/config';
import { CLI_DEFAULTS } from '../common/options';
import {
  dataDirectory,
  EmbeddedServerHeld,
  heldEmbeddedServer,
  startEmbeddedStack,
  type EmbeddedLock,
  type EmbeddedStack,
} from './embedded-temporal';
import { requireAwsCredentials } from './aws-credentials';

/** How long a command waits for another one that holds the embedded server without a worker, or is starting it. */
const HOLDER_WAIT_MS = 120_000;
import type { CommandIo } from './command-io';

export interface TemporalTarget {
  client: Client;
  connection: Connection;
  taskQueue: string;
  /**
   * cluster: TEMPORAL_ADDRESS; embedded: this process started the server
   * (and the worker, when asked); held: another rs-cleanup process runs the
   * embedded server and its worker.
   */
  kind: 'cluster' | 'embedded' | 'held';
  /** held: the rs-cleanup process that runs the server. */
  holderPid?: number;
  /**
   * Closes the connection, then stops what this process started. At a
   * normal end an embedded server first waits for other processes following
   * a run through it; `interrupted` (Ctrl-C) stops it at once.
   */
  close(options?: { interrupted?: boolean }): Promise<void>;
}

export interface TargetOptions {
  /** Commands that run work (run, redrive) need a worker when the server is embedded. */
  needsWorker: boolean;
  taskQueue?: string;
}

export async function connectTemporal(options: TargetOptions, io: CommandIo): Promise<TemporalTarget> {
  const config = readWorkerConfig(io.env);
  const taskQueue = options.taskQueue ?? config.temporal.taskQueue;

  if (namesTemporalCluster(io.env)) {
    // A cluster or Temporal Cloud: address, namespace, TLS and API key from the profile and the environment.
    const settings = readTemporalConnection(io.env);
    const connection = await connectOrExplain(
      { ...settings.options, connectTimeout: CLI_DEFAULTS.temporalConnectTimeoutMs },
      `Temporal at ${settings.options.address} (TEMPORAL_ADDRESS)`,
      'is the server running there, and are the address and its TLS settings right?',
    );
    return target(connection, settings.namespace, taskQueue, 'cluster');
  }

  const { stack, holder } = await embeddedServer(options.needsWorker, config, taskQueue, io);
  if (stack) {
    const connection = await Connection.connect({ address: stack.address }).catch(async (err) => {
      await stack.stop({ waitForFollowers: false });
      throw err;
    });
    return target(connection, stack.namespace, taskQueue, 'embedded', {
      stop: (interrupted) => stack.stop({ waitForFollowers: !interrupted, signal: io.signal }),
    });
  }
  const connection = await connectOrExplain(
    { address: holder!.address!, connectTimeout: CLI_DEFAULTS.temporalConnectTimeoutMs },
    `the embedded Temporal server of rs-cleanup process ${holder!.cliPid} at ${holder!.address}`,
    'is that process still running?',
  );
  return target(connection, holder!.namespace ?? 'default', taskQueue, 'held', { holderPid: holder!.cliPid });
}

/**
 * With no TEMPORAL_ADDRESS: the server another rs-cleanup process runs with
 * a worker (once it serves), or one this process starts. A holder without a
 * worker (status, pause, ... in another terminal) is a short command: wait
 * for it to end, then start our own.
 */
async function embeddedServer(
  needsWorker: boolean,
  config: ReturnType<typeof readWorkerConfig>,
  taskQueue: string,
  io: CommandIo,
): Promise<{ stack?: EmbeddedStack; holder?: EmbeddedLock }> {
  const log = (line: string) => void io.stderr.write(`${line}\n`);
  const deadline = Date.now() + HOLDER_WAIT_MS;
  let told: number | undefined;
  for (;;) {
    const held = heldEmbeddedServer(io.env);
    if (held?.worker && held.address) return { holder: held };
    if (held) {
      // Starting its server, or a short command without a worker: wait.
      if (told !== held.cliPid) {
        log(`rs-cleanup process ${held.cliPid} is using the embedded Temporal server in ${dataDirectory(io.env)}; waiting for it...`);
        told = held.cliPid;
      }
      if (Date.now() > deadline || io.signal.aborted) {
        throw new UsageError(`rs-cleanup process ${held.cliPid} keeps the embedded Temporal server in ${dataDirectory(io.env)} busy; try again when it has ended`);
      }
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    if (needsWorker) await requireAwsCredentials(CLI_DEFAULTS.credentialsTimeoutMs);
    log(`No TEMPORAL_ADDRESS: starting the embedded Temporal dev server${needsWorker ? ' and a worker' : ''}...`);
    const activities = {
      ...config.activities,
      auditDir: io.env.RS_CLEANUP_AUDIT_DIR ? config.activities.auditDir : path.join(dataDirectory(io.env), 'audit'),
    };
    try {
      return { stack: await startEmbeddedStack({ env: io.env, activities, taskQueue, withWorker: needsWorker, log }) };
    } catch (err) {
      // Another process took the server between our look and our start: look again.
      if (!(err instanceof EmbeddedServerHeld)) throw err;
    }
  }
}

function target(
  connection: Connection,
  namespace: string,
  taskQueue: string,
  kind: TemporalTarget['kind'],
  extra: { holderPid?: number; stop?: (interrupted: boolean) => Promise<void> } = {},
): TemporalTarget {
  // Ctrl-C and the normal end may both close: the second call waits for the first.
  let closing: Promise<void> | undefined;
  return {
    client: new Client({ connection, namespace }),
    connection,
    taskQueue,
    kind,
    ...(extra.holderPid !== undefined ? { holderPid: extra.holderPid } : {}),
    close({ interrupted = false } = {}) {
      closing ??= (async () => {
        await connection.close();
        await extra.stop?.(interrupted);
      })();
      return closing;
    },
  };
}

/** Connects, or says in one line which server did not answer and what to check. */
async function connectOrExplain(options: ConnectionOptions, what: string, hint: string): Promise<Connection> {
  try {
    return await Connection.connect(options);
  } catch (err) {
    const reason = (err as Error).message.replace(/\s+/g, ' ').trim();
    throw new UsageError(`cannot reach ${what}: ${reason}; ${hint}`);
  }
}

/**
 * Runs `action` against Temporal (no worker needed) and closes the connection;
 * a missing run or schedule is a usage error, not a stack trace.
 */
export async function withTarget<T>(io: CommandIo, action: (target: TemporalTarget) => Promise<T>, taskQueue?: string): Promise<T> {
  const target = await connectTemporal({ needsWorker: false, ...(taskQueue ? { taskQueue } : {}) }, io);
  try {
    return await action(target);
  } catch (err) {
    throw asUsageError(err);
  } finally {
    await target.close();
  }
}

/** A run or schedule that does not exist is the operator's mistake (exit 2), said in one line. */
export function asUsageError(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) return new UsageError(`no run with workflow ID '${err.workflowId}'; see the runs with: rs-cleanup list`);
  if (err instanceof ScheduleNotFoundError) return new UsageError(`no schedule with ID '${err.scheduleId}'; see them with: rs-cleanup schedule list`);
  return err;
}
