/**
 * The worker's configuration, read from the environment. Every variable is
 * listed here, with its default; a bad value stops the worker with a message
 * naming the variable. An empty variable counts as unset (Compose passes
 * `${VAR:-}` through as ''). docs/deployment.md documents each one, and
 * test/deployment/compose.test.ts checks that it does.
 */
import path from 'node:path';
import type { ActivityConfig } from '../activities';
import { BOOKKEEPING_ACTIVITIES, type BookkeepingActivity } from '../common/types';
import { TEMPORAL_CONNECTION_ENV } from '../common/temporal-connection';
import { WORKER_DEFAULTS } from '../common/options';
import { validateRoleArnTemplate } from '../common/cognito-rules';

export interface WorkerConfig {
  temporal: { address: string; namespace: string; taskQueue: string };
  activities: ActivityConfig;
  /** Activity tasks this worker runs at once (deletes wait inside the rate limiter). */
  maxConcurrentActivities: number;
  /**
   * Delete activities dispatched per second per (account, Region) fairness key
   * across ALL workers of the deletes queue, enforced by the Temporal server;
   * false when fairness is turned off (RS_CLEANUP_FAIRNESS=off).
   */
  fairnessKeyRate: number | false;
  /**
   * Without fairness: delete activities started per second across ALL workers
   * of the deletes queue (one queue-wide limit for every account and Region).
   */
  deleteTaskQueueRate: number;
  metrics: {
    host: string;
    /** The job's own counters on /metrics; off when absent. */
    port?: number;
    /** The Temporal SDK runtime's Prometheus endpoint; off when absent. */
    temporalPort?: number;
  };
  logLevel: string;
}

/**
 * RS_CLEANUP_TASK_QUEUE_RATE (the fallback without fairness) defaults to this share of RS_CLEANUP_RATE. The
 * server's limit is a token bucket per task-queue partition holding about a
 * second's worth of tasks, so it bounds the sustained rate, not every second:
 * measured with three workers against a 15/s quota, a limit of 15/s still let
 * them offer up to 19 deletes in a second, throttled all through the run; 12/s
 * kept every second after the first two at or under 14, throttled (almost)
 * only in the start-up burst. docs/deployment.md has the numbers.
 */
export const TASK_QUEUE_RATE_SHARE = WORKER_DEFAULTS.taskQueueRateShare;

/**
 * RS_CLEANUP_FAIRNESS_KEY_RATE defaults to this share of RS_CLEANUP_RATE: the
 * server's per-key limit, across all workers. docs/performance.md measures it.
 */
export const FAIRNESS_KEY_RATE_SHARE = WORKER_DEFAULTS.fairnessKeyRateShare;

export const ENV_DEFAULTS = {
  // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TLS / API key settings (read by common/temporal-connection.ts).
  ...TEMPORAL_CONNECTION_ENV,
  TEMPORAL_TASK_QUEUE: WORKER_DEFAULTS.taskQueue,
  RS_CLEANUP_RATE: String(WORKER_DEFAULTS.deleteRate),
  RS_CLEANUP_POOL_RATE: String(WORKER_DEFAULTS.deletePoolRate),
  /** Per (account, Region) fairness key across all workers: `on` (default) or `off` (the queue-wide limit below). */
  RS_CLEANUP_FAIRNESS: 'on',
  /** '' = RS_CLEANUP_RATE x FAIRNESS_KEY_RATE_SHARE. */
  RS_CLEANUP_FAIRNESS_KEY_RATE: '',
  /** Without fairness; '' = RS_CLEANUP_RATE x TASK_QUEUE_RATE_SHARE. */
  RS_CLEANUP_TASK_QUEUE_RATE: '',
  RS_CLEANUP_READ_RATE: String(WORKER_DEFAULTS.readRate),
  RS_CLEANUP_POOL_READ_RATE: String(WORKER_DEFAULTS.readPoolRate),
  RS_CLEANUP_CLIENT_READ_RATE: String(WORKER_DEFAULTS.clientReadRate),
  RS_CLEANUP_POOL_CLIENT_READ_RATE: String(WORKER_DEFAULTS.clientReadPoolRate),
  /** Role to assume in each item's account, `{accountId}` standing for it; '' = the worker's own credentials. */
  RS_CLEANUP_ASSUME_ROLE_ARN: '',
  RS_CLEANUP_EXTERNAL_ID: '',
  RS_CLEANUP_AUDIT_DIR: WORKER_DEFAULTS.auditDir,
  RS_CLEANUP_MAX_CONCURRENT_ACTIVITIES: String(WORKER_DEFAULTS.maxConcurrentActivities),
  RS_CLEANUP_METRICS_PORT: '',
  RS_CLEANUP_METRICS_HOST: '0.0.0.0',
  TEMPORAL_METRICS_PORT: '',
  COGNITO_ENDPOINT: '',
  LOG_LEVEL: 'info',
  /** Chaos tests only: `activity=ms,...`, see activities/index.ts chaosDelaysMs. */
  RS_CLEANUP_CHAOS_SLOW_ACTIVITIES: '',
} as const;

