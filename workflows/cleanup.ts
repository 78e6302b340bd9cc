/**
 * The cleanup workflow: deletes the resource servers listed in an input file,
 * a sliding window of rate-limited delete activities at a time.
 *
 * Patterns, and why:
 * - The input is checked whole before anything runs; a bad one fails the
 *   workflow (non-retryable), never a workflow task that retries for ever.
 * - The input never travels through history: an activity turns it into a plan
 *   file and the workflow reads it a page at a time (Temporal payloads are
 *   capped at 2 MB; a 100,000-row input is far larger).
 * - A sliding window keeps at most `limits.window` deletes pending, far below
 *   Temporal's 2,000 pending activities per execution.
 * - Continue-as-new at page boundaries, carrying only counters and the cursor,
 *   once history reaches a few thousand events (hard limit 51,200).
 * - Outcomes are recorded per page by an activity, so the manifest lists every
 *   item exactly once however often a delete activity ran; the items a stopped
 *   run never starts are recorded by another activity that streams the rest of
 *   the plan.
 * - Items that come back unfinished (cancelled by a pause, or refused because
 *   the audit cannot be written) are re-queued and run first after resume.
 * - Signals pause, resume and cancel; the pause update also holds the deletes
 *   already queued in the worker and returns once none is in flight; an update
 *   changes rate and window while running; a query reports progress.
 */
