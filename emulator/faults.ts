/**
 * Fault injection: latency, errors and dropped connections, decided per call.
 *
 * Every call draws the same four numbers from one seeded PRNG whatever the
 * configuration, so the same seed and the same sequence of calls give the same
 * outcomes, and turning latency on does not shift which calls fail.
 * "Fail the next N" rules are deterministic and checked first.
 */
import { SeededRandom } from './random';
import type { FaultConfig, FaultErrorType } from './types';

export type FaultAction =
  | { kind: 'none' }
  | { kind: 'error'; error: FaultErrorType }
  /** Destroy the socket before the operation runs. */
  | { kind: 'dropBefore' }
  /** Run the operation, then destroy the socket instead of answering. */
  | { kind: 'dropAfter' }
  /** Answer success without applying the change: a write that did not stick. */
  | { kind: 'acknowledgeWithoutApplying' };

export interface FaultDecision {
  latencyMs: number;
  action: FaultAction;
}

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

    const { fixedMs, jitterMs, spikeProbability, spikeMs } = config.latency;
    const latencyMs = fixedMs + uJitter * jitterMs + (uSpike < spikeProbability ? spikeMs : 0);

    const planned = this.takeFailNext(config, operation);
    if (planned) return { latencyMs, action: planned };

    const faults = config.operations[operation] ?? config.operations['*'] ?? {};
    const throttle = faults.throttle ?? 0;
    const internal = throttle + (faults.internalError ?? 0);
    const notAuthorized = internal + (faults.notAuthorized ?? 0);
    if (uError < throttle) return { latencyMs, action: { kind: 'error', error: 'TooManyRequestsException' } };
    if (uError < internal) return { latencyMs, action: { kind: 'error', error: 'InternalErrorException' } };
    if (uError < notAuthorized) return { latencyMs, action: { kind: 'error', error: 'NotAuthorizedException' } };

    const dropBefore = faults.dropBeforeProcessing ?? 0;
    const dropAfter = dropBefore + (faults.dropAfterProcessing ?? 0);
    if (uDrop < dropBefore) return { latencyMs, action: { kind: 'dropBefore' } };
    if (uDrop < dropAfter) return { latencyMs, action: { kind: 'dropAfter' } };
    return { latencyMs, action: { kind: 'none' } };
  }

  private takeFailNext(config: FaultConfig, operation: string): FaultAction | undefined {
    const index = config.failNext.findIndex((rule) => rule.count > 0 && (rule.operation === undefined || rule.operation === operation));
    if (index < 0) return undefined;
    const rule = config.failNext[index]!;
    rule.count--;
    if (rule.count <= 0) config.failNext.splice(index, 1);
    if (rule.error === 'DropConnection') return { kind: 'dropBefore' };
    if (rule.error === 'AcknowledgeWithoutApplying') return { kind: 'acknowledgeWithoutApplying' };
    return { kind: 'error', error: rule.error };
  }
}
