/**
 * The delete activity: reads the resource server (its definition is the backup
 * that makes a mistake undoable), writes a durable intent record, then deletes
 * it, each call through the worker's Cognito access (cognito/access.ts): the
 * limiter of its quota category in the item's account and Region, that
 * account's credentials, this run's share of the worker's budget. In a dry-run
 * it stops after the read and reports `would-delete`.
 *
 * Errors are classified in one place (cognito/errors.ts). A throttled Delete
 * is first tried again within the attempt, at the limiter's next turn for its
 * pool (a few times, each in the audit); then throttling, internal and network
 * errors are thrown as retryable ApplicationFailures with a jittered backoff,
 * so Temporal's retry policy runs every further retry, each one visible in the
 * history and the audit; hard errors end the item as `failed` at once.
 *
 * Retries are bounded by time, not by a small attempt count: the item gives up
 * once its deadline (counted from its first attempt) would pass before the next
 * try. The activity decides this itself, from the first attempt's start kept
 * in its heartbeat details, rather than through Temporal's scheduleToClose:
 * that timeout also counts the time an attempt waits in the task queue behind
 * the server-side rate limit or for a worker to come back, which is not time
 * spent trying, and it would end the item as a timeout with no audit record.
 *
 * Write-ahead: no DeleteResourceServer is sent before its `intent` record
 * (run, item, backup) is in audit.jsonl and fsync'd, and an intent marker
 * file exists. If either cannot be written, the activity fails with the
 * non-retryable `AuditUnavailable` without calling Delete; the workflow then
 * pauses itself. Once a delete went through, a failure to write about it is
 * only logged: the outcome stays `deleted`.
 *
 * Cancellation (the pause update): a waiting call leaves the limiter at once,
 * and the last check before sending Delete is for cancellation; a Delete
 * already sent is finished and reported.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  DeleteResourceServerCommand,
  DescribeResourceServerCommand,
  type ResourceServerType,
} from '@aws-sdk/client-cognito-identity-provider';
import { FAILURE_TYPES, accountOf, type CleanupItem, type ItemResult, type Outcome, type ResourceServerBackup, type RunContext } from '../common/types';
import { backupFile, intentFile } from '../common/run-files';
import { auditLogger, isWriteUnavailable, writeDurably } from './audit-log';
import { readBackup, readJournalItem } from './batch-journal';
import { classifyCognitoError, deleteMayHaveApplied, type ClassifiedError } from '../cognito/errors';
import { retryDelayMs } from '../cognito/retry';
import { createFileDurably, writeFileAtomically } from '../common/files';
import { COGNITO_CALL_DEFAULTS, RUN_DEFAULTS } from '../common/options';
import type { CallOptions, CognitoAccess, CognitoTarget } from '../cognito/access';
import type { RateSettings } from '../cognito/rate-limiter';

export interface DeleteResourceServerInput {
  run: RunContext;
  item: CleanupItem;
  /** The run's current DeleteResourceServer rates: caps on this run's share of the worker's budget, never the budget itself. */
  rates: RateSettings;
  /** After deleting, read the server again and expect it gone. */
  verify?: boolean;
  /** Stop retrying once this long has passed since the item's first attempt; default 30 minutes. */
  deadlineMs?: number;
  /** An optional cap on attempts; none by default (the deadline bounds retries). */
  maxAttempts?: number;
  /** Set when the item's first attempts ran in a shared task (activities/delete-resource-servers.ts): what they left. */
  earlier?: EarlierAttempts;
}

/** What an item's attempts in a shared task leave to the task of its own that retries it. */
export interface EarlierAttempts {
  attempts: number;
  firstAttemptAt: number;
  /** One of them sent (or was about to send) a Delete that may have applied. */
  intent: boolean;
  /** Their task's journal (activities/batch-journal.ts): the item's backup and intent, when they got that far. */
  journal?: string;
}

