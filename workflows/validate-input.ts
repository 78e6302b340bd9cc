/**
 * Checks a whole CleanupInput before the workflow does anything with it. Pure
 * and deterministic (it runs inside the workflow): it returns every problem it
 * finds as one line each, and the workflow fails with them at once
 * (ApplicationFailure.nonRetryable, type InvalidRunInput). A plain throw would
 * fail the workflow task instead, which Temporal retries for ever.
 */
import { IN_USE_POLICIES } from '../common/types';
import { INPUT_BOUNDS, LIMIT_BOUNDS } from '../common/options';
import type { CleanupInput, LimitsUpdate } from './cleanup';

type Check = (problems: string[]) => void;

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const above0 = (name: string, value: unknown, max: number): Check => (problems) => {
  if (value === undefined) return;
  if (!isNumber(value) || value <= 0 || value > max) problems.push(`${name} must be a number above 0 and at most ${max}, got ${String(value)}`);
};

const wholeNumber = (name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): Check => (problems) => {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    problems.push(`${name} must be a whole number of at least ${min}${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ''}, got ${String(value)}`);
  }
};

const flag = (name: string, value: unknown): Check => (problems) => {
  if (value !== undefined && typeof value !== 'boolean') problems.push(`${name} must be true or false, got ${JSON.stringify(value)}`);
};

/** Problems with a change of limits (the setLimits update's validator uses it too). */
export function limitsProblems(update: LimitsUpdate): string[] {
  const problems: string[] = [];
  above0('rate', update.rate, LIMIT_BOUNDS.maxRate)(problems);
  above0('poolRate', update.poolRate, LIMIT_BOUNDS.maxRate)(problems);
  above0('window', update.window, LIMIT_BOUNDS.maxWindow)(problems);
  if (problems.length === 0 && update.window !== undefined && !Number.isInteger(update.window)) {
    problems.push(`window must be a whole number, got ${update.window}`);
  }
  return problems;
}

/** Every problem of the input, one line each; empty when it is fine. */
export function inputProblems(input: CleanupInput): string[] {
  if (typeof input !== 'object' || input === null) return ['the input must be an object'];
  const problems: string[] = [];
  if (typeof input.source?.path !== 'string' || input.source.path === '') problems.push('source.path must name the input file');
  if (typeof input.execute !== 'boolean') problems.push(`execute must be true or false, got ${JSON.stringify(input.execute)}`);
  if (input.limits !== undefined) {
    if (typeof input.limits !== 'object' || input.limits === null) problems.push('limits must be an object');
    else problems.push(...limitsProblems(input.limits));
  }
  if (input.inUse !== undefined && !IN_USE_POLICIES.includes(input.inUse)) {
    problems.push(`inUse must be one of ${IN_USE_POLICIES.join(', ')}, got '${String(input.inUse)}'`);
  }
  if (input.protect !== undefined && (!Array.isArray(input.protect) || input.protect.some((p) => typeof p !== 'string'))) {
    problems.push('protect must be a list of patterns');
  }
  const checks: Check[] = [
    flag('skipInvalidRows', input.skipInvalidRows),
    flag('verify', input.verify),
    flag('skipMissingPools', input.skipMissingPools),
    wholeNumber('maxDeletes', input.maxDeletes, 0),
    wholeNumber('maxAttempts', input.maxAttempts, 1),
    above0('itemDeadlineMinutes', input.itemDeadlineMinutes, INPUT_BOUNDS.maxItemDeadlineMinutes),
    wholeNumber('pageSize', input.pageSize, 1, INPUT_BOUNDS.maxPageSize),
    wholeNumber('continueAsNewAfterEvents', input.continueAsNewAfterEvents, 1, INPUT_BOUNDS.maxContinueAsNewAfterEvents),
    above0('heartbeatTimeoutSeconds', input.heartbeatTimeoutSeconds, INPUT_BOUNDS.maxHeartbeatTimeoutSeconds),
  ];
  const t = input.failureThreshold;
  if (t !== undefined) {
    checks.push(
      wholeNumber('failureThreshold.count', t.count, 1),
      above0('failureThreshold.percent', t.percent, 100),
      wholeNumber('failureThreshold.minItems', t.minItems, 1),
    );
  }
  if (input.deleteTaskQueue !== undefined && (typeof input.deleteTaskQueue !== 'string' || input.deleteTaskQueue === '')) {
    problems.push('deleteTaskQueue must be a task queue name');
  }
  for (const check of checks) check(problems);
  return problems;
}
