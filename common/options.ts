/**
 * Every default of rs-cleanup, in one place: the workflow, the activities, the
 * worker's configuration and the CLI's help text all read them here, so they
 * cannot disagree. Pure constants: the workflow bundle imports this file.
 */
import type { InUsePolicy, Limits } from './types';

/** Cognito's published quotas (per account and Region; per user pool and operation). */
export const COGNITO_QUOTAS = {
  /** UserPoolResourceUpdate: CreateResourceServer, UpdateResourceServer, DeleteResourceServer. */
  resourceUpdatePerSecond: 15,
  /** UserPoolResourceRead: DescribeResourceServer, ListResourceServers. */
  resourceReadPerSecond: 20,
  /** UserPoolClientRead: ListUserPoolClients, DescribeUserPoolClient. */
  clientReadPerSecond: 15,
  /** Any one operation on one user pool. */
  perPoolPerOperationPerSecond: 5,
} as const;

/** A run's DeleteResourceServer limits and window, unless the operator sets them. */
export const DEFAULT_LIMITS: Limits = {
  rate: COGNITO_QUOTAS.resourceUpdatePerSecond,
  poolRate: COGNITO_QUOTAS.perPoolPerOperationPerSecond,
  window: 30,
};

/**
 * Items of one account and Region that share a delete activity task, at a
 * run's DeleteResourceServer rate. A task costs the Temporal server and the
 * worker about 10-15 ms of CPU whatever it does; up to ~40 tasks/s that is
 * cheap, and an item with a task of its own has the finest pause, retry and
 * server-side fairness, so at Cognito's quota (15/s) every item keeps its own.
 * Above it (many accounts' worth of rate, a raised quota, the emulator) items
 * share tasks, up to 25 per task, so the orchestration keeps up with the rate.
 */
export const SHARED_DELETE_TASKS = {
  /** Task starts per second that one task per item is kept for. */
  tasksPerSecond: 40,
  maxItemsPerTask: 25,
} as const;

export function itemsPerDeleteTask(rate: number): number {
  return Math.max(1, Math.min(SHARED_DELETE_TASKS.maxItemsPerTask, Math.floor(rate / SHARED_DELETE_TASKS.tasksPerSecond)));
}

/** What a run's limits may be set to (CLI flags, set-rate, the workflow's own check). */
export const LIMIT_BOUNDS = {
  /** One call every 100 s; slower is a typo (and a limiter's interval that long overflows a timer). */
  minRate: 0.01,
  /** Far above any Cognito quota; a higher number is a typo. */
  maxRate: 1_000,
  /** Delete activities in flight: far below Temporal's 2,000 pending activities per execution. */
  maxWindow: 500,
} as const;

/** What the other numbers of a run's input may be (the workflow checks them all before anything runs). */
export const INPUT_BOUNDS = {
  /**
   * A page's outcomes travel to recordOutcomes as one payload, which Temporal
   * caps at 2 MB: 10,000 results of ~230 bytes already exceed it.
   */
  maxPageSize: 1_000,
  /** Temporal warns at 10,240 events and stops a run at 51,200. */
  maxContinueAsNewAfterEvents: 40_000,
  maxHeartbeatTimeoutSeconds: 3_600,
  /** A week: longer is a typo for seconds or hours. */
  maxItemDeadlineMinutes: 7 * 24 * 60,
} as const;

/** What the CLI's other numeric and name options may be: anything else is refused before a run starts. */
export const OPTION_BOUNDS = {
  /** --max-attempts: with up to 30 s between attempts, 100 retry an item for about 50 minutes. */
  maxAttempts: 100,
  /** `list --limit`. */
  maxListLimit: 1_000,
  /** Workflow IDs, schedule IDs and task-queue names: Temporal's default limit. */
  maxNameLength: 1_000,
} as const;

/** How the CLI waits. */
export const CLI_DEFAULTS = {
  /** Connecting to TEMPORAL_ADDRESS: an address where nothing answers fails this soon, naming it. */
  temporalConnectTimeoutMs: 5_000,
  /** Resolving AWS credentials before an embedded run (the default chain may ask an instance metadata service). */
  credentialsTimeoutMs: 5_000,
  /** A dev server left by a dead CLI gets this long after SIGTERM before SIGKILL. */
  staleServerGraceMs: 10_000,
  /** How often `run` and `status --watch` read a run's progress. */
  progressPollMs: 1_000,
} as const;

