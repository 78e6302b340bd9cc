/**
 * Where the CLI finds Temporal:
 * - TEMPORAL_ADDRESS set: that cluster (workers run elsewhere);
 * - else the embedded dev server another rs-cleanup process is running now
 *   (its lock in the data directory says where), so `status`, `pause` and a
 *   second `run` of the same input reach a run going on in another terminal;
 * - else the embedded default: start the dev server on the project's database
 *   (and, for commands that run work, a worker in this process), with the
 *   Temporal Web UI on RS_CLEANUP_UI_PORT (default 8233, another free port
 *   when that one is taken; `off`: none). Commands that only read (status,
 *   list, report) never start one: `runningTemporal` says there is none.
 *
 * @temporalio/client is loaded when a connection is made, not before: the
 * short commands that find no server never pay for it.
 */
import path from 'node:path';
import type { Client, Connection, ConnectionOptions } from '@temporalio/client';
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
import { UNRECORDED } from './startup-phases';
import type { CommandIo } from './command-io';
import { collapseWhitespace } from '../common/display-text';

/** How long a command waits for another one that holds the embedded server without a worker, or is starting it. */
const HOLDER_WAIT_MS = 120_000;

/** Where the embedded dev server serves the Temporal Web UI unless RS_CLEANUP_UI_PORT says otherwise (the Temporal CLI's own default). */
const DEFAULT_UI_PORT = 8233;

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
  /** The Temporal Web UI's base URL (embedded and held targets whose server serves it). */
  uiUrl?: string;
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
    const { Connection } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: stack.address }).catch(async (err) => {
      await stack.stop({ waitForFollowers: false });
      throw err;
    });
    return target(connection, stack.namespace, taskQueue, 'embedded', {
      ...(stack.uiUrl ? { uiUrl: stack.uiUrl } : {}),
      stop: (interrupted) => stack.stop({ waitForFollowers: !interrupted, signal: io.signal }),
    });
  }
  return connectToHolder(holder!, taskQueue);
}

/**
 * For the commands that only read (status, list, report): Temporal when it is
 * running (the cluster, or the embedded server another rs-cleanup process
 * holds, once it serves), and undefined when no embedded server runs: they
 * read what is on disk instead of starting one.
 */
