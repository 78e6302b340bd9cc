/**
 * What the emulator saw: outcomes per operation, calls accepted by the quotas
 * per second (per category, and per pool and operation), and every successful
 * DeleteResourceServer in order. Tests assert on these instead of timings.
 */
import type { AcceptedSecond, DeleteRecord, EmulatorStats, QuotaCategory } from './types';

/** A day of seconds is plenty for a test or a benchmark; older seconds are dropped. */
const MAX_SECONDS_KEPT = 86_400;

export class StatsRecorder {
  private operations: Record<string, Record<string, number>> = {};
  private perSecond: AcceptedSecond[] = [];
  private deletes: DeleteRecord[] = [];

  recordOutcome(operation: string, outcome: string): void {
    const counts = (this.operations[operation] ??= {});
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }

  recordAccepted(atMs: number, category: QuotaCategory, operation: string, userPoolId?: string): void {
    const second = Math.floor(atMs / 1000);
    let bucket = this.perSecond[this.perSecond.length - 1];
    // The clock is monotonic, so a new second only ever appends.
    if (!bucket || bucket.second !== second) {
      bucket = { second, categories: {}, pools: {} };
      this.perSecond.push(bucket);
      if (this.perSecond.length > MAX_SECONDS_KEPT) this.perSecond.shift();
    }
    bucket.categories[category] = (bucket.categories[category] ?? 0) + 1;
    if (userPoolId !== undefined) {
      const pool = (bucket.pools[userPoolId] ??= {});
      pool[operation] = (pool[operation] ?? 0) + 1;
    }
  }

  recordDelete(userPoolId: string, identifier: string, atMs: number): void {
    this.deletes.push({ userPoolId, identifier, time: new Date(atMs).toISOString() });
  }

  snapshot(): EmulatorStats {
    return structuredClone({ operations: this.operations, accepted: { perSecond: this.perSecond }, deletes: this.deletes });
  }

  reset(): void {
    this.operations = {};
    this.perSecond = [];
    this.deletes = [];
  }
}
