/**
 * What the emulator saw: outcomes per operation, calls accepted by the quotas
 * per second (per account, Region and category, and per pool and operation),
 * every successful DeleteResourceServer in order, AssumeRole calls per role,
 * and injected latency spikes. Tests assert on these instead of timings.
 */
import type { AcceptedSecond, DeleteRecord, EmulatorStats, QuotaCategory } from './types';

/** A day of seconds is plenty for a test or a benchmark; older seconds are dropped. */
const MAX_SECONDS_KEPT = 86_400;

export interface AcceptedCall {
  accountId: string;
  region: string;
  category: QuotaCategory;
  operation: string;
  userPoolId?: string;
}

const increment = <K extends string>(counts: Partial<Record<K, number>>, key: K): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

export class StatsRecorder {
  private operations: Record<string, Record<string, number>> = {};
  private perSecond: AcceptedSecond[] = [];
  private deletes: DeleteRecord[] = [];
  private assumeRole: Record<string, Record<string, number>> = {};
  private latencySpikes: Record<string, number> = {};

  recordOutcome(operation: string, outcome: string): void {
    increment((this.operations[operation] ??= {}), outcome);
  }

  recordAccepted(atMs: number, call: AcceptedCall): void {
    const second = Math.floor(atMs / 1000);
    let bucket = this.perSecond[this.perSecond.length - 1];
    // The clock is monotonic, so a new second only ever appends.
    if (!bucket || bucket.second !== second) {
      bucket = { second, categories: {}, accounts: {}, pools: {} };
      this.perSecond.push(bucket);
      if (this.perSecond.length > MAX_SECONDS_KEPT) this.perSecond.shift();
    }
    increment(bucket.categories, call.category);
    increment(((bucket.accounts[call.accountId] ??= {})[call.region] ??= {}), call.category);
    if (call.userPoolId !== undefined) increment((bucket.pools[call.userPoolId] ??= {}), call.operation);
  }

  recordDelete(record: Omit<DeleteRecord, 'time'>, atMs: number): void {
    this.deletes.push({ ...record, time: new Date(atMs).toISOString() });
  }

  recordAssumeRole(roleArn: string, outcome: string): void {
    this.recordOutcome('AssumeRole', outcome);
    increment((this.assumeRole[roleArn] ??= {}), outcome);
  }

  recordLatencySpike(operation: string): void {
    increment(this.latencySpikes, operation);
  }

  snapshot(): EmulatorStats {
    return structuredClone({
      operations: this.operations,
      accepted: { perSecond: this.perSecond },
      deletes: this.deletes,
      assumeRole: this.assumeRole,
      latencySpikes: this.latencySpikes,
    });
  }

  reset(): void {
    this.operations = {};
    this.perSecond = [];
    this.deletes = [];
    this.assumeRole = {};
    this.latencySpikes = {};
  }
}