async function runningTemporal(io: CommandIo): Promise<TemporalTarget | undefined> {
  if (namesTemporalCluster(io.env)) return connectTemporal({ needsWorker: false }, io);
  const taskQueue = readWorkerConfig(io.env).temporal.taskQueue;
  const deadline = Date.now() + HOLDER_WAIT_MS;
  for (;;) {
    const held = heldEmbeddedServer(io.env);
    if (!held) return undefined;
    if (held.address) return connectToHolder(held, taskQueue);
    // Its server is starting: it serves in a few seconds.
    if (Date.now() > deadline || io.signal.aborted) {
      throw new UsageError(`rs-cleanup process ${held.cliPid} is starting the embedded Temporal server in ${dataDirectory(io.env)} and it does not answer yet; try again`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The audit directory of embedded runs: RS_CLEANUP_AUDIT_DIR, else `audit` in the data directory. */
export function embeddedAuditDir(env: NodeJS.ProcessEnv): string {
  return env.RS_CLEANUP_AUDIT_DIR ? readWorkerConfig(env).activities.auditDir : path.join(dataDirectory(env), 'audit');
}

/**
 * The Web UI port the embedded server is asked for: RS_CLEANUP_UI_PORT
 * (`--ui-port`), default 8233; undefined for `off` (`--no-ui`).
 */
function requestedUiPort(env: NodeJS.ProcessEnv): number | undefined {
  const setting = env.RS_CLEANUP_UI_PORT?.trim();
  if (!setting) return DEFAULT_UI_PORT;
  if (setting === 'off') return undefined;
  const port = Number(setting);
  if (!/^\d+$/.test(setting) || port < 1 || port > 65535) {
    throw new UsageError(`RS_CLEANUP_UI_PORT='${setting}' is not a port: expected a whole number from 1 to 65535, or 'off'`);
  }
  return port;
}

/** The link to a run in the Temporal Web UI, when the target's server serves one. */
export function runLink(target: { uiUrl?: string }, namespace: string, workflowId: string): string | undefined {
  return target.uiUrl ? `${target.uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}` : undefined;
}

async function connectToHolder(holder: EmbeddedLock, taskQueue: string): Promise<TemporalTarget> {
  const connection = await connectOrExplain(
    { address: holder.address!, connectTimeout: CLI_DEFAULTS.temporalConnectTimeoutMs },
    `the embedded Temporal server of rs-cleanup process ${holder.cliPid} at ${holder.address}`,
    'is that process still running?',
  );
  return target(connection, holder.namespace ?? 'default', taskQueue, 'held', {
    holderPid: holder.cliPid,
    ...(holder.uiUrl ? { uiUrl: holder.uiUrl } : {}),
  });
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
    const phases = io.phases ?? UNRECORDED;
    const uiPort = requestedUiPort(io.env);
    if (needsWorker) {
      const { requireAwsCredentials } = await import('./aws-credentials');
      await phases.time('AWS credentials found', () => requireAwsCredentials(CLI_DEFAULTS.credentialsTimeoutMs));
    }
    log(`No TEMPORAL_ADDRESS: starting the embedded Temporal dev server${needsWorker ? ' and a worker' : ''}...`);
    const activities = { ...config.activities, auditDir: embeddedAuditDir(io.env) };
    try {
      const stack = await startEmbeddedStack({
        env: io.env,
        activities,
        taskQueue,
        withWorker: needsWorker,
        log,
        phases,
        ...(uiPort === undefined ? {} : { uiPort }),
      });
      return { stack };
    } catch (err) {
      // Another process took the server between our look and our start: look again.
      if (!(err instanceof EmbeddedServerHeld)) throw err;
    }
  }
}

async function target(
  connection: Connection,
  namespace: string,
  taskQueue: string,
  kind: TemporalTarget['kind'],
  extra: { holderPid?: number; uiUrl?: string; stop?: (interrupted: boolean) => Promise<void> } = {},
): Promise<TemporalTarget> {
  const { Client } = await import('@temporalio/client');
  // Ctrl-C and the normal end may both close: the second call waits for the first.
  let closing: Promise<void> | undefined;
  return {
    client: new Client({ connection, namespace }),
    connection,
    taskQueue,
    kind,
    ...(extra.holderPid !== undefined ? { holderPid: extra.holderPid } : {}),
    ...(extra.uiUrl ? { uiUrl: extra.uiUrl } : {}),
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
  const { Connection } = await import('@temporalio/client');
  try {
    return await Connection.connect(options);
  } catch (err) {
    const reason = collapseWhitespace((err as Error).message);
    throw new UsageError(`cannot reach ${what}: ${reason}; ${hint}`);
  }
}

/**
 * Runs `action` against Temporal (no worker needed) and closes the connection;
 * a missing run or schedule is a usage error, not a stack trace.
 */
export async function withTarget<T>(io: CommandIo, action: (target: TemporalTarget) => Promise<T>, taskQueue?: string): Promise<T> {
  return onTarget(await connectTemporal({ needsWorker: false, ...(taskQueue ? { taskQueue } : {}) }, io), action);
}

/**
 * For the commands that only read: `action` against Temporal when it runs
 * (see runningTemporal), else `offline`, which reads what is on disk.
 */
export async function withRunningTarget<T>(io: CommandIo, action: (target: TemporalTarget) => Promise<T>, offline: () => Promise<T>): Promise<T> {
  const target = await runningTemporal(io);
  return target ? onTarget(target, action) : offline();
}

async function onTarget<T>(target: TemporalTarget, action: (target: TemporalTarget) => Promise<T>): Promise<T> {
  try {
    return await action(target);
  } catch (err) {
    throw await asUsageError(err);
  } finally {
    await target.close();
  }
}

/** A run or schedule that does not exist is the operator's mistake (exit 2), said in one line. */
async function asUsageError(err: unknown): Promise<unknown> {
  const { ScheduleNotFoundError, WorkflowNotFoundError } = await import('@temporalio/client');
  if (err instanceof WorkflowNotFoundError) return new UsageError(`no run with workflow ID '${err.workflowId}'; see the runs with: rs-cleanup list`);
  if (err instanceof ScheduleNotFoundError) return new UsageError(`no schedule with ID '${err.scheduleId}'; see them with: rs-cleanup schedule list`);
  return err;
}
