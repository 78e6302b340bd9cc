/**
 * The limit that holds across ALL workers of the deletes queue, enforced by
 * the Temporal server.
 *
 * With task-queue fairness (Temporal Server 1.28+; self-hosted servers need the
 * dynamic config `matching.enableFairness=true`, Temporal Cloud enables it per
 * namespace), every delete activity carries the fairness key of its account and
 * Region (workflows/cleanup.ts) and the server dispatches each key at most
 * `fairness-key rate` per second, however many workers poll: two Regions (or
 * accounts) do not share one limit, as Cognito's quotas do not.
 *
 * Without fairness (an older server, a namespace where it is not enabled, or
 * RS_CLEANUP_FAIRNESS=off), the worker falls back to one queue-wide limit
 * (`maxTaskQueueActivitiesPerSecond`) at a share of one key's rate, and says so.
 *
 * The server accepts the fairness setting whether or not fairness is enabled
 * (a 1.29 server without `matching.enableFairness` stores it and ignores it), so
 * only a server that refuses the call is detected; docs/deployment.md says how
 * to turn fairness on, and when to set RS_CLEANUP_FAIRNESS=off.
 */
import type { NativeConnection } from '@temporalio/worker';

/** TASK_QUEUE_TYPE_ACTIVITY (@temporalio/proto is not a direct dependency). */
const ACTIVITY_TASK_QUEUE = 2;

export interface DeleteQueueLimitOptions {
  /** Per (account, Region) across all workers: the deletes queue's fairness-key rate limit; false = queue-wide only. */
  fairnessKeyRate: number | false;
  /** The queue-wide limit when fairness is off or refused. */
  queueRate: number;
}

export type DeleteQueueLimit =
  | { mode: 'fairness-keys'; keyRate: number }
  | { mode: 'queue-wide'; rate: number; reason: string };

/**
 * Sets the deletes queue's fairness-key rate limit on the server; returns the
 * queue-wide fallback, with the reason, when fairness is off or refused.
 */
export async function setDeleteQueueLimit(
  connection: NativeConnection,
  namespace: string,
  deleteTaskQueue: string,
  options: DeleteQueueLimitOptions,
): Promise<DeleteQueueLimit> {
  if (options.fairnessKeyRate === false) {
    return { mode: 'queue-wide', rate: options.queueRate, reason: 'fairness is turned off (RS_CLEANUP_FAIRNESS=off)' };
  }
  try {
    await connection.workflowService.updateTaskQueueConfig({
      namespace,
      identity: `rs-cleanup worker ${process.pid}`,
      taskQueue: deleteTaskQueue,
      taskQueueType: ACTIVITY_TASK_QUEUE,
      updateFairnessKeyRateLimitDefault: {
        rateLimit: { requestsPerSecond: options.fairnessKeyRate },
        reason: 'rs-cleanup: DeleteResourceServer calls per second per AWS account and Region, across all workers',
      },
    });
    return { mode: 'fairness-keys', keyRate: options.fairnessKeyRate };
  } catch (err) {
    return {
      mode: 'queue-wide',
      rate: options.queueRate,
      reason: `the Temporal server refused the fairness-key rate limit (${(err as Error).message.split('\n')[0]})`,
    };
  }
}
