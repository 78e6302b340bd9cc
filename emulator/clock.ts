/**
 * Epoch milliseconds that never go backwards. The quota windows and the
 * accepted-calls histogram share it, so a histogram bucket and a quota window
 * always agree on when a call happened, even if the system clock is adjusted.
 */
import { performance } from 'node:perf_hooks';

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
