/**
 * Retries one Cognito call on throttling and internal errors, with the same
 * jittered backoff as the delete activity (the limiter the call goes through
 * sees each throttled answer itself and slows down on congestion).
 * For work made of many calls (the dependency check, discover, restore), where
 * retrying the whole through Temporal would redo every call before the failed
 * one. Deletes are retried by Temporal instead, one visible attempt each.
 */
import { classifyCognitoError } from './errors';
import { COGNITO_CALL_DEFAULTS } from '../common/options';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How to wait; an activity passes Context.current().sleep so cancellation interrupts it. */
  sleep?: (ms: number) => Promise<void>;
  /** Called before each attempt, e.g. to heartbeat. */
  beforeAttempt?: () => void;
}

/** Runs `call` (which the caller puts on its limiter), retrying what can be retried; throws the last error. */
export async function retryCognitoCall<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? COGNITO_CALL_DEFAULTS.callAttempts;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    options.beforeAttempt?.();
    try {
      return await call();
    } catch (err) {
      const error = classifyCognitoError(err);
      if (error.disposition !== 'retry' || attempt >= attempts) throw err;
      await sleep(retryDelayMs(attempt, options.baseDelayMs ?? COGNITO_CALL_DEFAULTS.retryBaseDelayMs, options.maxDelayMs ?? COGNITO_CALL_DEFAULTS.retryMaxDelayMs));
    }
  }
}

/** Retry delay for attempt n: exponential, capped, with "equal jitter" so retries do not synchronise. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