import {
  ActivityCancellationType,
  type ActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { CleanupActivities } from '../activities';
import type { EarlierAttempts } from '../activities/delete-resource-server';
import type { SharedTaskOutcome } from '../activities/delete-resource-servers';
import type { InputSource, PreparedInput } from '../activities/prepare-input';
import type { InputError } from '../common/input-reader';
import type { CleanupItem, InUsePolicy, ItemResult, Limits, MissingPool, OutcomeCounts, RunAccounts, RunContext, UnreachablePool } from '../common/types';
import { FAILURE_TYPES, accountOf, definedOnly, emptyCounts, fairnessKeyOf, poolKey, sharedTaskJournal } from '../common/types';
import { validateAccountId, validateRoleArnTemplate } from '../common/cognito-rules';
import { ACTIVITY_TIMEOUTS, DEFAULT_LIMITS, LIMIT_BOUNDS, RUN_DEFAULTS, itemsPerDeleteTask } from '../common/options';
import { inputProblems, limitsProblems } from './validate-input';

// ---------------------------------------------------------------------------
// Input, result and progress types
// ---------------------------------------------------------------------------

export interface FailureThreshold {
  /** Stop once this many items have failed. */
  count?: number;
  /** Stop once this percentage of finished items have failed (checked after `minItems`). */
  percent?: number;
  /** Items that must finish before `percent` is checked; default 20. */
  minItems?: number;
}

export interface CleanupInput {
  /**
   * The operator's input file, as the workers see it. A sha256 pins it (a run
   * started by hand); a schedule leaves it out so each run reads the file as it is.
   */
  source: InputSource;
  /** Only `true` deletes; otherwise a dry-run reports `would-delete`. */
  execute: boolean;
  limits?: Partial<Limits>;
  /** Where the audit and manifest go; the worker's AUDIT_DIR when absent. */
  auditDir?: string;
  /** Run the valid rows even when some are invalid (default: refuse to start). */
  skipInvalidRows?: boolean;
  /** Servers whose scopes app clients use: skip them (default), delete them anyway, or refuse the run. */
  inUse?: InUsePolicy;
  /** Protection patterns (common/protection.ts): matching items are never deleted. */
  protect?: string[];
  /** Refuse to start when more servers than this would be deleted. */
  maxDeletes?: number;
  /** After each delete, read the server again and expect it gone. */
  verify?: boolean;
  /** The account of items whose input names none, and the role to assume in each item's account. */
  accounts?: RunAccounts;
  failureThreshold?: FailureThreshold;
  /**
   * Items of user pools that do not exist: an execute run refuses to start
   * unless this is true; then (and in a dry-run) they end `pool-not-found`
   * without any call. Default false.
   */
  skipMissingPools?: boolean;
  /** How long one item may keep retrying throttling, internal and network errors; default 30 minutes. */
  itemDeadlineMinutes?: number;
  /** An optional cap on delete attempts per item; none by default (the deadline bounds retries). */
  maxAttempts?: number;
  /** Plan items read per page; default 200. */
  pageSize?: number;
  /** Continue-as-new once history has this many events; default 5,000. */
  continueAsNewAfterEvents?: number;
  /** How soon a delete on a dead worker is retried elsewhere; default 30 s. */
  heartbeatTimeoutSeconds?: number;
  /**
   * Task queue of the delete activities; default `<this workflow's task queue>-deletes`.
   * Its own queue so the server's task-queue rate limit (one account-wide limit
   * across all workers) applies to deletes and not to the bookkeeping activities.
   */
  deleteTaskQueue?: string;
  /** Set by the workflow itself when it continues as new. */
  carried?: CarriedState;
}

/**
 * All that crosses a continue-as-new: counters and the cursor, never items.
 * Re-queued items never need to cross: the workflow continues as new only
 * once they have all finished (after a resume), see `drain`.
 */
export interface CarriedState {
  prepared: PreparedRun;
  cursor: { offset: number; pageIndex: number };
  counts: OutcomeCounts;
  limits: Limits;
  paused: boolean;
  pauseReason?: string;
  startedAt: number;
  generation: number;
}

/** The prepared input after the dependency check: the plan to run and what the checks found. */
export type PreparedRun = PreparedInput & {
  inUse: number;
  inUseReport?: string;
  missingPools?: MissingPool[];
  /** Pools whose account could not be reached (its role could not be assumed): their items fail without a call. */
  unreachablePools?: UnreachablePool[];
};

export type CleanupStatus = 'completed' | 'cancelled' | 'stopped' | 'invalid-input' | 'refused';

/** The job options of a run, as summary.json keeps them (for `report`, and for `redrive` to reuse). */
export interface RunOptionsRecord {
  execute: boolean;
  inUse: InUsePolicy;
  /** The limits the run started with (`limits` of the summary are the ones in force at the end). */
  limits: Limits;
  protect: string[];
  verify: boolean;
  skipMissingPools: boolean;
  skipInvalidRows: boolean;
  maxDeletes?: number;
  failureThreshold?: FailureThreshold;
  itemDeadlineMinutes: number;
  maxAttempts?: number;
  pageSize: number;
  /** --account, --assume-role-arn, --external-id. */
  accounts?: RunAccounts;
}

export interface CleanupSummary {
  status: CleanupStatus;
  workflowId: string;
  execute: boolean;
  total: number;
  counts: OutcomeCounts;
  duplicates: number;
  invalid: number;
  invalidSample?: InputError[];
  invalidReport?: string;
  /** Items matched by a protection pattern, and items whose scopes app clients use. */
  protectedCount: number;
  inUse: number;
  inUseReport?: string;
  /** User pools that do not exist as asked, with their item counts (their items end `pool-not-found`). */
  missingPools?: MissingPool[];
  /** Why the run stopped early or was refused. */
  stopReason?: string;
  /** Plan items with no recorded outcome; always 0 unless something is badly wrong. */
  missing: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  runDir: string;
  auditFile?: string;
  manifestDir?: string;
  summaryFile?: string;
  limits: Limits;
  options?: RunOptionsRecord;
  generations: number;
}

export type CleanupPhase = 'preparing' | 'running' | 'paused' | 'draining' | 'writing-manifest' | 'done';

export interface CleanupProgress {
  phase: CleanupPhase;
  execute: boolean;
  total: number;
  done: number;
  counts: OutcomeCounts;
  inFlight: number;
  /** Items that came back unfinished (a pause, an unwritable audit) and run again after resume. */
  requeued: number;
  /** Items finished per second over the last 10 seconds. */
  ratePerSecond: number;
  limits: Limits;
  paused: boolean;
  /** Why the run is paused: the operator's words, or the run's own (the audit cannot be written). */
  pauseReason?: string;
  /** Known once the dependency check is done, before any delete. */
  missingPools?: MissingPool[];
  stopReason?: string;
  generation: number;
  historyLength: number;
  startedAt: string;
}

export interface PauseRequest {
  /** Shown by `status` while paused. */
  reason?: string;
}

export interface LimitsUpdate {
  rate?: number;
  poolRate?: number;
  window?: number;
}

// ---------------------------------------------------------------------------
// Signals, queries and updates (the CLI imports these very definitions)
// ---------------------------------------------------------------------------

export const progressQuery = defineQuery<CleanupProgress>('progress');
/** Stops starting items; deletes in flight finish. The pause update holds more. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal<[reason?: string]>('cancel');
export const setLimitsUpdate = defineUpdate<Limits, [LimitsUpdate]>('setLimits');
/**
 * Pauses and holds: cancels the deletes that have not sent their
 * DeleteResourceServer yet (they run again after resume), waits for the ones
 * that have, and returns the progress once nothing is in flight. After it
 * returns, no delete starts until `resume`.
 */
export const pauseUpdate = defineUpdate<CleanupProgress, [PauseRequest]>('pause');

/** Far below Temporal's 2,000 pending activities per execution. */
export const MAX_WINDOW = LIMIT_BOUNDS.maxWindow;

// ---------------------------------------------------------------------------
// Small pure helpers
// ---------------------------------------------------------------------------

/** The setLimits update's validator: a refused update changes nothing. */
export function validateLimitsUpdate(update: LimitsUpdate): void {
  const problems = limitsProblems(update);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
}

function thresholdReached(t: FailureThreshold | undefined, counts: OutcomeCounts, done: number): string | undefined {
  if (!t) return undefined;
  if (t.count !== undefined && counts.failed >= t.count) {
    return `failure threshold reached: ${counts.failed} items failed (limit ${t.count})`;
  }
  if (t.percent !== undefined && done >= (t.minItems ?? RUN_DEFAULTS.failurePercentMinItems) && (counts.failed / done) * 100 >= t.percent) {
    const pct = ((counts.failed / done) * 100).toFixed(1);
    return `failure threshold reached: ${counts.failed} of ${done} finished items failed (${pct}%, limit ${t.percent}%)`;
  }
  return undefined;
}

function causeOf(err: unknown): unknown {
  return err instanceof ActivityFailure && err.cause ? err.cause : err;
}

function failedResult(item: CleanupItem, err: unknown, at: number): ItemResult {
  const cause = causeOf(err);
  const code = cause instanceof ApplicationFailure && cause.type ? cause.type : (cause as Error)?.name ?? 'Error';
  return {
    ...itemFields(item),
    outcome: 'failed',
    attempts: 0,
    reason: 'the delete activity failed',
    errorCode: code,
    errorMessage: String((cause as Error)?.message ?? cause),
    finishedAt: new Date(at).toISOString(),
  };
}

function itemFields(item: CleanupItem) {
  return {
    userPoolId: item.userPoolId,
    identifier: item.identifier,
    ...(item.accountId ? { accountId: item.accountId } : {}),
    row: item.row,
    ...(item.extra ? { extra: item.extra } : {}),
  };
}

/** Problems of the run's accounts settings (the CLI checks them too; a schedule or a client may not). */
function accountsProblems(accounts: RunAccounts | undefined): string[] {
  if (accounts === undefined) return [];
  if (typeof accounts !== 'object' || accounts === null) return ['accounts must be an object'];
  const problems: string[] = [];
  const { defaultAccountId, assumeRoleArn, externalId } = accounts;
  if (defaultAccountId !== undefined) {
    const problem = typeof defaultAccountId === 'string' ? validateAccountId(defaultAccountId) : 'is not a string';
    if (problem) problems.push(`accounts.defaultAccountId ${problem}`);
  }
  if (assumeRoleArn !== undefined) {
    const problem = typeof assumeRoleArn === 'string' ? validateRoleArnTemplate(assumeRoleArn) : 'is not a string';
    if (problem) problems.push(`accounts.assumeRoleArn ${problem}`);
  }
  if (externalId !== undefined && (typeof externalId !== 'string' || !/^[\w+=,.@:/-]{2,1224}$/.test(externalId))) {
    problems.push('accounts.externalId must be 2 to 1224 characters of letters, digits and +=,.@:/-');
  }
  return problems;
}

function cancelledResult(item: CleanupItem, reason: string, at: number): ItemResult {
  return { ...itemFields(item), outcome: 'cancelled', attempts: 0, reason, finishedAt: new Date(at).toISOString() };
}

/**
 * Items that are never sent to Cognito: protected ones, ones of missing pools,
 * ones whose account cannot be reached, and ones in use when the policy is skip.
 */
function skippedResult(
  item: CleanupItem,
  inUse: InUsePolicy,
  missingPools: ReadonlySet<string>,
  unreachablePools: ReadonlyMap<string, UnreachablePool>,
  at: number,
): ItemResult | undefined {
  const finishedAt = new Date(at).toISOString();
  if (item.protectedBy) {
    return { ...itemFields(item), outcome: 'skipped-protected', attempts: 0, reason: `protected by '${item.protectedBy}'`, finishedAt };
  }
  const unreachable = unreachablePools.get(poolKey(item.userPoolId, item.accountId));
  if (unreachable) {
    const reason = `account ${unreachable.accountId} could not be reached (found by the dependency check); nothing was sent`;
    return { ...itemFields(item), outcome: 'failed', attempts: 0, reason, errorCode: unreachable.errorCode, errorMessage: unreachable.errorMessage, finishedAt };
  }
  if (missingPools.has(poolKey(item.userPoolId, item.accountId))) {
    const reason = `user pool ${item.userPoolId} does not exist (found by the dependency check: wrong Region, wrong account or a typo)`;
    return { ...itemFields(item), outcome: 'pool-not-found', attempts: 0, reason, finishedAt };
  }
  if (item.inUseBy && inUse === 'skip') {
    return { ...itemFields(item), outcome: 'skipped-in-use', attempts: 0, reason: `used by app clients: ${item.inUseBy.join(', ')}`, finishedAt };
  }
  return undefined;
}

/** The run's files cannot be written (the activities say AuditUnavailable). */
function isAuditUnavailable(err: unknown): boolean {
  const cause = causeOf(err);
  return cause instanceof ApplicationFailure && cause.type === FAILURE_TYPES.auditUnavailable;
}

function optionsRecord(input: CleanupInput, limits: Limits): RunOptionsRecord {
  return {
    execute: input.execute,
    inUse: input.inUse ?? RUN_DEFAULTS.inUse,
    limits,
    protect: input.protect ?? [],
    verify: input.verify === true,
    skipMissingPools: input.skipMissingPools ?? RUN_DEFAULTS.skipMissingPools,
    skipInvalidRows: input.skipInvalidRows === true,
    ...(input.maxDeletes !== undefined ? { maxDeletes: input.maxDeletes } : {}),
    ...(input.failureThreshold ? { failureThreshold: input.failureThreshold } : {}),
    itemDeadlineMinutes: input.itemDeadlineMinutes ?? RUN_DEFAULTS.itemDeadlineMinutes,
    ...(input.maxAttempts !== undefined ? { maxAttempts: input.maxAttempts } : {}),
    pageSize: input.pageSize ?? RUN_DEFAULTS.pageSize,
    ...(input.accounts ? { accounts: input.accounts } : {}),
  };
}

function describeMissingPools(pools: MissingPool[]): string {
  return pools.map((p) => `${p.userPoolId} (${p.items} item${p.items === 1 ? '' : 's'})`).join(', ');
}

// ---------------------------------------------------------------------------
// The workflow
// ---------------------------------------------------------------------------

interface PageState {
  index: number;
  results: ItemResult[];
  remaining: number;
}

/** One plan item on its way: where its result goes. */
interface Slot {
  page: PageState;
  position: number;
  item: CleanupItem;
  /** Its first attempts ran in a shared delete task: what they left for its retry in a task of its own. */
  earlier?: EarlierAttempts;
  /** How long its retry waits, as its last error asked. */
  delayMs?: number;
}

/**
 * Deletes (or, in a dry-run, checks) every resource server of the input.
 * Keeps up to `limits.window` items in flight; continues as new at page
 * boundaries to bound history; writes the manifest when it ends.
 */
export async function cleanupWorkflow(input: CleanupInput): Promise<CleanupSummary> {
  const problems = [...inputProblems(input), ...accountsProblems(input.accounts)];
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(`invalid run input: ${problems.join('; ')}`, FAILURE_TYPES.invalidRunInput);
  }
  const info = workflowInfo();
  const runContext = (runDir: string): RunContext => ({
    workflowId: info.workflowId,
    runId: info.runId,
    runDir,
    execute: input.execute,
    ...(input.accounts ? { accounts: input.accounts } : {}),
  });
  const pageSize = input.pageSize ?? RUN_DEFAULTS.pageSize;
  const maxEvents = input.continueAsNewAfterEvents ?? RUN_DEFAULTS.continueAsNewAfterEvents;

  // Long bookkeeping activities heartbeat (activities/heartbeat.ts): a dead
  // worker costs a heartbeat timeout, not the start-to-close timeout.
  const bookkeepingRetry = {
    initialInterval: ACTIVITY_TIMEOUTS.bookkeepingRetryInitialSeconds * 1_000,
    maximumInterval: ACTIVITY_TIMEOUTS.bookkeepingRetryMaxSeconds * 1_000,
    maximumAttempts: ACTIVITY_TIMEOUTS.bookkeepingMaxAttempts,
    nonRetryableErrorTypes: [FAILURE_TYPES.auditUnavailable],
  };
  const { prepareInput, checkDependencies, recordRemainder, writeManifest } = proxyActivities<CleanupActivities>({
    startToCloseTimeout: `${ACTIVITY_TIMEOUTS.longStartToCloseMinutes} minutes`,
    heartbeatTimeout: `${ACTIVITY_TIMEOUTS.heartbeatTimeoutSeconds} seconds`,
    retry: bookkeepingRetry,
  });
  const { readPlanPage, recordOutcomes } = proxyActivities<CleanupActivities>({
    startToCloseTimeout: `${ACTIVITY_TIMEOUTS.shortStartToCloseSeconds} seconds`,
    // Short, but a dead worker is still noticed sooner by its missing heartbeats.
    heartbeatTimeout: `${ACTIVITY_TIMEOUTS.heartbeatTimeoutSeconds} seconds`,
    retry: bookkeepingRetry,
  });
  const deleteOptions: ActivityOptions = {
    // Replay does not compare an activity's task queue, so histories recorded before the split still replay.
    taskQueue: input.deleteTaskQueue ?? `${info.taskQueue}-deletes`,
    // One attempt, including its wait in the worker's limiter; heartbeats catch a dead worker sooner.
    startToCloseTimeout: `${ACTIVITY_TIMEOUTS.deleteStartToCloseMinutes} minutes`,
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? RUN_DEFAULTS.heartbeatTimeoutSeconds} seconds`,
    // A cancelled delete (the pause update) reports back before the workflow goes on:
    // one that did send its DeleteResourceServer still says `deleted`.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: `${ACTIVITY_TIMEOUTS.deleteRetryInitialSeconds} seconds`,
      backoffCoefficient: 2,
      maximumInterval: `${ACTIVITY_TIMEOUTS.deleteRetryMaxSeconds} seconds`,
      // No cap by default (unset = unlimited): the activity ends an item once its deadline would pass.
      ...(input.maxAttempts !== undefined ? { maximumAttempts: input.maxAttempts } : {}),
      // The activity returns hard failures as `failed` results; these are belt and braces.
      nonRetryableErrorTypes: ['LimitExceededException', 'InputChangedError', FAILURE_TYPES.auditUnavailable],
    },
  };
  // One proxy per fairness key (account and Region): the deletes queue limits each key across all workers.
  const deleteProxies = new Map<string, Pick<CleanupActivities, 'deleteResourceServer' | 'deleteResourceServers'>>();
  const deletesFor = (fairnessKey: string) => {
    let proxy = deleteProxies.get(fairnessKey);
    if (!proxy) {
      proxy = proxyActivities<CleanupActivities>({ ...deleteOptions, priority: { fairnessKey } });
      deleteProxies.set(fairnessKey, proxy);
    }
    return proxy;
  };
  // The item's account, or the run's --account: the account its calls go to.
  const fairnessKeyOfItem = (item: CleanupItem) => fairnessKeyOf(item.userPoolId, accountOf(item, input.accounts));

  const carried = input.carried;
  const initialLimits: Limits = { ...DEFAULT_LIMITS, ...input.limits };
  let limits: Limits = carried?.limits ?? initialLimits;
  const counts = carried?.counts ?? emptyCounts();
  let done = Object.values(counts).reduce((a, b) => a + b, 0);
  let paused = carried?.paused ?? false;
  let pauseReason = carried?.pauseReason;
  let stopReason: string | undefined;
  let phase: CleanupPhase = carried ? 'running' : 'preparing';
  let inFlight = 0;
  let recordsInFlight = 0;
  let fatal: unknown;
  const startedAt = carried?.startedAt ?? Date.now();
  const generation = (carried?.generation ?? 0) + 1;
  const recentFinishes: number[] = [];
  let prepared: PreparedRun | undefined = carried?.prepared;
  const inUsePolicy: InUsePolicy = input.inUse ?? RUN_DEFAULTS.inUse;
  const requeued: Slot[] = [];
  const deleteScopes = new Set<CancellationScope>();

  const progress = (): CleanupProgress => {
    const now = Date.now();
    const windowStart = Math.max(startedAt, now - 10_000);
    const recent = recentFinishes.filter((t) => t >= windowStart).length;
    return {
      phase: paused && phase === 'running' ? 'paused' : phase,
      execute: input.execute,
      total: prepared?.total ?? 0,
      done,
      counts: { ...counts },
      inFlight,
      requeued: requeued.length,
      ratePerSecond: now > windowStart ? Math.round((recent / ((now - windowStart) / 1000)) * 10) / 10 : 0,
      limits,
      paused,
      ...(pauseReason ? { pauseReason } : {}),
      ...(prepared?.missingPools?.length ? { missingPools: prepared.missingPools } : {}),
      ...(stopReason ? { stopReason } : {}),
      generation,
      historyLength: workflowInfo().historyLength,
      startedAt: new Date(startedAt).toISOString(),
    };
  };
  const pause = (reason: string | undefined) => {
    paused = true;
    pauseReason = reason ?? pauseReason ?? 'paused by the operator';
  };
  setHandler(progressQuery, progress);
  setHandler(pauseSignal, () => pause(undefined));
  setHandler(pauseUpdate, async (request: PauseRequest) => {
    pause(request?.reason);
    // Deletes still waiting (in the worker's limiter, or between retries) stop
    // and come back re-queued; a delete already sent finishes and reports.
    for (const scope of deleteScopes) scope.cancel();
    await condition(() => inFlight === 0);
    return progress();
  });
  setHandler(resumeSignal, () => {
    paused = false;
    pauseReason = undefined;
  });
  setHandler(cancelSignal, (reason?: string) => void (stopReason ??= `cancelled: ${reason ?? 'by the operator'}`));
  setHandler(
    setLimitsUpdate,
    (update) => {
      limits = { ...limits, ...definedOnly(update) };
      return limits;
    },
    { validator: validateLimitsUpdate },
  );

  /** Runs a write of the run's files; while the disk refuses it, the run pauses itself and tries again after resume. */
  const untilWritten = async <T>(write: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (!isAuditUnavailable(err)) throw err;
        pause(`the run's audit cannot be written (${String((causeOf(err) as Error).message)}); free space and resume`);
        await condition(() => !paused);
      }
    }
  };

  /** Ends a run that started no item (refused after preparation): every item recorded, then the manifest. */
  const finish = async (plan: PreparedRun, status: CleanupStatus, from: { offset: number; pageIndex: number }): Promise<CleanupSummary> => {
    const run: RunContext = runContext(plan.runDir);
    if (stopReason) {
      const reason = stopReason;
      const missingPools = (plan.missingPools ?? []).map((p) => p.userPoolId);
      await untilWritten(() =>
        recordRemainder({ run, plan: plan.plan, offset: from.offset, pageIndex: from.pageIndex, pageSize, reason, missingPools }),
      );
    }
    phase = 'writing-manifest';
    const finishedAt = Date.now();
    const summaryBase = {
      workflowId: info.workflowId,
      firstRunId: info.firstExecutionRunId,
      lastRunId: info.runId,
      execute: input.execute,
      duplicates: plan.duplicates,
      invalid: plan.invalid,
      protectedCount: plan.protectedCount,
      inUse: plan.inUse,
      ...(plan.inUseReport ? { inUseReport: plan.inUseReport } : {}),
      ...(plan.missingPools?.length ? { missingPools: plan.missingPools } : {}),
      limits,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
      generations: generation,
    };
    const options = optionsRecord(input, initialLimits);
    const manifest = await untilWritten(() =>
      writeManifest({ runDir: plan.runDir, plan: plan.plan, ...(stopReason ? { stopReason } : {}), summary: summaryBase, options: { ...options } }),
    );
    phase = 'done';
    await condition(allHandlersFinished);
    return {
      ...summaryBase,
      status,
      total: manifest.total,
      counts: manifest.counts,
      missing: manifest.missing,
      ...(stopReason ? { stopReason } : {}),
      runDir: plan.runDir,
      auditFile: manifest.auditFile,
      manifestDir: manifest.manifestDir,
      summaryFile: manifest.summaryFile,
      options,
    };
  };

  if (!prepared) {
    const parsed = await prepareInput({
      workflowId: info.workflowId,
      firstRunId: info.firstExecutionRunId,
      source: input.source,
      ...(input.auditDir ? { auditDir: input.auditDir } : {}),
      ...(input.protect ? { protect: input.protect } : {}),
    });
    if (parsed.invalid > 0 && !input.skipInvalidRows) {
      const finishedAt = Date.now();
      phase = 'done';
      return {
        status: 'invalid-input',
        workflowId: info.workflowId,
        execute: input.execute,
        total: parsed.total,
        counts,
        duplicates: parsed.duplicates,
        invalid: parsed.invalid,
        invalidSample: parsed.invalidSample,
        ...(parsed.invalidReport ? { invalidReport: parsed.invalidReport } : {}),
        protectedCount: parsed.protectedCount,
        inUse: 0,
        missing: 0,
        startedAt: new Date(startedAt).toISOString(),
        finishedAt: new Date(finishedAt).toISOString(),
        durationMs: finishedAt - startedAt,
        runDir: parsed.runDir,
        limits,
        options: optionsRecord(input, initialLimits),
        generations: generation,
      };
    }
    // Before any delete: who still uses the scopes of the servers to delete, and which pools do not exist?
    const checkRun: RunContext = runContext(parsed.runDir);
    const check = await checkDependencies({ run: checkRun, plan: parsed.plan });
    prepared = {
      ...parsed,
      plan: check.plan,
      inUse: check.inUse,
      ...(check.report ? { inUseReport: check.report } : {}),
      missingPools: check.missingPools,
      // Results recorded before accounts existed have no such list.
      ...(check.unreachablePools?.length ? { unreachablePools: check.unreachablePools } : {}),
    };
    if (input.execute && check.missingPools.length > 0 && !(input.skipMissingPools ?? RUN_DEFAULTS.skipMissingPools)) {
      stopReason =
        `refused: ${check.missingPools.length} user pool(s) do not exist as asked (wrong Region, wrong account or a typo): ` +
        `${describeMissingPools(check.missingPools)}; nothing was deleted. Fix the input, or pass --skip-missing-pools to run the rest`;
      return await finish(prepared, 'refused', { offset: 0, pageIndex: 0 });
    }
    if (inUsePolicy === 'fail' && check.inUse > 0) {
      const first = check.sample[0]!;
      stopReason = `refused: ${check.inUse} resource servers are used by app clients (first: ${first.identifier} in ${first.userPoolId}, used by ${first.clients.join(', ')}); see ${check.report}`;
      return await finish(prepared, 'refused', { offset: 0, pageIndex: 0 });
    }
    const missingItems = check.missingPools.reduce((n, p) => n + p.items, 0);
    const toDelete = prepared.total - prepared.protectedCount - missingItems - (inUsePolicy === 'skip' ? check.inUse : 0);
    if (input.maxDeletes !== undefined && toDelete > input.maxDeletes) {
      stopReason = `refused: the run would delete ${toDelete} resource servers, more than the limit of ${input.maxDeletes} (--max-deletes)`;
      return await finish(prepared, 'refused', { offset: 0, pageIndex: 0 });
    }
  }
  const plan = prepared;
  const missingPoolIds = new Set((plan.missingPools ?? []).map((p) => poolKey(p.userPoolId, p.accountId)));
  const unreachablePools = new Map((plan.unreachablePools ?? []).map((p) => [poolKey(p.userPoolId, p.accountId), p]));
  const run: RunContext = runContext(plan.runDir);
  phase = 'running';
  // Runs started before shared delete tasks existed replay with a task per item.
  const sharing = patched('shared-delete-tasks');

  const recordPage = (page: PageState) => {
    recordsInFlight += 1;
    untilWritten(() => recordOutcomes({ run, pageIndex: page.index, results: page.results }))
      .catch((err) => void (fatal ??= err))
      .finally(() => void (recordsInFlight -= 1));
  };
  const finishItem = ({ page, position }: Slot, result: ItemResult) => {
    page.results[position] = result;
    counts[result.outcome] += 1;
    done += 1;
    if (result.attempts > 0) recentFinishes.push(Date.now()); // the rate counts calls to Cognito only
    if (recentFinishes.length > 1_000) recentFinishes.splice(0, recentFinishes.length - 1_000);
    stopReason ??= thresholdReached(input.failureThreshold, counts, done);
    page.remaining -= 1;
    if (page.remaining === 0) recordPage(page);
  };
  const deleteRequest = () => ({
    run,
    rates: { rate: limits.rate, poolRate: limits.poolRate },
    verify: input.verify === true,
    deadlineMs: (input.itemDeadlineMinutes ?? RUN_DEFAULTS.itemDeadlineMinutes) * 60_000,
    ...(input.maxAttempts !== undefined ? { maxAttempts: input.maxAttempts } : {}),
  });
  /** Held by a pause, or by an audit that cannot be written: runs again after resume, at once. */
  const hold = (slot: Slot, auditUnavailable: string | undefined) => {
    // Nothing was deleted for it: with an unwritable audit, hold the run until the audit can be written again.
    if (auditUnavailable) pause(`the run's audit cannot be written (${auditUnavailable}); free space and resume`);
    requeued.push({ ...slot, delayMs: undefined });
  };
  /** The item's delete task failed as a whole: held (a pause, an unwritable audit), or failed. */
  const taskFailed = (slot: Slot, err: unknown) => {
    if (isAuditUnavailable(err)) hold(slot, String((causeOf(err) as Error).message));
    else if (isCancellation(err)) hold(slot, undefined);
    else finishItem(slot, failedResult(slot.item, err, Date.now()));
  };
  /** An item in a delete task of its own (its retries are Temporal's, each in the history). */
  const launch = (slot: Slot) => {
    inFlight += 1;
    const scope = new CancellationScope();
    deleteScopes.add(scope);
    const request = { ...deleteRequest(), item: slot.item, ...(slot.earlier ? { earlier: slot.earlier } : {}) };
    scope
      .run(async () => {
        if (slot.delayMs) await sleep(slot.delayMs);
        return await deletesFor(fairnessKeyOfItem(slot.item)).deleteResourceServer(request);
      })
      .then(
        (result) => finishItem(slot, result),
        (err) => taskFailed(slot, err),
      )
      .finally(() => {
        inFlight -= 1;
        deleteScopes.delete(scope);
      });
  };
  /** Items of one account and Region in one shared task (activities/delete-resource-servers.ts); each one's retry gets a task of its own. */
  const launchShared = (slots: Slot[]) => {
    inFlight += slots.length;
    const scope = new CancellationScope();
    deleteScopes.add(scope);
    const journal = sharedTaskJournal(info.runId, ++sharedTasks);
    const launchedAt = Date.now();
    const request = { ...deleteRequest(), items: slots.map((slot) => slot.item), journal };
    const settle = (slot: Slot, outcome: SharedTaskOutcome) => {
      if (outcome.kind === 'done') finishItem(slot, outcome.result);
      else if (outcome.kind === 'held' || paused) hold({ ...slot, earlier: outcome.earlier }, outcome.kind === 'held' ? outcome.auditUnavailable : undefined);
      // As an item in a task of its own keeps retrying after the run is told to stop: its Delete may have applied.
      else launch({ ...slot, earlier: outcome.earlier, delayMs: outcome.delayMs });
    };
    scope
      .run(() => deletesFor(fairnessKeyOfItem(slots[0]!.item)).deleteResourceServers(request))
      .then(
        (outcomes) => slots.forEach((slot, i) => settle(slot, outcomes[i]!)),
        (err) => {
          // Whatever the task got to is in its journal: each item's next try (or its failure) goes on from there.
          const earlier: EarlierAttempts = { attempts: 1, firstAttemptAt: launchedAt, intent: false, journal };
          for (const slot of slots) taskFailed({ ...slot, earlier }, err);
        },
      )
      .finally(() => {
        inFlight -= slots.length;
        deleteScopes.delete(scope);
      });
  };
  // Items waiting for their shared task to fill, by fairness key; they count in the window.
  const gathering = new Map<string, Slot[]>();
  let gathered = 0;
  let sharedTasks = 0;
  /** Gathered items go now: to their tasks, or back to the queue while paused, or to `cancelled` once the run stops. */
  const releaseGathered = () => {
    for (const slots of gathering.values()) {
      if (stopReason) for (const slot of slots) finishItem(slot, cancelledResult(slot.item, stopReason, Date.now()));
      else if (paused) requeued.push(...slots);
      else launchShared(slots);
    }
    gathering.clear();
    gathered = 0;
  };
  /** Starts an item: in a task of its own at Cognito's rates, else with others of its account and Region. */
  const start = (slot: Slot) => {
    const perTask = sharing ? itemsPerDeleteTask(limits.rate) : 1;
    if (perTask === 1) return launch(slot);
    const key = fairnessKeyOfItem(slot.item);
    const slots = gathering.get(key) ?? [];
    slots.push(slot);
    gathering.set(key, slots);
    gathered += 1;
    if (slots.length >= perTask) {
      gathering.delete(key);
      gathered -= slots.length;
      launchShared(slots);
    }
  };
  /** Waits for room in the window, giving it first to re-queued items; false when the run stops. */
  const nextSlotFree = async (): Promise<void> => {
    for (;;) {
      // A full window starts what is gathered, rather than wait with it.
      if (inFlight + gathered >= limits.window || paused || stopReason) releaseGathered();
      await condition(() => fatal !== undefined || stopReason !== undefined || (!paused && inFlight + gathered < limits.window));
      if (fatal) throw fatal;
      if (stopReason || requeued.length === 0) return;
      launch(requeued.shift()!);
    }
  };
  /** Until every started item has finished (re-queued ones included) and every page is recorded. */
  const drain = async () => {
    releaseGathered();
    for (;;) {
      await condition(
        () =>
          fatal !== undefined ||
          (requeued.length > 0 && (stopReason !== undefined || (!paused && inFlight < limits.window))) ||
          (requeued.length === 0 && inFlight === 0 && recordsInFlight === 0),
      );
      if (fatal) throw fatal;
      if (requeued.length === 0) return;
      const slot = requeued.shift()!;
      if (stopReason) finishItem(slot, cancelledResult(slot.item, stopReason, Date.now()));
      else launch(slot);
    }
  };

  let cursor = carried?.cursor ?? { offset: 0, pageIndex: 0 };
  for (let endOfPlan = false; !endOfPlan && !stopReason; ) {
    const { items, nextOffset, done: lastPage } = await readPlanPage({ plan: plan.plan, offset: cursor.offset, limit: pageSize });
    const page: PageState = { index: cursor.pageIndex, results: new Array(items.length), remaining: items.length };
    for (const [position, planItem] of items.entries()) {
      // The run's --account names the account of items whose input does not.
      const accountId = accountOf(planItem, input.accounts);
      const item: CleanupItem = accountId ? { ...planItem, accountId } : planItem;
      const skipped = skippedResult(item, inUsePolicy, missingPoolIds, unreachablePools, Date.now());
      if (!skipped) await nextSlotFree();
      if (stopReason) finishItem({ page, position, item }, cancelledResult(item, stopReason, Date.now()));
      else if (skipped) finishItem({ page, position, item }, skipped);
      else start({ page, position, item });
    }
    // A page's last items do not wait for the next page to fill their tasks.
    releaseGathered();
    cursor = { offset: nextOffset, pageIndex: cursor.pageIndex + 1 };
    endOfPlan = lastPage;

    const history = workflowInfo();
    if (!endOfPlan && !stopReason && (history.continueAsNewSuggested || history.historyLength >= maxEvents)) {
      phase = 'draining';
      await drain();
      await condition(allHandlersFinished);
      // A cancel (or the failure threshold) that came while draining ends the run here instead.
      if (!stopReason) {
        return await continueAsNew<typeof cleanupWorkflow>({
          ...input,
          carried: { prepared: plan, cursor, counts, limits, paused, ...(pauseReason ? { pauseReason } : {}), startedAt, generation },
        });
      }
      phase = 'running';
    }
  }

  phase = 'draining';
  await drain();
  // A stopped run records the pages it never read (the page it stopped in is recorded by the loop).
  const status: CleanupStatus = !stopReason ? 'completed' : stopReason.startsWith('cancelled') ? 'cancelled' : 'stopped';
  return await finish(plan, status, cursor);
}
