/**
 * A liveness heartbeat for long activities: while the activity runs, it
 * heartbeats every few seconds, so Temporal notices a dead worker (kill -9, a
 * lost machine) within the activity's heartbeat timeout instead of its
 * start-to-close timeout, and retries it elsewhere.
 *
 * It says "this process is alive", not "this activity makes progress"; the
 * start-to-close timeout still bounds an attempt that hangs. It sends no
 * details, so the activities it wraps keep their progress elsewhere
 * (checkDependencies: a file per pool; prepareInput and writeManifest redo
 * their work); recordRemainder heartbeats its own progress instead.
 */
import { Context } from '@temporalio/activity';
import { ACTIVITY_TIMEOUTS } from '../common/options';

/** Chaos tests only: waits `delayMs` (cancellably, as a heartbeating activity) before running `fn`. */
export function withChaosDelay<A extends unknown[], R>(delayMs: number | undefined, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  if (!delayMs) return fn;
  return async (...args: A): Promise<R> => {
    await Context.current().sleep(delayMs);
    return fn(...args);
  };
}

export function withLivenessHeartbeat<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    const context = Context.current();
    context.heartbeat();
    const timer = setInterval(() => context.heartbeat(), ACTIVITY_TIMEOUTS.heartbeatEverySeconds * 1_000);
    timer.unref();
    try {
      return await fn(...args);
    } finally {
      clearInterval(timer);
    }
  };
}
