/**
 * Builds the activities a worker registers, from their dependencies. Tests call
 * this with clients pointed at the emulator; the worker with its configuration.
 */
import { CognitoAccess, type LimiterKey } from '../cognito/access';
import type { CognitoClientOptions } from '../cognito/clients';
import type { AccountRoles } from '../cognito/credentials';
import type { LimiterOptions, LimiterStart, RateSettings } from '../cognito/rate-limiter';
import { createDeleteResourceServer, type DeleteActivityObserver } from './delete-resource-server';
import { createDeleteResourceServers } from './delete-resource-servers';
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
  /**
   * DeleteResourceServer budget of this worker for EACH account and Region
   * (Cognito: 15/s per account and Region, 5/s per pool), shared by its runs.
   */
  deleteRates: RateSettings;
  /** DescribeResourceServer budget (Cognito: 20/s per account and Region, 5/s per pool). */
  readRates: RateSettings;
  /** ListUserPoolClients and DescribeUserPoolClient budget (Cognito: 15/s per account and Region, 5/s per pool); default those. */
  clientReadRates?: RateSettings;
  /** The role to assume in each item's account, unless a run names its own (RS_CLEANUP_ASSUME_ROLE_ARN, RS_CLEANUP_EXTERNAL_ID). */
  roles?: AccountRoles;
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
  /** How long a pool listing serves backup reads (cognito/server-reader.ts, default 10 s); 0 = one DescribeResourceServer per item. */
  listingMaxAgeMs?: number;
}


export interface ActivityDeps {
  /** Every Cognito call goes through it: clients, credentials and limiters per (account, Region). */
  cognito: CognitoAccess;
  /** Told about delete outcomes and throttled calls (the worker's metrics); optional. */
  observer?: DeleteActivityObserver;
}

export interface ActivityHooks {
  /** Every call's start, as the limiter of its key recorded it (tests check the windows against these). */
  onStart?: (key: LimiterKey, start: LimiterStart) => void;
  /** Clock, guard and congestion settings of the limiters. */
  limiter?: Omit<LimiterOptions, 'onStart'>;
}

export function createActivityDeps(config: ActivityConfig, hooks: ActivityHooks = {}): ActivityDeps {
  return {
    cognito: new CognitoAccess({
      ...config.cognito,
      budgets: {
        UserPoolResourceUpdate: config.deleteRates,
        UserPoolResourceRead: config.readRates,
        UserPoolClientRead: config.clientReadRates ?? { rate: WORKER_DEFAULTS.clientReadRate, poolRate: WORKER_DEFAULTS.clientReadPoolRate },
        UserPoolRead: { rate: WORKER_DEFAULTS.userPoolReadRate, poolRate: WORKER_DEFAULTS.userPoolReadRate },
      },
      ...(config.roles ? { roles: config.roles } : {}),
      ...(config.listingMaxAgeMs !== undefined ? { listingMaxAgeMs: config.listingMaxAgeMs } : {}),
      ...(hooks.limiter ? { limiter: hooks.limiter } : {}),
      ...(hooks.onStart ? { onStart: hooks.onStart } : {}),
    }),
  };
}

export async function closeActivityDeps(deps: ActivityDeps): Promise<void> {
  deps.cognito.close();
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
        cognito: deps.cognito,
        retryBaseDelayMs: config.retryBaseDelayMs,
        retryMaxDelayMs: config.retryMaxDelayMs,
      }),
    ),
    deleteResourceServer: createDeleteResourceServer({
      ...deps,
      retryBaseDelayMs: config.retryBaseDelayMs,
      retryMaxDelayMs: config.retryMaxDelayMs,
    }),
    deleteResourceServers: createDeleteResourceServers({
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

/** The activities the deletes task queue serves: an item's own task and the task shared by several. */
export function deleteActivities({ deleteResourceServer, deleteResourceServers }: CleanupActivities) {
  return { deleteResourceServer, deleteResourceServers };
}