export interface DeleteActivityDeps {
  /** DescribeResourceServer (UserPoolResourceRead) and DeleteResourceServer (UserPoolResourceUpdate) go through it. */
  cognito: CognitoAccess;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Told about every outcome and throttled call (the worker's metrics); optional. */
  observer?: DeleteActivityObserver;
}

export interface DeleteActivityObserver {
  onOutcome(outcome: Outcome): void;
  onThrottled(operation: string): void;
}

/** Kept in the activity's heartbeat details, so every attempt of an item knows when the first one started. */
interface DeleteHeartbeat {
  firstAttemptAt: number;
}

/** The failure type that tells the workflow to pause: the run's audit cannot be written. */
export const AUDIT_UNAVAILABLE = FAILURE_TYPES.auditUnavailable;

export function auditUnavailable(what: string, err: unknown): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`cannot write ${what}: ${(err as Error)?.message ?? err}`, AUDIT_UNAVAILABLE);
}

/** Throttled Delete calls one attempt makes before it leaves the retry to Temporal's backoff. */
const THROTTLED_CALLS_PER_ATTEMPT = 4;

/** How often a running delete heartbeats: cheap (the SDK throttles the calls), and how a cancel reaches it. */
export const HEARTBEAT_EVERY_MS = 1_000;

export function createDeleteResourceServer(deps: DeleteActivityDeps) {
  const deleteItem = createItemDeleter(deps);

  return async function deleteResourceServer(input: DeleteResourceServerInput): Promise<ItemResult> {
    const context = Context.current();
    const { earlier } = input;
    // Attempts in a shared task count too: the item's attempt numbers go on from them.
    const attempt = (earlier?.attempts ?? 0) + context.info.attempt;
    // A lost heartbeat (a crash before the first one reached the server) falls
    // back to when the item was first scheduled: earlier, never later.
    const firstAttemptAt =
      (context.info.heartbeatDetails as DeleteHeartbeat | undefined)?.firstAttemptAt ??
      earlier?.firstAttemptAt ??
      (context.info.attempt === 1 ? Date.now() : context.info.scheduledTimestampMs);
    const heartbeat = () => context.heartbeat({ firstAttemptAt } satisfies DeleteHeartbeat);
    // No heartbeat at the start: most attempts end within a second, and a heartbeat is
    // a call to the server that writes the activity's state. A retry learns the first
    // attempt's start from the heartbeat sent just before a retryable failure.
    const heartbeats = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
    heartbeats.unref();
    try {
      return await deleteItem({
        input,
        attempt,
        firstAttemptAt,
        signal: context.cancellationSignal,
        heartbeat,
        log: context.log,
        files: await ownFiles(input),
      });
    } finally {
      clearInterval(heartbeats);
    }
  };
}

/** One try of one item: what the activity around it (a task of its own, or one shared with other items) gives it. */
export interface ItemAttempt {
  input: DeleteResourceServerInput;
  /** The item's attempt number (1 for its first). */
  attempt: number;
  firstAttemptAt: number;
  signal: AbortSignal;
  /** Sent just before a retryable failure: the next attempt reads firstAttemptAt from it. */
  heartbeat(): void;
  log: { error(message: string, meta?: Record<string, unknown>): void };
  files: ItemFiles;
}

/** Where the item's backup and intent marker are kept: files of its own, or its shared task's journal. */
export interface ItemFiles {
  /** An earlier attempt of this run sent (or was about to send) a Delete that may have applied. */
  earlierIntent: boolean;
  /** This run's backup of the item, kept by an earlier attempt. */
  backup(): Promise<ResourceServerBackup | undefined>;
  writeBackup(backup: ResourceServerBackup): Promise<void>;
  /** The marker a retry checks; durable when it resolves. Called only without an earlier intent. */
  writeIntent(bindings: Record<string, unknown>): Promise<void>;
  /** This attempt's marker, when its Delete certainly did not apply (or was never sent). */
  withdrawIntent(): Promise<void>;
  /** The journal the item's result names, so its backup can be found (activities/batch-journal.ts). */
  journal(): string | undefined;
}

