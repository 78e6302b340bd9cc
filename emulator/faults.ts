/**
 * Fault injection: latency, errors, status-only HTTP errors, dropped
 * connections and requests never answered, decided per call.
 *
 * Every call draws the same four numbers from one seeded PRNG whatever the
 * configuration (jitter, spike, error, connection), so the same seed and the
 * same sequence of calls give the same outcomes, and turning latency on does
 * not shift which calls fail. Each draw picks among its faults by cumulative
 * probability in a fixed order; faults added later come last, so a config
 * without them draws exactly as before. "Fail the next N" rules are
 * deterministic and checked first.
 */
import { SeededRandom } from './random';
import type { FaultConfig, FaultErrorType, LatencyConfig } from './types';

export type FaultAction =
  | { kind: 'none' }
  | { kind: 'error'; error: FaultErrorType }
  /** A status-only answer (no Cognito error type), as a proxy in front of the service sends. */
  | { kind: 'httpStatus'; status: 429 | 503 }
  /** Never answer; with `afterProcessing` the operation runs first. */
  | { kind: 'hang'; afterProcessing: boolean }
  /** Destroy the socket before the operation runs. */
  | { kind: 'dropBefore' }
  /** Run the operation, then destroy the socket instead of answering. */
  | { kind: 'dropAfter' }
  /** Answer success without applying the change: a write that did not stick. */
  | { kind: 'acknowledgeWithoutApplying' };

export interface FaultDecision {
  latencyMs: number;
  /** Whether latencyMs includes a spike. */
  spiked: boolean;
  action: FaultAction;
}

const NO_LATENCY: LatencyConfig = { fixedMs: 0, jitterMs: 0, spikeProbability: 0, spikeMs: 0 };

const THROTTLE: FaultAction = { kind: 'error', error: 'TooManyRequestsException' };
const INTERNAL_ERROR: FaultAction = { kind: 'error', error: 'InternalErrorException' };
const NOT_AUTHORIZED: FaultAction = { kind: 'error', error: 'NotAuthorizedException' };
const HTTP_429: FaultAction = { kind: 'httpStatus', status: 429 };
const HTTP_503: FaultAction = { kind: 'httpStatus', status: 503 };
const DROP_BEFORE: FaultAction = { kind: 'dropBefore' };
const DROP_AFTER: FaultAction = { kind: 'dropAfter' };
const HANG: FaultAction = { kind: 'hang', afterProcessing: false };
const HANG_AFTER: FaultAction = { kind: 'hang', afterProcessing: true };
const NONE: FaultAction = { kind: 'none' };

export class FaultInjector {
  private random: SeededRandom;

  constructor(
    private readonly config: () => FaultConfig,
    seed: number,
  ) {
    this.random = new SeededRandom(seed);
  }

  reseed(seed: number): void {
    this.random = new SeededRandom(seed);
  }

  decide(operation: string): FaultDecision {
    const config = this.config();
    const uJitter = this.random.next();
    const uSpike = this.random.next();
    const uError = this.random.next();
    const uDrop = this.random.next();

    const faults = config.operations[operation] ?? config.operations['*'] ?? {};
    const { fixedMs, jitterMs, spikeProbability, spikeMs } = faults.latency ? { ...NO_LATENCY, ...faults.latency } : config.latency;
    const spiked = uSpike < spikeProbability && spikeMs > 0;
    const latencyMs = fixedMs + uJitter * jitterMs + (spiked ? spikeMs : 0);
    const decided = (action: FaultAction): FaultDecision => ({ latencyMs, spiked, action });

    const planned = this.takeFailNext(config, operation);
    if (planned) return decided(planned);

    const error = pick(uError, [
      [faults.throttle, THROTTLE],
      [faults.internalError, INTERNAL_ERROR],
      [faults.notAuthorized, NOT_AUTHORIZED],
      [faults.http429, HTTP_429],
      [faults.http503, HTTP_503],
    ]);
    if (error) return decided(error);
    return decided(
      pick(uDrop, [
        [faults.dropBeforeProcessing, DROP_BEFORE],
        [faults.dropAfterProcessing, DROP_AFTER],
        [faults.hang, HANG],
        [faults.hangAfterProcessing, HANG_AFTER],
      ]) ?? NONE,
    );
  }

  private takeFailNext(config: FaultConfig, operation: string): FaultAction | undefined {
    const index = config.failNext.findIndex((rule) => rule.count > 0 && (rule.operation === undefined || rule.operation === operation));
    if (index < 0) return undefined;
    const rule = config.failNext[index]!;
    rule.count--;
    if (rule.count <= 0) config.failNext.splice(index, 1);
    if (rule.error === 'DropConnection') return DROP_BEFORE;
    if (rule.error === 'AcknowledgeWithoutApplying') return { kind: 'acknowledgeWithoutApplying' };
    if (rule.error === 'Hang') return HANG;
    if (rule.error === 'Http429') return HTTP_429;
    if (rule.error === 'Http503') return HTTP_503;
    return { kind: 'error', error: rule.error };
  }
}

/** The first action whose cumulative probability exceeds `u`, if any. */
function pick(u: number, choices: readonly [number | undefined, FaultAction][]): FaultAction | undefined {
  let cumulative = 0;
  for (const [probability, action] of choices) {
    cumulative += probability ?? 0;
    if (u < cumulative) return action;
  }
  return undefined;
}
