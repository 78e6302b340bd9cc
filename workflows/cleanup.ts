/**
 * The cleanup workflow: deletes the resource servers listed in an input file,
 * a sliding window of rate-limited delete activities at a time.
 *
 * Patterns, and why:
 * - The input never travels through history: an activity turns it into a plan
 *   file and the workflow reads it a page at a time (Temporal payloads are
 *   capped at 2 MB; a 100,000-row input is far larger).
 * - A sliding window keeps at most `limits.window` deletes pending, far below
 *   Temporal's 2,000 pending activities per execution.
 * - Continue-as-new at page boundaries, carrying only counters and the cursor,
 *   once history reaches a few thousand events (hard limit 51,200).
 * - Outcomes are recorded per page by an activity, so the manifest lists every
 *   item exactly once however often a delete activity ran.
 * - Signals pause, resume and cancel; an update changes rate and window while
 *   running; a query reports progress.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { CleanupActivities } from '../activities';
import type { InputSource, PreparedInput } from '../activities/prepare-input';
import type { InputError } from '../common/input-reader';
import type { CleanupItem, InUsePolicy, ItemResult, Limits, OutcomeCounts, RunContext } from '../common/types';
import { definedOnly, emptyCounts } from '../common/types';
import { DEFAULT_LIMITS, LIMIT_BOUNDS, RUN_DEFAULTS } from '../common/options';

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
  failureThreshold?: FailureThreshold;
  /** Delete attempts per item, for throttling and internal errors; default 8. */
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

/** All that crosses a continue-as-new: counters and the cursor, never items. */
export interface CarriedState {
  prepared: PreparedRun;
  cursor: { offset: number; pageIndex: number };
  counts: OutcomeCounts;
  limits: Limits;
  paused: boolean;
  startedAt: number;
  generation: number;
}

/** The prepared input after the dependency check: the plan to run and what the checks found. */
export type PreparedRun = PreparedInput & { inUse: number; inUseReport?: string };

export type CleanupStatus = 'completed' | 'cancelled' | 'stopped' | 'invalid-input' | 'refused';

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
  /** Items finished per second over the last 10 seconds. */
  ratePerSecond: number;
  limits: Limits;
  paused: boolean;
  stopReason?: string;
  generation: number;
  historyLength: number;
  startedAt: string;
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
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal<[reason?: string]>('cancel');
export const setLimitsUpdate = defineUpdate<Limits, [LimitsUpdate]>('setLimits');

/** Far below Temporal's 2,000 pending activities per execution. */
export const MAX_WINDOW = LIMIT_BOUNDS.maxWindow;

// ---------------------------------------------------------------------------
// Small pure helpers
// ---------------------------------------------------------------------------