/** The files of an item that has a task of its own; a shared task that tried it first left its backup and intent in its journal. */
async function ownFiles({ run, item, earlier }: DeleteResourceServerInput): Promise<ItemFiles> {
  const intentPath = intentFile(run.runDir, item.userPoolId, item.identifier);
  const journaled = earlier?.journal ? await readJournalItem(run.runDir, earlier.journal, item) : undefined;
  let journal = journaled?.backup ? earlier?.journal : undefined;
  return {
    // Set before this attempt: an earlier attempt of this run may have deleted the item.
    earlierIntent: run.execute && (earlier?.intent === true || journaled?.intent === true || existsSync(intentPath)),
    backup: async () => (await readBackup(run.runDir, item)) ?? journaled?.backup,
    writeBackup: async (backup) => {
      journal = undefined;
      await writeFileAtomically(backupFile(run.runDir, item.userPoolId, item.identifier), JSON.stringify(backup));
    },
    writeIntent: (bindings) => createFileDurably(intentPath, JSON.stringify({ ...bindings, at: new Date().toISOString() })),
    withdrawIntent: () => rm(intentPath, { force: true }),
    journal: () => journal,
  };
}

/**
 * The work of one attempt on one item: read (the backup), write the intent,
 * delete, and the audit records of each step. Throws a retryable
 * ApplicationFailure (with its delay) to have the item tried again,
 * AuditUnavailable when the run's files cannot be written, and CancelledFailure
 * when cancelled before its Delete was sent.
 */
