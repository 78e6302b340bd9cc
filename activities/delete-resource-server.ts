/**
 * The delete activity: reads the resource server (its definition is the backup
 * that makes a mistake undoable), then deletes it, each call inside the worker's
 * rate limiters. In a dry-run it stops after the read and reports `would-delete`.
 *
 * Errors are classified in one place (classify-cognito-error). Throttling and
 * internal errors are thrown as retryable ApplicationFailures with a jittered
 * backoff, so Temporal's retry policy owns every retry; hard errors end the item
 * as `failed` at once.
 */
import { existsSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  DeleteResourceServerCommand,
  DescribeResourceServerCommand,
  type ResourceServerType,
} from '@aws-sdk/client-cognito-identity-provider';
import type { CleanupItem, ItemResult, Outcome, ResourceServerBackup, RunContext } from '../common/types';
import { backupFile } from '../common/run-files';
import { auditLogger } from './audit-log';
import { classifyCognitoError, type ClassifiedError } from '../cognito/errors';
import { retryDelayMs } from '../cognito/retry';
import { writeFileAtomically } from '../common/files';
import { COGNITO_CALL_DEFAULTS } from '../common/options';
import type { CognitoClients } from '../cognito/clients';
import type { CognitoRateLimiter, RateSettings } from '../cognito/rate-limiter';

export interface DeleteResourceServerInput {
  run: RunContext;
  item: CleanupItem;
  /** The run's current DeleteResourceServer rates; the worker's limiter follows them. */
  rates: RateSettings;
  /** After deleting, read the server again and expect it gone. */
  verify?: boolean;
}