export function validateLimitsUpdate(update: LimitsUpdate): void {
  const positive = (name: string, value: number | undefined, max: number) => {
    if (value === undefined) return;
    if (!Number.isFinite(value) || value <= 0 || value > max) {
      throw new RangeError(`${name} must be a number above 0 and at most ${max}, got ${value}`);
    }
  };
  positive('rate', update.rate, LIMIT_BOUNDS.maxRate);
  positive('poolRate', update.poolRate, LIMIT_BOUNDS.maxRate);
  positive('window', update.window, MAX_WINDOW);
  if (update.window !== undefined && !Number.isInteger(update.window)) {
    throw new RangeError(`window must be a whole number, got ${update.window}`);
  }
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

function failedResult(item: CleanupItem, err: unknown, maxAttempts: number, at: number): ItemResult {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const code = cause instanceof ApplicationFailure && cause.type ? cause.type : (cause as Error)?.name ?? 'Error';
  return {
    ...item,
    outcome: 'failed',
    attempts: maxAttempts,
    reason: `retries exhausted after ${maxAttempts} attempts`,
    errorCode: code,
    errorMessage: String((cause as Error)?.message ?? cause),
    finishedAt: new Date(at).toISOString(),
  };
}

function cancelledResult(item: CleanupItem, reason: string, at: number): ItemResult {
  return { ...item, outcome: 'cancelled', attempts: 0, reason, finishedAt: new Date(at).toISOString() };
}

/** Items that are never sent to Cognito: protected ones, and ones in use when the policy is skip. */
function skippedResult(item: CleanupItem, inUse: InUsePolicy, at: number): ItemResult | undefined {
  const finishedAt = new Date(at).toISOString();
  if (item.protectedBy) {
    return { ...item, outcome: 'skipped-protected', attempts: 0, reason: `protected by '${item.protectedBy}'`, finishedAt };
  }
  if (item.inUseBy && inUse === 'skip') {
    return { ...item, outcome: 'skipped-in-use', attempts: 0, reason: `used by app clients: ${item.inUseBy.join(', ')}`, finishedAt };
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The workflow
// ---------------------------------------------------------------------------

interface PageState {
  index: number;
  results: ItemResult[];
  remaining: number;
}

/**
 * Deletes (or, in a dry-run, checks) every resource server of the input.
 * Keeps up to `limits.window` items in flight; continues as new at page
 * boundaries to bound history; writes the manifest when it ends.
 */
export async function cleanupWorkflow(input: CleanupInput): Promise<CleanupSummary> {
  const info = workflowInfo();
  const pageSize = input.pageSize ?? RUN_DEFAULTS.pageSize;
  const maxEvents = input.continueAsNewAfterEvents ?? RUN_DEFAULTS.continueAsNewAfterEvents;
  const maxAttempts = input.maxAttempts ?? RUN_DEFAULTS.maxAttempts;

  const { prepareInput, checkDependencies, readPlanPage, recordOutcomes, writeManifest } = proxyActivities<CleanupActivities>({
    startToCloseTimeout: '10 minutes',
    retry: { initialInterval: '2 seconds', maximumAttempts: 5 },
  });
  const { deleteResourceServer } = proxyActivities<CleanupActivities>({
    // Replay does not compare an activity's task queue, so histories recorded before the split still replay.
    taskQueue: input.deleteTaskQueue ?? `${info.taskQueue}-deletes`,
    // Includes waiting in the worker's rate limiter; heartbeats catch a dead worker sooner.
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? RUN_DEFAULTS.heartbeatTimeoutSeconds} seconds`,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: maxAttempts,
      // The activity returns hard failures as `failed` results; these are belt and braces.
      nonRetryableErrorTypes: ['LimitExceededException', 'InputChangedError'],
    },
  });

  const carried = input.carried;
  let limits: Limits = carried?.limits ?? { ...DEFAULT_LIMITS, ...input.limits };
  validateLimitsUpdate(limits);
  const counts = carried?.counts ?? emptyCounts();
  let done = Object.values(counts).reduce((a, b) => a + b, 0);
  let paused = carried?.paused ?? false;
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

  setHandler(progressQuery, () => {
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
      ratePerSecond: now > windowStart ? Math.round((recent / ((now - windowStart) / 1000)) * 10) / 10 : 0,
      limits,
      paused,
      ...(stopReason ? { stopReason } : {}),
      generation,
      historyLength: workflowInfo().historyLength,
      startedAt: new Date(startedAt).toISOString(),
    };
  });
  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  setHandler(cancelSignal, (reason?: string) => void (stopReason ??= `cancelled: ${reason ?? 'by the operator'}`));
  setHandler(
    setLimitsUpdate,
    (update) => {
      limits = { ...limits, ...definedOnly(update) };
      return limits;
    },
    { validator: validateLimitsUpdate },
  );

  const summaryOf = (status: CleanupStatus, plan: PreparedInput, extra: Partial<CleanupSummary> = {}): CleanupSummary => {
    const finishedAt = Date.now();
    phase = 'done';
    return {
      status,
      workflowId: info.workflowId,
      execute: input.execute,
      total: plan.total,
      counts,
      duplicates: plan.duplicates,
      invalid: plan.invalid,
      protectedCount: plan.protectedCount,
      inUse: 0,
      missing: 0,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
      runDir: plan.runDir,
      limits,
      generations: generation,
      ...extra,
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
      return summaryOf('invalid-input', parsed, {
        invalidSample: parsed.invalidSample,
        ...(parsed.invalidReport ? { invalidReport: parsed.invalidReport } : {}),
      });
    }
    // Before any delete: who still uses the scopes of the servers to delete?
    const checkRun: RunContext = { workflowId: info.workflowId, runId: info.runId, runDir: parsed.runDir, execute: input.execute };
    const check = await checkDependencies({ run: checkRun, plan: parsed.plan });
    prepared = { ...parsed, plan: check.plan, inUse: check.inUse, ...(check.report ? { inUseReport: check.report } : {}) };
    const inUseFields = { inUse: check.inUse, ...(check.report ? { inUseReport: check.report } : {}) };
    if (inUsePolicy === 'fail' && check.inUse > 0) {
      const first = check.sample[0]!;
      return summaryOf('refused', prepared, {
        ...inUseFields,
        stopReason: `refused: ${check.inUse} resource servers are used by app clients (first: ${first.identifier} in ${first.userPoolId}, used by ${first.clients.join(', ')}); see ${check.report}`,
      });
    }
    const toDelete = prepared.total - prepared.protectedCount - (inUsePolicy === 'skip' ? check.inUse : 0);
    if (input.maxDeletes !== undefined && toDelete > input.maxDeletes) {
      return summaryOf('refused', prepared, {
        ...inUseFields,
        stopReason: `refused: the run would delete ${toDelete} resource servers, more than the limit of ${input.maxDeletes} (--max-deletes)`,
      });
    }
  }
  const plan = prepared;
  const run: RunContext = { workflowId: info.workflowId, runId: info.runId, runDir: plan.runDir, execute: input.execute };
  phase = 'running';

  const recordPage = (page: PageState) => {
    recordsInFlight += 1;
    recordOutcomes({ run, pageIndex: page.index, results: page.results })
      .catch((err) => void (fatal ??= err))
      .finally(() => void (recordsInFlight -= 1));
  };
  const finishItem = (page: PageState, position: number, result: ItemResult) => {
    page.results[position] = result;
    counts[result.outcome] += 1;
    done += 1;
    if (result.attempts > 0) recentFinishes.push(Date.now()); // the rate counts calls to Cognito only
    if (recentFinishes.length > 1_000) recentFinishes.splice(0, recentFinishes.length - 1_000);
    stopReason ??= thresholdReached(input.failureThreshold, counts, done);
    page.remaining -= 1;
    if (page.remaining === 0) recordPage(page);
  };
  const launch = (page: PageState, position: number, item: CleanupItem) => {
    inFlight += 1;
    deleteResourceServer({ run, item, rates: { rate: limits.rate, poolRate: limits.poolRate }, verify: input.verify === true })
      .catch((err) => failedResult(item, err, maxAttempts, Date.now()))
      .then((result) => {
        inFlight -= 1;
        finishItem(page, position, result);
      });
  };
  const drain = async () => {
    await condition(() => inFlight === 0 && recordsInFlight === 0);
    if (fatal) throw fatal;
  };

  let cursor = carried?.cursor ?? { offset: 0, pageIndex: 0 };
  for (let endOfPlan = false; !endOfPlan && !stopReason; ) {
    const { items, nextOffset, done: lastPage } = await readPlanPage({ plan: plan.plan, offset: cursor.offset, limit: pageSize });
    const page: PageState = { index: cursor.pageIndex, results: new Array(items.length), remaining: items.length };
    for (const [position, item] of items.entries()) {
      const skipped = skippedResult(item, inUsePolicy, Date.now());
      if (!skipped) {
        await condition(() => fatal !== undefined || stopReason !== undefined || (!paused && inFlight < limits.window));
      }
      if (fatal) throw fatal;
      if (stopReason) finishItem(page, position, cancelledResult(item, stopReason, Date.now()));
      else if (skipped) finishItem(page, position, skipped);
      else launch(page, position, item);
    }
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
          carried: { prepared: plan, cursor, counts, limits, paused, startedAt, generation },
        });
      }
      phase = 'running';
    }
  }

  phase = 'draining';
  await drain();
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
    limits,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: finishedAt - startedAt,
    generations: generation,
  };
  const manifest = await writeManifest({
    runDir: plan.runDir,
    plan: plan.plan,
    ...(stopReason ? { stopReason } : {}),
    summary: summaryBase,
  });
  phase = 'done';
  await condition(allHandlersFinished);
  return {
    ...summaryBase,
    status: !stopReason ? 'completed' : stopReason.startsWith('cancelled') ? 'cancelled' : 'stopped',
    total: manifest.total,
    counts: manifest.counts,
    missing: manifest.missing,
    ...(stopReason ? { stopReason } : {}),
    runDir: plan.runDir,
    auditFile: manifest.auditFile,
    manifestDir: manifest.manifestDir,
    summaryFile: manifest.summaryFile,
  };
}