export function createItemDeleter(deps: DeleteActivityDeps) {
  const baseMs = deps.retryBaseDelayMs ?? COGNITO_CALL_DEFAULTS.retryBaseDelayMs;
  const maxMs = deps.retryMaxDelayMs ?? COGNITO_CALL_DEFAULTS.retryMaxDelayMs;

  return async function deleteItem({ input, attempt, firstAttemptAt, signal, heartbeat, log, files }: ItemAttempt): Promise<ItemResult> {
    const { run, item, rates, verify } = input;
    const startedAt = Date.now();
    const deadlineMs = input.deadlineMs ?? RUN_DEFAULTS.itemDeadlineMinutes * 60_000;
    const accountId = accountOf(item, run.accounts);
    const target: CognitoTarget & { userPoolId: string } = { userPoolId: item.userPoolId, ...(accountId ? { accountId } : {}) };
    // This run's share of the worker's budget for the item's (account, Region), and the run's roles.
    const calls: CallOptions = { share: run.workflowId, signal, ...(run.accounts ? { roles: run.accounts } : {}) };
    const bindings = {
      workflowId: run.workflowId,
      runId: run.runId,
      userPoolId: item.userPoolId,
      identifier: item.identifier,
      ...(accountId ? { accountId } : {}),
      row: item.row,
      ...(item.extra ? { extra: item.extra } : {}),
      // Deleted although app clients use it (--in-use delete): the audit names them.
      ...(item.inUseBy ? { inUseBy: item.inUseBy } : {}),
      attempt,
      dryRun: !run.execute,
    };
    // Records that are not a precondition of a delete: a failure to write one
    // is logged to the worker's log and never changes what happened.
    const note = (level: 'info' | 'warn' | 'error', record: Record<string, unknown>, msg: string) => {
      try {
        auditLogger(run.runDir).child({ event: 'attempt', ...bindings })[level](record, msg);
      } catch (err) {
        log.error('could not write an audit record', { ...bindings, record: msg, error: (err as Error).message });
      }
    };
    const result = (outcome: Outcome, extra: Partial<ItemResult> = {}): ItemResult => {
      deps.observer?.onOutcome(outcome);
      return {
        userPoolId: item.userPoolId,
        identifier: item.identifier,
        ...(accountId ? { accountId } : {}),
        row: item.row,
        ...(item.extra ? { extra: item.extra } : {}),
        outcome,
        attempts: attempt,
        finishedAt: new Date().toISOString(),
        ...extra,
        ...(files.journal() && (outcome === 'deleted' || outcome === 'would-delete') ? { journal: files.journal() } : {}),
      };
    };
    const elapsed = () => ({ startedAt: new Date(startedAt).toISOString(), durationMs: Date.now() - startedAt });
    const cancelled = () => (signal.reason instanceof Error ? signal.reason : new CancelledFailure('cancelled'));

    const { earlierIntent } = files;

    // The limiter saw the throttled answer itself (cognito/rate-limiter.ts); the metrics count it here.
    const onError = (error: ClassifiedError, operation: string): ItemResult => {
      if (error.throttled) deps.observer?.onThrottled(operation);
      const fields = {
        operation,
        errorCode: error.code,
        errorMessage: error.message,
        requestId: error.requestId,
        httpStatus: error.httpStatus,
        ...elapsed(),
      };
      if (error.disposition === 'pool-absent' && operation === 'DeleteResourceServer' && earlierIntent) {
        // The pool is gone now, and with it the server, which an earlier attempt of this run had sent a delete for.
        const reason = 'absent on retry: an earlier attempt of this run sent the delete and its answer was lost; the user pool is gone now too';
        note('info', { ...fields, outcome: 'deleted', reason }, 'deleted');
        return result('deleted', { requestId: error.requestId, reason });
      }
      if (error.disposition === 'pool-absent') {
        const reason = `user pool ${item.userPoolId} does not exist (as asked: its Region, these credentials)`;
        note('error', { ...fields, outcome: 'pool-not-found', reason }, `${operation}: the user pool does not exist`);
        return result('pool-not-found', { reason, errorCode: error.code, errorMessage: error.message, requestId: error.requestId });
      }
      if (error.disposition === 'retry') {
        const nextRetryDelay = retryDelayMs(attempt, baseMs, maxMs);
        const triedMs = Date.now() - firstAttemptAt;
        const capped = input.maxAttempts !== undefined && attempt >= input.maxAttempts;
        if (capped || triedMs + nextRetryDelay > deadlineMs) {
          const reason = capped
            ? `gave up after ${attempt} attempts (--max-attempts ${input.maxAttempts})`
            : `gave up after ${attempt} attempts in ${Math.round(triedMs / 1000)} s (item deadline ${Math.round(deadlineMs / 60_000)} min)`;
          note('error', { ...fields, outcome: 'failed', reason }, `${operation} ${error.code}; ${reason}`);
          return result('failed', { reason, errorCode: error.code, errorMessage: error.message, requestId: error.requestId });
        }
        note('warn', { ...fields, outcome: 'retrying', nextRetryDelayMs: nextRetryDelay }, `${operation} ${error.code}; retrying`);
        heartbeat(); // delivered before the failure: the next attempt reads firstAttemptAt from it
        throw ApplicationFailure.create({
          type: error.code,
          message: `${operation} ${item.userPoolId} ${item.identifier}: ${error.message}`,
          nextRetryDelay,
          details: [{ requestId: error.requestId, httpStatus: error.httpStatus }],
        });
      }
      note('error', { ...fields, outcome: 'failed' }, `${operation} failed: ${error.code}`);
      return result('failed', { errorCode: error.code, errorMessage: error.message, requestId: error.requestId });
    };

    try {
      // A retry with this run's backup goes straight to Delete: the backup is
      // what the read was for, and a storm makes every extra call costly. A first
      // attempt without an intent marker reads the server anyway, so it does not
      // look for a backup (most items: no failed open per item).
      let backup = run.execute && (attempt > 1 || earlierIntent) ? await files.backup() : undefined;
      let describeRequestId: string | undefined;
      if (!backup) {
        try {
          // From a listing of the pool at most 10 s old, or DescribeResourceServer (cognito/server-reader.ts).
          const read = await deps.cognito.servers.read(target, item.identifier, calls);
          backup = toBackup(item, read.server, accountId);
          describeRequestId = read.requestId;
        } catch (err) {
          if (signal.aborted) throw cancelled();
          const error = classifyCognitoError(err);
          if (error.disposition !== 'absent') return onError(error, 'DescribeResourceServer');
          note('info', { operation: 'DescribeResourceServer', outcome: 'already-absent', requestId: error.requestId, ...elapsed() }, 'already-absent');
          return result('already-absent', { requestId: error.requestId });
        }
        try {
          await files.writeBackup(backup);
        } catch (err) {
          if (!run.execute) log.error('could not write a backup', { ...bindings, error: (err as Error).message });
          else throw auditUnavailable(`the backup of ${item.identifier}`, err);
        }
      }
      if (!run.execute) {
        note('info', { operation: 'DescribeResourceServer', outcome: 'would-delete', requestId: describeRequestId, backup, ...elapsed() }, 'would delete');
        return result('would-delete', { requestId: describeRequestId });
      }

      let intentWritten = false;
      try {
        const sendDelete = () =>
          deps.cognito.call(
            'UserPoolResourceUpdate',
            target,
            async (client) => {
              // The last moment to honour a pause: after this the Delete is sent and finished.
              if (signal.aborted) throw cancelled();
              await writeIntent(run, bindings, backup!, files);
              intentWritten = true;
              return client.send(new DeleteResourceServerCommand({ UserPoolId: item.userPoolId, Identifier: item.identifier }));
            },
            { ...calls, caps: rates },
          );
        let deleted: Awaited<ReturnType<typeof sendDelete>> | undefined;
        // A throttled Delete is tried again at the limiter's next turn for its pool, within this attempt: the
        // limiter has already slowed down if it was congestion, and waiting out Temporal's backoff (1 s, 2 s, ...)
        // left the items throttled last alone at the end of a run. Each throttled call has its own audit record;
        // after a few in a row, or with --max-attempts (which counts attempts), Temporal retries as before.
        for (let call = 1; deleted === undefined; call++) {
          try {
            deleted = await sendDelete();
          } catch (err) {
            const error = classifyCognitoError(err);
            const triedMs = Date.now() - firstAttemptAt;
            const again =
              error.throttled &&
              error.httpStatus !== undefined &&
              !deleteMayHaveApplied(error) &&
              call < THROTTLED_CALLS_PER_ATTEMPT &&
              input.maxAttempts === undefined &&
              triedMs < deadlineMs &&
              !signal.aborted;
            if (!again) throw err;
            // Refused: nothing was deleted, so the intent no longer claims a possible delete (the next call writes its own).
            if (intentWritten && !earlierIntent) await files.withdrawIntent().catch(() => undefined);
            intentWritten = false;
            deps.observer?.onThrottled('DeleteResourceServer');
            note(
              'warn',
              {
                operation: 'DeleteResourceServer',
                errorCode: error.code,
                errorMessage: error.message,
                requestId: error.requestId,
                httpStatus: error.httpStatus,
                ...elapsed(),
                outcome: 'retrying',
                call,
                nextRetryDelayMs: 0,
              },
              `DeleteResourceServer ${error.code}; retrying at the limiter's next turn`,
            );
          }
        }
        const requestId = deleted.$metadata.requestId;
        let verified = 'verified absent after delete';
        if (verify) {
          try {
            await deps.cognito.call(
              'UserPoolResourceRead',
              target,
              (client) => client.send(new DescribeResourceServerCommand({ UserPoolId: item.userPoolId, Identifier: item.identifier })),
              { share: run.workflowId, ...(run.accounts ? { roles: run.accounts } : {}) },
            );
            const message = 'DeleteResourceServer succeeded but the server can still be read';
            note('error', { operation: 'DescribeResourceServer', outcome: 'failed', reason: 'still-present', requestId, ...elapsed() }, message);
            return result('failed', { requestId, reason: 'still-present', errorCode: 'StillPresent', errorMessage: message });
          } catch (err) {
            const error = classifyCognitoError(err);
            // A retry goes straight to Delete, finds it absent and, with this run's intent, reports it deleted.
            if (error.disposition === 'retry') return onError(error, 'DescribeResourceServer');
            if (error.disposition === 'fail') verified = `deleted, but the check read failed: ${error.code}`;
          }
        }
        note('info', { operation: 'DeleteResourceServer', outcome: 'deleted', requestId, verified: verify === true, backup, ...elapsed() }, 'deleted');
        return result('deleted', { requestId, ...(verify ? { reason: verified } : {}) });
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === AUDIT_UNAVAILABLE) throw err;
        if (!intentWritten && signal.aborted) throw cancelled();
        const error = classifyCognitoError(err);
        if (error.disposition === 'absent') {
          if (earlierIntent) {
            const reason = 'absent on retry: an earlier attempt of this run sent the delete and its answer was lost';
            note('info', { operation: 'DeleteResourceServer', outcome: 'deleted', reason, requestId: error.requestId, backup, ...elapsed() }, 'deleted');
            return result('deleted', { requestId: error.requestId, reason });
          }
          note('info', { operation: 'DeleteResourceServer', outcome: 'already-absent', requestId: error.requestId, backup, ...elapsed() }, 'already absent');
          return result('already-absent', { requestId: error.requestId, reason: 'deleted by someone else after it was read' });
        }
        // This attempt's delete certainly did not apply: its intent no longer claims a possible delete.
        if (intentWritten && !earlierIntent && !deleteMayHaveApplied(error)) await files.withdrawIntent().catch(() => undefined);
        return onError(error, 'DeleteResourceServer');
      }
    } catch (err) {
      // The backup or intent could not be written for a reason of the disk's (full, read-only): pause, do not fail.
      if (!(err instanceof ApplicationFailure || err instanceof CancelledFailure) && isWriteUnavailable(err)) {
        throw auditUnavailable(`the run's files for ${item.identifier}`, err);
      }
      throw err;
    }
  };
}

