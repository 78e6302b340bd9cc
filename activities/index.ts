/**
 * Builds the activities a worker registers, from their dependencies. Tests call
 * this with clients pointed at the emulator; the worker with its configuration.
 */
import { CognitoClients, type CognitoClientOptions } from '../cognito/clients';
import { CognitoRateLimiter, type RateSettings } from '../cognito/rate-limiter';
import { createDeleteResourceServer, type DeleteActivityObserver } from './delete-resource-server';
import { createCheckDependencies } from './check-dependencies';
import { createPrepareInput } from './prepare-input';
import { readPlanPage } from './read-plan-page';
import { recordOutcomes } from './record-outcomes';
import { recordRemainder } from './record-remainder';
import { writeManifest } from './write-manifest';
import { withChaosDelay, withLivenessHeartbeat } from './heartbeat';
import { WORKER_DEFAULTS } from '../common/options';
import type { BookkeepingActivity } from '../common/types';

export interface ActivityConfig {
  cognito: CognitoClientOptions;
  /** DeleteResourceServer limits of this worker (Cognito: 15/s per account, 5/s per pool). */
  deleteRates: RateSettings;
  /** DescribeResourceServer limits (Cognito: 20/s per account, 5/s per pool). */
  readRates: RateSettings;
  /** ListUserPoolClients and DescribeUserPoolClient limits (Cognito: 15/s per account, 5/s per pool); default those. */
  clientReadRates?: RateSettings;
  /** Where runs write their audit and manifest unless the run names a directory. */
  auditDir: string;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /**
   * Fault injection for chaos tests only (RS_CLEANUP_CHAOS_SLOW_ACTIVITIES): each
   * named bookkeeping activity waits this long (heartbeating) before its work,
   * so a test can kill the worker inside it. Never set in production.
   */
  chaosDelaysMs?: Partial<Record<BookkeepingActivity, number>>;
}


export interface ActivityDeps {
  clients: CognitoClients;
  deleteLimiter: CognitoRateLimiter;
  readLimiter: CognitoRateLimiter;
  clientReadLimiter: CognitoRateLimiter;
  /** Told about delete outcomes and throttled calls (the worker's metrics); optional. */
  observer?: DeleteActivityObserver;
}

export function createActivityDeps(config: ActivityConfig): ActivityDeps {
  return {
    clients: new CognitoClients(config.cognito),
    deleteLimiter: new CognitoRateLimiter(config.deleteRates),
    readLimiter: new CognitoRateLimiter(config.readRates),
    clientReadLimiter: new CognitoRateLimiter(
      config.clientReadRates ?? { rate: WORKER_DEFAULTS.clientReadRate, poolRate: WORKER_DEFAULTS.clientReadPoolRate },
    ),
  };
}

export async function closeActivityDeps(deps: ActivityDeps): Promise<void> {
  deps.clients.destroy();
  await deps.deleteLimiter.stop();
  await deps.readLimiter.stop();
  await deps.clientReadLimiter.stop();
}

export function createActivities(config: ActivityConfig, deps: ActivityDeps) {
  // The bookkeeping activities heartbeat while they run, so a dead worker is
  // noticed within the heartbeat timeout (workflows/cleanup.ts).
  const bookkeeping = <A extends unknown[], R>(name: BookkeepingActivity, fn: (...args: A) => Promise<R>) =>
    withLivenessHeartbeat(withChaosDelay(config.chaosDelaysMs?.[name], fn));
  return {
    prepareInput: bookkeeping('prepareInput', createPrepareInput(config.auditDir)),
    readPlanPage: bookkeeping('readPlanPage', readPlanPage),
    checkDependencies: bookkeeping(
      'checkDependencies',
      createCheckDependencies({
        clients: deps.clients,
        clientReadLimiter: deps.clientReadLimiter,
        retryBaseDelayMs: config.retryBaseDelayMs,
        retryMaxDelayMs: config.retryMaxDelayMs,
      }),
    ),
    deleteResourceServer: createDeleteResourceServer({
      ...deps,
      retryBaseDelayMs: config.retryBaseDelayMs,
      retryMaxDelayMs: config.retryMaxDelayMs,
    }),
    recordOutcomes: bookkeeping('recordOutcomes', recordOutcomes),
    // Heartbeats its own progress, page by page.
    recordRemainder: withChaosDelay(config.chaosDelaysMs?.recordRemainder, recordRemainder),
    writeManifest: bookkeeping('writeManifest', writeManifest),
  };
}

export type CleanupActivities = ReturnType<typeof createActivities>;
