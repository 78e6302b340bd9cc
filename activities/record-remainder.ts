/**
 * Records an outcome for every plan item the run will not start, when a run
 * ends early (cancel, the failure threshold) or is refused after its input was
 * prepared: the rest of the plan, page by page, each page through the same
 * recording as the workflow's own pages (a page file, one audit record per
 * item). So every plan item has exactly one outcome record and one manifest
 * line, whatever stopped the run.
 *
 * An activity, not the workflow, because the rest of a 100,000-item plan must
 * not travel through workflow history. It streams the plan a page at a time and
 * heartbeats after each; a retry skips the pages already recorded.
 */
import { Context } from '@temporalio/activity';
import type { CleanupItem, FileRef, ItemResult, RunContext } from '../common/types';
import { readPlanPage } from './read-plan-page';
import { recordOutcomes } from './record-outcomes';

export interface RecordRemainderRequest {
  run: RunContext;
  plan: FileRef;
  /** Where the workflow stopped reading: the first unread item and the index its page gets. */
  offset: number;
  pageIndex: number;
  pageSize: number;
  /** Why these items are not started, for their `cancelled` records. */
  reason: string;
  /** User pools that do not exist: their items are recorded `pool-not-found`. */
  missingPools?: string[];
}

export interface RecordRemainderResult {
  /** Items recorded by this attempt, by outcome (a retry counts only what it recorded). */
  cancelled: number;
  poolNotFound: number;
}

/** The outcome of an item the run never started. */
export function unstartedResult(item: CleanupItem, reason: string, missingPools: ReadonlySet<string>, at: Date): ItemResult {
  const base = { userPoolId: item.userPoolId, identifier: item.identifier, row: item.row, ...(item.extra ? { extra: item.extra } : {}) };
  // Its pool does not exist: that is what the operator must know, whatever stopped the run.
  if (missingPools.has(item.userPoolId)) {
    return { ...base, outcome: 'pool-not-found', attempts: 0, reason: `user pool ${item.userPoolId} does not exist (found by the dependency check)`, finishedAt: at.toISOString() };
  }
  return { ...base, outcome: 'cancelled', attempts: 0, reason, finishedAt: at.toISOString() };
}

export async function recordRemainder(request: RecordRemainderRequest): Promise<RecordRemainderResult> {
  const context = Context.current();
  const totals: RecordRemainderResult = { cancelled: 0, poolNotFound: 0 };
  const missingPools = new Set(request.missingPools ?? []);
  // A retry after a crash goes on from the last page it heartbeat about.
  const resumed = context.info.heartbeatDetails as { offset: number; pageIndex: number } | undefined;
  let offset = resumed?.offset ?? request.offset;
  let pageIndex = resumed?.pageIndex ?? request.pageIndex;
  for (;;) {
    const page = await readPlanPage({ plan: request.plan, offset, limit: request.pageSize });
    if (page.items.length > 0) {
      const at = new Date();
      const results = page.items.map((item) => unstartedResult(item, request.reason, missingPools, at));
      await recordOutcomes({ run: request.run, pageIndex, results });
      for (const r of results) r.outcome === 'pool-not-found' ? (totals.poolNotFound += 1) : (totals.cancelled += 1);
    }
    context.heartbeat({ offset: page.nextOffset, pageIndex: pageIndex + 1 });
    if (page.done) return totals;
    offset = page.nextOffset;
    pageIndex += 1;
  }
}
