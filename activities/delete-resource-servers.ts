/**
 * The shared delete task: the first attempt of several items of one account
 * and Region in one activity task, each item exactly as in a task of its own
 * (activities/delete-resource-server.ts: its backup read, its durable intent,
 * its own limiter turn and audit records), side by side.
 *
 * Why: a task costs the Temporal server and the worker about 10-15 ms of CPU
 * whatever it does, many times a delete's own cost. The workflow shares a
 * task between items only when the run's rate is above what one task per item
 * keeps up with (common/options.ts `itemsPerDeleteTask`); at Cognito's quota
 * every item keeps a task of its own.
 *
 * Only the first attempt is shared. An item that must be tried again comes
 * back to the workflow (`retry`, with the delay its error asks for), which
 * retries it in a task of its own that goes on from this attempt (its attempt
 * count, the first attempt's start for the deadline, whether a Delete may
 * have applied, where its backup is); so do items held by a pause or by an
 * audit that cannot be written (`held`). A retry of the task itself (its
 * worker died) reads the task's journal (activities/batch-journal.ts): items
 * finished before are not tried again, and items whose Delete was sent are
 * known to be this run's deletes.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { CleanupItem, ItemResult } from '../common/types';
import { COGNITO_CALL_DEFAULTS } from '../common/options';
import { retryDelayMs } from '../cognito/retry';
import { isWriteUnavailable } from './audit-log';
import { BatchJournal } from './batch-journal';
import {
  AUDIT_UNAVAILABLE,
  HEARTBEAT_EVERY_MS,
  auditUnavailable,
  createItemDeleter,
  type DeleteActivityDeps,
  type DeleteResourceServerInput,
  type EarlierAttempts,
  type ItemFiles,
} from './delete-resource-server';

export interface DeleteResourceServersInput extends Omit<DeleteResourceServerInput, 'item' | 'earlier'> {
  /** Items of one account and Region (one fairness key). */
  items: CleanupItem[];
  /** The task's journal, named by the workflow (common/types.ts `sharedTaskJournal`). */
  journal: string;
}

/** What became of each item of a shared task, in the order of its items. */
export type SharedTaskOutcome =
  | { kind: 'done'; result: ItemResult }
  /** To be tried again in a task of its own after `delayMs`. */
  | { kind: 'retry'; earlier: EarlierAttempts; delayMs: number; errorCode: string; message: string }
  /** Not tried to the end: a pause cancelled it before its Delete was sent, or the audit cannot be written (`auditUnavailable`). */
  | { kind: 'held'; earlier: EarlierAttempts; auditUnavailable?: string };

interface SharedTaskHeartbeat {
  firstAttemptAt: number;
}

export function createDeleteResourceServers(deps: DeleteActivityDeps) {
  const deleteItem = createItemDeleter(deps);
  const baseMs = deps.retryBaseDelayMs ?? COGNITO_CALL_DEFAULTS.retryBaseDelayMs;
  const maxMs = deps.retryMaxDelayMs ?? COGNITO_CALL_DEFAULTS.retryMaxDelayMs;

  return async function deleteResourceServers(input: DeleteResourceServersInput): Promise<SharedTaskOutcome[]> {
    const { items, journal: journalName, ...shared } = input;
    const { run } = shared;
    const context = Context.current();
    const { attempt } = context.info;
    const signal = context.cancellationSignal;
    const firstAttemptAt =
      (context.info.heartbeatDetails as SharedTaskHeartbeat | undefined)?.firstAttemptAt ??
      (attempt === 1 ? Date.now() : context.info.scheduledTimestampMs);
    // Heartbeats carry the first attempt's start to a retry of the task, and are how a cancel reaches it.
    const heartbeat = () => context.heartbeat({ firstAttemptAt } satisfies SharedTaskHeartbeat);
    const heartbeats = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
    heartbeats.unref();

    let journal: BatchJournal;
    try {
      journal = await BatchJournal.open(run.runDir, journalName);
    } catch (err) {
      clearInterval(heartbeats);
      if (isWriteUnavailable(err)) throw auditUnavailable('the journal of a delete task', err);
      throw ApplicationFailure.nonRetryable(`cannot read the journal of a delete task: ${(err as Error).message}`, 'JournalUnreadable');
    }

    const earlier = (item: CleanupItem): EarlierAttempts => ({
      attempts: attempt,
      firstAttemptAt,
      intent: run.execute && journal.hasIntent(item),
      journal: journal.name,
    });
    const deleteOne = async (item: CleanupItem): Promise<SharedTaskOutcome> => {
      const recorded = journal.result(item);
      if (recorded) return { kind: 'done', result: recorded };
      const files: ItemFiles = {
        earlierIntent: run.execute && journal.hasIntent(item),
        backup: async () => journal.backup(item),
        writeBackup: async (backup) => journal.writeBackup(item, backup),
        writeIntent: () => journal.writeIntent(item),
        withdrawIntent: async () => journal.withdrawIntent(item),
        journal: () => (journal.backup(item) ? journal.name : undefined),
      };
      try {
        const result = await deleteItem({
          input: { ...shared, item },
          attempt,
          firstAttemptAt,
          signal,
          // The item's retry learns the first attempt's start from this task's result, not from a heartbeat.
          heartbeat: () => undefined,
          log: context.log,
          files,
        });
        try {
          journal.writeResult(result);
        } catch {
          // Only a retry of this task needs it, and it finds the item's intent instead.
        }
        return { kind: 'done', result };
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === AUDIT_UNAVAILABLE) {
          return { kind: 'held', earlier: earlier(item), auditUnavailable: err.message };
        }
        if (err instanceof CancelledFailure || (signal.aborted && !(err instanceof ApplicationFailure))) {
          return { kind: 'held', earlier: earlier(item) };
        }
        const failure = err instanceof ApplicationFailure ? err : undefined;
        const delay = failure?.nextRetryDelay;
        return {
          kind: 'retry',
          earlier: earlier(item),
          delayMs: typeof delay === 'number' ? delay : retryDelayMs(attempt, baseMs, maxMs),
          errorCode: failure?.type ?? (err as Error)?.name ?? 'Error',
          message: String((err as Error)?.message ?? err),
        };
      }
    };

    try {
      return await Promise.all(items.map(deleteOne));
    } finally {
      clearInterval(heartbeats);
      journal.close();
    }
  };
}