/** How a run behaves, unless its input says otherwise. */
export const RUN_DEFAULTS = {
  inUse: 'skip' as InUsePolicy,
  /** Plan items read per page. */
  pageSize: 200,
  /** Continue-as-new once history has this many events (Temporal's hard limit is 51,200). */
  continueAsNewAfterEvents: 5_000,
  /** How soon a delete on a dead worker is retried elsewhere. */
  heartbeatTimeoutSeconds: 30,
  /**
   * How long one item may keep retrying throttling, internal and network errors,
   * counted from its first attempt; hard errors fail at once whatever is left.
   * A time, not an attempt count: a storm of throttling is outlasted, not lost.
   */
  itemDeadlineMinutes: 30,
  /** Finished items before --max-failure-percent is checked. */
  failurePercentMinItems: 20,
  /** Items of user pools that do not exist: refuse an execute run (default) unless told to skip them. */
  skipMissingPools: false,
} as const;

/**
 * Timeouts of the workflow's activities. A crashed worker costs at most a
 * heartbeat timeout for the long activities (they heartbeat well within it)
 * and a short start-to-close for the quick ones; then Temporal retries the
 * activity on another worker.
 */
export const ACTIVITY_TIMEOUTS = {
  /** Every bookkeeping activity (prepareInput, checkDependencies, readPlanPage, recordOutcomes, recordRemainder, writeManifest) heartbeats at least this often... */
  heartbeatEverySeconds: 5,
  /** ...and a worker that stops heartbeating for this long is presumed dead. */
  heartbeatTimeoutSeconds: 20,
  /** Bound on one attempt of a long activity (heartbeats catch a crash much sooner). */
  longStartToCloseMinutes: 120,
  /** readPlanPage and recordOutcomes: one page each. */
  shortStartToCloseSeconds: 60,
  /** One attempt of a delete, including its wait in the worker's limiter. */
  deleteStartToCloseMinutes: 5,
  /**
   * Heartbeats of a waiting delete reach the server at most this far apart,
   * so a cancel (pause) reaches it within about this long (the SDK otherwise
   * throttles heartbeats to 80% of the heartbeat timeout).
   */
  heartbeatThrottleSeconds: 1,
  /** Retries of the bookkeeping activities (each retry after a crash is one attempt). */
  bookkeepingRetryInitialSeconds: 1,
  bookkeepingRetryMaxSeconds: 30,
  bookkeepingMaxAttempts: 10,
  /** Retries of a delete: Temporal's backoff when the activity names no delay of its own. */
  deleteRetryInitialSeconds: 1,
  deleteRetryMaxSeconds: 30,
} as const;

/** The worker's settings, unless its environment says otherwise (worker/config.ts). */
export const WORKER_DEFAULTS = {
  taskQueue: 'rs-cleanup',
  auditDir: 'data/audit',
  maxConcurrentActivities: 200,
  deleteRate: COGNITO_QUOTAS.resourceUpdatePerSecond,
  deletePoolRate: COGNITO_QUOTAS.perPoolPerOperationPerSecond,
  readRate: COGNITO_QUOTAS.resourceReadPerSecond,
  readPoolRate: COGNITO_QUOTAS.perPoolPerOperationPerSecond,
  clientReadRate: COGNITO_QUOTAS.clientReadPerSecond,
  clientReadPoolRate: COGNITO_QUOTAS.perPoolPerOperationPerSecond,
  /** ListUserPools (discover --all-pools): UserPoolRead, a category rs-cleanup barely uses; kept modest. */
  userPoolReadRate: 5,
  /** Without fairness: the deletes queue's server-side rate limit, as a share of the delete rate (see worker/config.ts). */
  taskQueueRateShare: 0.8,
  /** With fairness: each (account, Region) key's server-side rate limit, as a share of the delete rate (see worker/config.ts). */
  fairnessKeyRateShare: 1,
} as const;

/** Calls to Cognito. */
export const COGNITO_CALL_DEFAULTS = {
  /** One request; a hung connection becomes a retryable error after this. */
  requestTimeoutMs: 10_000,
  connectionTimeoutMs: 5_000,
  /** Backoff between retries: exponential from the base, capped, with jitter. */
  retryBaseDelayMs: 1_000,
  retryMaxDelayMs: 30_000,
  /** Retries of one call inside a multi-call activity (dependency check, discover, restore). */
  callAttempts: 8,
  /** How long a pool's ListResourceServers listing serves backup reads (cognito/server-reader.ts explains the freshness). */
  listingMaxAgeMs: 10_000,
  /**
   * Servers all listings together may hold (about 0.5 KB each): twice what 10 s of listings bring at
   * Cognito's read quota (20 calls/s x 50 servers), so it bites only where reads are far faster.
   */
  listingMaxServers: 20_000,
} as const;
