/**
 * Retries one Cognito call on throttling and internal errors, with the same
 * jittered backoff as the delete activity, slowing its limiter on throttling.
 * For work made of many calls (the dependency check, discover, restore), where
 * retrying the whole through Temporal would redo every call before the failed
 * one. Deletes are retried by Temporal instead, one visible attempt each.
 */
import { classifyCognitoError } from './classify-cognito-error';
import type { CognitoRateLimiter } from './rate-limiter';
import { retryDelayMs } from './delete-resource-server';

export interface RetryOptions {
  limiter: CognitoRateLimiter;
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How to wait; an activity passes Context.current().sleep so cancellation interrupts it. */
  sleep?: (ms: number) => Promise<void>;
  /** Called before each attempt, e.g. to heartbeat. */
  beforeAttempt?: () => void;
}

/** Runs `call` (which the caller puts on its limiter), retrying what can be retried; throws the last error. */
export async function retryCognitoCall<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = options.attempts ?? 8;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    options.beforeAttempt?.();
    try {
      return await call();
    } catch (err) {
      const error = classifyCognitoError(err);
      if (error.disposition !== 'retry' || attempt >= attempts) throw err;
      if (error.throttled) options.limiter.reportThrottled();
      await sleep(retryDelayMs(attempt, options.baseDelayMs ?? 1_000, options.maxDelayMs ?? 30_000));
    }
  }
}
