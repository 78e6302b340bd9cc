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

/** What a run's limits may be set to (CLI flags, set-rate, the workflow's own check). */
export const LIMIT_BOUNDS = {
  /** One call every 100 s; slower is a typo (and a limiter's interval that long overflows a timer). */
  minRate: 0.01,
  /** Far above any Cognito quota; a higher number is a typo. */
  maxRate: 1_000,
  /** Delete activities in flight: far below Temporal's 2,000 pending activities per execution. */
  maxWindow: 500,
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
  /** Delete attempts per item on throttling and internal errors. */
  maxAttempts: 8,
  /** Finished items before --max-failure-percent is checked. */
  failurePercentMinItems: 20,
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
  /** The deletes queue's server-side rate limit, as a share of the delete rate (see worker/config.ts). */
  taskQueueRateShare: 0.8,
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
} as const;
