/**
 * The worker's configuration, read from the environment. Every variable is
 * listed here, with its default; a bad value stops the worker with a message
 * naming the variable.
 */
import path from 'node:path';
import type { ActivityConfig } from '../activities';

export interface WorkerConfig {
  temporal: { address: string; namespace: string; taskQueue: string };
  activities: ActivityConfig;
  /** Activity tasks this worker runs at once (deletes wait inside the rate limiter). */
  maxConcurrentActivities: number;
  logLevel: string;
}

export const ENV_DEFAULTS = {
  TEMPORAL_ADDRESS: 'localhost:7233',
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: 'rs-cleanup',
  RS_CLEANUP_RATE: '15',
  RS_CLEANUP_POOL_RATE: '5',
  RS_CLEANUP_READ_RATE: '20',
  RS_CLEANUP_POOL_READ_RATE: '5',
  RS_CLEANUP_AUDIT_DIR: 'data/audit',
  RS_CLEANUP_MAX_CONCURRENT_ACTIVITIES: '200',
  COGNITO_ENDPOINT: '',
  LOG_LEVEL: 'info',
} as const;

export type EnvName = keyof typeof ENV_DEFAULTS;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const get = (name: EnvName): string => env[name] ?? ENV_DEFAULTS[name];
  const positive = (name: EnvName): number => {
    const value = Number(get(name));
    if (!Number.isFinite(value) || value <= 0) {
      throw new ConfigError(`${name} must be a positive number, got '${get(name)}'`);
    }
    return value;
  };
  const endpoint = get('COGNITO_ENDPOINT');
  return {
    temporal: {
      address: get('TEMPORAL_ADDRESS'),
      namespace: get('TEMPORAL_NAMESPACE'),
      taskQueue: get('TEMPORAL_TASK_QUEUE'),
    },
    activities: {
      cognito: endpoint ? { endpoint } : {},
      deleteRates: { rate: positive('RS_CLEANUP_RATE'), poolRate: positive('RS_CLEANUP_POOL_RATE') },
      readRates: { rate: positive('RS_CLEANUP_READ_RATE'), poolRate: positive('RS_CLEANUP_POOL_READ_RATE') },
      auditDir: path.resolve(get('RS_CLEANUP_AUDIT_DIR')),
    },
    maxConcurrentActivities: positive('RS_CLEANUP_MAX_CONCURRENT_ACTIVITIES'),
    logLevel: get('LOG_LEVEL'),
  };
}