export interface DeleteActivityDeps {
  clients: CognitoClients;
  /** DescribeResourceServer: UserPoolResourceRead quota. */
  readLimiter: CognitoRateLimiter;
  /** DeleteResourceServer: UserPoolResourceUpdate quota. */
  deleteLimiter: CognitoRateLimiter;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Told about every outcome and throttled call (the worker's metrics); optional. */
  observer?: DeleteActivityObserver;
}

export interface DeleteActivityObserver {
  onOutcome(outcome: Outcome): void;
  onThrottled(operation: string): void;
}

export function createDeleteResourceServer(deps: DeleteActivityDeps) {
  const baseMs = deps.retryBaseDelayMs ?? COGNITO_CALL_DEFAULTS.retryBaseDelayMs;
  const maxMs = deps.retryMaxDelayMs ?? COGNITO_CALL_DEFAULTS.retryMaxDelayMs;

  return async function deleteResourceServer({ run, item, rates, verify }: DeleteResourceServerInput): Promise<ItemResult> {
    const context = Context.current();
    const attempt = context.info.attempt;
    const startedAt = Date.now();
    const client = deps.clients.forUserPool(item.userPoolId);
    const audit = auditLogger(run.runDir).child({
      event: 'attempt',
      workflowId: run.workflowId,
      runId: run.runId,
      userPoolId: item.userPoolId,
      identifier: item.identifier,
      row: item.row,
      ...(item.extra ? { extra: item.extra } : {}),
      // Deleted although app clients use it (--in-use delete): the audit names them.
      ...(item.inUseBy ? { inUseBy: item.inUseBy } : {}),
      attempt,
      dryRun: !run.execute,
    });
    deps.deleteLimiter.setRates(rates);
    // Waiting in the limiter can take a while; heartbeats let Temporal notice a
    // crashed worker within the heartbeat timeout instead of the start-to-close one.
    const heartbeatEveryMs = Math.min(5_000, (context.info.heartbeatTimeoutMs ?? 30_000) / 3);
    const heartbeat = setInterval(() => context.heartbeat(), heartbeatEveryMs);
    heartbeat.unref();

    const result = (outcome: Outcome, extra: Partial<ItemResult> = {}): ItemResult => {
      deps.observer?.onOutcome(outcome);
      return {
        userPoolId: item.userPoolId,
        identifier: item.identifier,
        row: item.row,
        ...(item.extra ? { extra: item.extra } : {}),
        outcome,
        attempts: attempt,
        finishedAt: new Date().toISOString(),
        ...extra,
      };
    };
    const elapsed = () => ({ startedAt: new Date(startedAt).toISOString(), durationMs: Date.now() - startedAt });

    const onError = (error: ClassifiedError, operation: string, limiter: CognitoRateLimiter): ItemResult => {
      if (error.throttled) {
        limiter.reportThrottled();
        deps.observer?.onThrottled(operation);
      }
      const fields = {
        operation,
        errorCode: error.code,
        errorMessage: error.message,
        requestId: error.requestId,
        httpStatus: error.httpStatus,
        ...elapsed(),
      };
      if (error.disposition === 'retry') {
        const nextRetryDelay = retryDelayMs(attempt, baseMs, maxMs);
        audit.warn({ ...fields, outcome: 'retrying', nextRetryDelayMs: nextRetryDelay }, `${operation} ${error.code}; retrying`);
        throw ApplicationFailure.create({
          type: error.code,
          message: `${operation} ${item.userPoolId} ${item.identifier}: ${error.message}`,
          nextRetryDelay,
          details: [{ requestId: error.requestId, httpStatus: error.httpStatus }],
        });
      }
      audit.error({ ...fields, outcome: 'failed' }, `${operation} failed: ${error.code}`);
      return result('failed', { errorCode: error.code, errorMessage: error.message, requestId: error.requestId });
    };

    try {
      const backupPath = backupFile(run.runDir, item.userPoolId, item.identifier);
      let backup: ResourceServerBackup;
      let describeRequestId: string | undefined;
      try {
        const described = await deps.readLimiter.schedule(item.userPoolId, () =>
          client.send(new DescribeResourceServerCommand({ UserPoolId: item.userPoolId, Identifier: item.identifier })),
        );
        backup = toBackup(item, described.ResourceServer);
        describeRequestId = described.$metadata.requestId;
      } catch (err) {
        const error = classifyCognitoError(err);
        if (error.disposition !== 'absent') return onError(error, 'DescribeResourceServer', deps.readLimiter);
        // An earlier attempt of this run read the server (the backup exists) and it
        // is gone now: that attempt's delete went through but its answer was lost
        // (a worker crash or a dropped connection).
        const deletedEarlier = run.execute && attempt > 1 && existsSync(backupPath);
        const outcome: Outcome = deletedEarlier ? 'deleted' : 'already-absent';
        const reason = deletedEarlier ? 'absent on retry after an earlier attempt of this run read it' : undefined;
        audit.info({ operation: 'DescribeResourceServer', outcome, reason, requestId: error.requestId, ...elapsed() }, outcome);
        return result(outcome, { requestId: error.requestId, ...(reason ? { reason } : {}) });
      }

      await writeFileAtomically(backupPath, JSON.stringify(backup));
      if (!run.execute) {
        const requestId = describeRequestId;
        audit.info({ operation: 'DescribeResourceServer', outcome: 'would-delete', requestId, backup, ...elapsed() }, 'would delete');
        return result('would-delete', { requestId });
      }

      try {
        const deleted = await deps.deleteLimiter.schedule(item.userPoolId, () =>
          client.send(new DeleteResourceServerCommand({ UserPoolId: item.userPoolId, Identifier: item.identifier })),
        );
        const requestId = deleted.$metadata.requestId;
        let verified = 'verified absent after delete';
        if (verify) {
          try {
            await deps.readLimiter.schedule(item.userPoolId, () =>
              client.send(new DescribeResourceServerCommand({ UserPoolId: item.userPoolId, Identifier: item.identifier })),
            );
            const message = 'DeleteResourceServer succeeded but the server can still be read';
            audit.error({ operation: 'DescribeResourceServer', outcome: 'failed', reason: 'still-present', requestId, ...elapsed() }, message);
            return result('failed', { requestId, reason: 'still-present', errorCode: 'StillPresent', errorMessage: message });
          } catch (err) {
            const error = classifyCognitoError(err);
            // A retry reads it again first, finds it absent and reports it deleted.
            if (error.disposition === 'retry') return onError(error, 'DescribeResourceServer', deps.readLimiter);
            if (error.disposition === 'fail') verified = `deleted, but the check read failed: ${error.code}`;
          }
        }
        audit.info({ operation: 'DeleteResourceServer', outcome: 'deleted', requestId, verified: verify === true, backup, ...elapsed() }, 'deleted');
        return result('deleted', { requestId, ...(verify ? { reason: verified } : {}) });
      } catch (err) {
        const error = classifyCognitoError(err);
        if (error.disposition === 'absent') {
          // Someone else deleted it between our read and our delete.
          audit.info({ operation: 'DeleteResourceServer', outcome: 'already-absent', requestId: error.requestId, backup, ...elapsed() }, 'already absent');
          return result('already-absent', { requestId: error.requestId, reason: 'deleted by someone else after it was read' });
        }
        return onError(error, 'DeleteResourceServer', deps.deleteLimiter);
      }
    } finally {
      clearInterval(heartbeat);
    }
  };
}

function toBackup(item: CleanupItem, server: ResourceServerType | undefined): ResourceServerBackup {
  return {
    userPoolId: server?.UserPoolId ?? item.userPoolId,
    identifier: server?.Identifier ?? item.identifier,
    name: server?.Name ?? '',
    scopes: (server?.Scopes ?? []).map((s) => ({ ScopeName: s.ScopeName ?? '', ScopeDescription: s.ScopeDescription ?? '' })),
  };
}