export type EnvName = keyof typeof ENV_DEFAULTS;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `prepareInput=3000,recordOutcomes=3000`: the fault injection of the chaos tests. */
function chaosDelays(value: string): Pick<ActivityConfig, 'chaosDelaysMs'> {
  if (value === '') return {};
  const delays: NonNullable<ActivityConfig['chaosDelaysMs']> = {};
  for (const entry of value.split(',')) {
    const [name, ms] = entry.split('=').map((part) => part.trim());
    const delay = Number(ms);
    if (!(BOOKKEEPING_ACTIVITIES as readonly string[]).includes(name ?? '') || !Number.isInteger(delay) || delay < 0) {
      throw new ConfigError(
        `RS_CLEANUP_CHAOS_SLOW_ACTIVITIES must be activity=milliseconds pairs of ${BOOKKEEPING_ACTIVITIES.join(', ')}, got '${entry}'`,
      );
    }
    delays[name as BookkeepingActivity] = delay;
  }
  return { chaosDelaysMs: delays };
}

export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const get = (name: EnvName): string => env[name]?.trim() || ENV_DEFAULTS[name];
  const positive = (name: EnvName): number => {
    const value = Number(get(name));
    if (!Number.isFinite(value) || value <= 0) {
      throw new ConfigError(`${name} must be a positive number, got '${get(name)}'`);
    }
    return value;
  };
  const port = (name: EnvName): number | undefined => {
    if (get(name) === '') return undefined;
    const value = Number(get(name));
    if (!Number.isInteger(value) || value < 0 || value > 65_535) {
      throw new ConfigError(`${name} must be a port number (0 picks a free one), got '${get(name)}'`);
    }
    return value;
  };
  const endpoint = get('COGNITO_ENDPOINT');
  const rate = positive('RS_CLEANUP_RATE');
  const fairness = get('RS_CLEANUP_FAIRNESS');
  if (fairness !== 'on' && fairness !== 'off') throw new ConfigError(`RS_CLEANUP_FAIRNESS must be on or off, got '${fairness}'`);
  const assumeRoleArn = get('RS_CLEANUP_ASSUME_ROLE_ARN');
  const roleProblem = assumeRoleArn === '' ? undefined : validateRoleArnTemplate(assumeRoleArn);
  if (roleProblem) throw new ConfigError(`RS_CLEANUP_ASSUME_ROLE_ARN '${assumeRoleArn}' ${roleProblem}`);
  const externalId = get('RS_CLEANUP_EXTERNAL_ID');
  const metricsPort = port('RS_CLEANUP_METRICS_PORT');
  const temporalMetricsPort = port('TEMPORAL_METRICS_PORT');
  return {
    temporal: {
      address: get('TEMPORAL_ADDRESS'),
      namespace: get('TEMPORAL_NAMESPACE'),
      taskQueue: get('TEMPORAL_TASK_QUEUE'),
    },
    activities: {
      cognito: endpoint ? { endpoint } : {},
      deleteRates: { rate, poolRate: positive('RS_CLEANUP_POOL_RATE') },
      readRates: { rate: positive('RS_CLEANUP_READ_RATE'), poolRate: positive('RS_CLEANUP_POOL_READ_RATE') },
      clientReadRates: { rate: positive('RS_CLEANUP_CLIENT_READ_RATE'), poolRate: positive('RS_CLEANUP_POOL_CLIENT_READ_RATE') },
      ...(assumeRoleArn ? { roles: { assumeRoleArn, ...(externalId ? { externalId } : {}) } } : {}),
      auditDir: path.resolve(get('RS_CLEANUP_AUDIT_DIR')),
      ...chaosDelays(get('RS_CLEANUP_CHAOS_SLOW_ACTIVITIES')),
    },
    maxConcurrentActivities: positive('RS_CLEANUP_MAX_CONCURRENT_ACTIVITIES'),
    fairnessKeyRate:
      fairness === 'off'
        ? false
        : get('RS_CLEANUP_FAIRNESS_KEY_RATE') === ''
          ? rate * FAIRNESS_KEY_RATE_SHARE
          : positive('RS_CLEANUP_FAIRNESS_KEY_RATE'),
    deleteTaskQueueRate:
      get('RS_CLEANUP_TASK_QUEUE_RATE') === '' ? rate * TASK_QUEUE_RATE_SHARE : positive('RS_CLEANUP_TASK_QUEUE_RATE'),
    metrics: {
      host: get('RS_CLEANUP_METRICS_HOST'),
      ...(metricsPort !== undefined ? { port: metricsPort } : {}),
      ...(temporalMetricsPort !== undefined ? { temporalPort: temporalMetricsPort } : {}),
    },
    logLevel: get('LOG_LEVEL'),
  };
}