/**
 * The write-ahead record of one DeleteResourceServer: an `intent` line in
 * audit.jsonl, fsync'd, then the marker file a retry checks. Throws
 * AuditUnavailable when either cannot be written.
 */
async function writeIntent(run: RunContext, bindings: Record<string, unknown>, backup: ResourceServerBackup, files: ItemFiles): Promise<void> {
  try {
    // The line is in the file when writeDurably returns; its fsync and the marker's run together.
    const durable = writeDurably(run.runDir, { event: 'intent', ...bindings }, { operation: 'DeleteResourceServer', backup }, 'about to delete');
    const marker = files.earlierIntent ? undefined : files.writeIntent(bindings);
    const written = await Promise.allSettled([durable, marker]);
    const failed = written.find((settled) => settled.status === 'rejected');
    if (failed) {
      // No Delete is sent: a marker of this attempt must not claim one.
      if (marker) await files.withdrawIntent().catch(() => undefined);
      throw failed.reason;
    }
  } catch (err) {
    throw auditUnavailable('the intent record (audit.jsonl)', err);
  }
}

function toBackup(item: CleanupItem, server: ResourceServerType | undefined, accountId: string | undefined): ResourceServerBackup {
  return {
    userPoolId: server?.UserPoolId ?? item.userPoolId,
    identifier: server?.Identifier ?? item.identifier,
    ...(accountId ? { accountId } : {}),
    name: server?.Name ?? '',
    scopes: (server?.Scopes ?? []).map((s) => ({ ScopeName: s.ScopeName ?? '', ScopeDescription: s.ScopeDescription ?? '' })),
  };
}
