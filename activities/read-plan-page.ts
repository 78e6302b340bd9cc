/**
 * Reads one page of the run's plan. The plan file is pinned by its sha256;
 * a changed file fails the run clearly instead of deleting the wrong things.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { FileRef } from '../common/types';
import { InputChangedError, readPlanPage as readPage, type PlanPage } from '../common/plan-file';

export interface ReadPlanPageRequest {
  plan: FileRef;
  offset: number;
  limit: number;
}

export async function readPlanPage({ plan, offset, limit }: ReadPlanPageRequest): Promise<PlanPage> {
  try {
    return await readPage(plan, offset, limit);
  } catch (err) {
    if (err instanceof InputChangedError) throw ApplicationFailure.nonRetryable(err.message, 'InputChangedError');
    throw err;
  }
}
