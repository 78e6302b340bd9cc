/**
 * The dependency check, before any delete: for each user pool of the plan,
 * find the app clients whose AllowedOAuthScopes use scopes of the resource
 * servers to delete. Cognito lets you delete such a server, and those clients
 * then silently stop getting tokens for its scopes.
 *
 * Reads every client of each pool once per run (ListUserPoolClients, then
 * DescribeUserPoolClient per client), inside the UserPoolClientRead quota of
 * the pool's account and Region (15/s, 5/s per pool and operation), pools with
 * the most items first, and writes an annotated copy of the plan where each
 * item used by clients lists them in `inUseBy`.
 *
 * It also finds the pools that do not exist (ListUserPoolClients says so: another
 * Region, another account, a typo) and returns them with their item counts, so
 * the workflow knows before any delete; and the pools whose account cannot be
 * reached (its role cannot be assumed), whose items then fail, naming the role,
 * without a call and without failing the rest of the run.
 *
 * Resumable: each pool's result is written to dependency-check/<pool>.json as
 * soon as it is known, and a retry (after a worker crash) reads those instead of
 * asking Cognito again. It heartbeats per page of clients and per client.
 *
 * Flat memory whatever the plan's size: it streams the plan twice and keeps,
 * per pool, its item count and what its clients use (not the plan's
 * identifiers); it checks `CHECKS_AT_ONCE` pools at a time, not every pool at
 * once; the in-use report is written as the items come. A 1,000,000-item plan
 * over 10,000 pools once reached 2.5 GB (docs/performance.md).
 *
 * Cancellable: a cancel (a worker shutting down, Ctrl-C in the CLI) drops the
 * calls waiting in the limiter and ends the activity within a call's time,
 * where it used to go on through every pool first.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  DescribeUserPoolClientCommand,
  ListUserPoolClientsCommand,
  type CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { accountOf, poolKey, type CleanupItem, type FileRef, type MissingPool, type RunContext, type UnreachablePool } from '../common/types';
import { planItems, writePlanFile } from '../common/plan-file';
import { dependencyCheckFile } from '../common/run-files';
import { LineFile, writeFileAtomically } from '../common/files';
import { csvField } from '../common/csv';
import { classifyCognitoError } from '../cognito/errors';
import type { CognitoAccess, CognitoTarget } from '../cognito/access';
import { isCredentialsError } from '../cognito/credentials';
import { retryCognitoCall } from '../cognito/retry';

export interface CheckDependenciesRequest {
  run: RunContext;
  plan: FileRef;
}

export interface DependencyCheckResult {
  plan: FileRef;
  /** Items whose scopes some app client uses. */
  inUse: number;
  poolsChecked: number;
  clientsChecked: number;
  /** CSV of every item in use with the clients that use it (only when some are). */
  report?: string;
  /** The first few, for the result and the CLI. */
  sample: { userPoolId: string; identifier: string; clients: string[] }[];
  /** User pools Cognito says do not exist, with how many items of the plan each holds. */
  missingPools: MissingPool[];
  /** User pools whose account could not be reached (a role that cannot be assumed), with their items and the error; absent in results recorded before accounts existed. */
  unreachablePools?: UnreachablePool[];
}

/** One pool's finished check, as kept in dependency-check/<pool>.json. */
interface PoolCheck {
  userPoolId: string;
  accountId?: string;
  missing: boolean;
  /** The account's credentials could not be had: nothing was checked. */
  unreachable?: { errorCode: string; errorMessage: string };
  clients: number;
  /**
   * identifier -> clients using it: every identifier the pool's clients have
   * scopes of (checks written before this version kept only the plan's).
   */
  users: Record<string, string[]>;
}

/**
 * Pools checked at once. Each check is a sequence of calls (ListUserPoolClients,
 * then DescribeUserPoolClient per client), at most 5/s per pool, so several
 * pools of each (account, Region) must be in flight to use its 15/s; a bounded
 * number keeps the limiter's queues (and what each waiting check holds) small.
 */
export const CHECKS_AT_ONCE = 64;

/** Items between two looks at the cancellation signal while streaming the plan. */
const ITEMS_BETWEEN_CANCEL_CHECKS = 10_000;

export interface DependencyCheckDeps {
  /** ListUserPoolClients and DescribeUserPoolClient go through it: UserPoolClientRead quota. */
  cognito: CognitoAccess;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
}

/** A pool as the check asks about it: in its item's account. */
type PoolTarget = CognitoTarget & { userPoolId: string };

/** The server identifier of a full scope `identifier/ScopeName` (scope names hold no '/'). */
export function identifierOfScope(scope: string): string | undefined {
  const slash = scope.lastIndexOf('/');
  return slash > 0 ? scope.slice(0, slash) : undefined;
}

/** The account's credentials failed: every call of the pool would. */
class Unreachable extends Error {}

export function createCheckDependencies(deps: DependencyCheckDeps) {
  /** One Cognito read, retried here on throttling and internal errors: a check spans many calls. */
  async function call<T>(
    run: RunContext,
    target: PoolTarget,
    operation: string,
    send: (client: CognitoIdentityProviderClient) => Promise<T>,
  ): Promise<T | 'absent' | 'pool-absent'> {
    const { userPoolId } = target;
    const { cancellationSignal: signal } = Context.current();
    try {
      // A cancel drops the call while it waits in the limiter.
      const options = { share: run.workflowId, signal, ...(run.accounts ? { roles: run.accounts } : {}) };
      return await retryCognitoCall(() => deps.cognito.call('UserPoolClientRead', target, send, options), {
        baseDelayMs: deps.retryBaseDelayMs,
        maxDelayMs: deps.retryMaxDelayMs,
        sleep: (ms) => Context.current().sleep(ms),
        beforeAttempt: () => Context.current().heartbeat(),
      });
    } catch (err) {
      if (signal.aborted) throw cancelled(signal);
      const error = classifyCognitoError(err);
      if (error.disposition === 'absent' || error.disposition === 'pool-absent') return error.disposition;
      if (isCredentialsError(err) && error.disposition === 'fail') throw new Unreachable(error.code, { cause: err });
      throw ApplicationFailure.nonRetryable(
        `dependency check: ${operation} on ${userPoolId} failed with ${error.code}: ${error.message}` +
          (error.disposition === 'fail' ? ' (the worker needs cognito-idp:ListUserPoolClients and cognito-idp:DescribeUserPoolClient)' : ''),
        `DependencyCheck${error.code}`,
      );
    }
  }

  /** Who uses the identifiers of one pool, or that the pool does not exist, or that its account cannot be reached. */
  async function checkPool(run: RunContext, target: PoolTarget): Promise<PoolCheck> {
    try {
      return await checkReachablePool(run, target);
    } catch (err) {
      if (!(err instanceof Unreachable)) throw err;
      const cause = err.cause as Error;
      return { ...target, missing: false, clients: 0, users: {}, unreachable: { errorCode: err.message, errorMessage: cause.message } };
    }
  }

  async function checkReachablePool(run: RunContext, target: PoolTarget): Promise<PoolCheck> {
    const { userPoolId } = target;
    const users: Record<string, string[]> = {};
    let clients = 0;
    let nextToken: string | undefined;
    do {
      const page = await call(run, target, 'ListUserPoolClients', (client) =>
        client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60, NextToken: nextToken })),
      );
      if (page === 'pool-absent') return { ...target, missing: true, clients: 0, users: {} };
      if (page === 'absent') break;
      for (const summary of page.UserPoolClients ?? []) {
        const described = await call(run, target, 'DescribeUserPoolClient', (client) =>
          client.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: summary.ClientId })),
        );
        if (described === 'pool-absent') return { ...target, missing: true, clients: 0, users: {} };
        if (described === 'absent') continue; // deleted meanwhile
        clients += 1;
        const appClient = described.UserPoolClient;
        const label = `${appClient?.ClientName ?? '?'} (${appClient?.ClientId ?? summary.ClientId})`;
        for (const scope of appClient?.AllowedOAuthScopes ?? []) {
          const identifier = identifierOfScope(scope);
          if (!identifier) continue;
          const list = users[identifier] ?? [];
          if (!list.includes(label)) list.push(label);
          users[identifier] = list;
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return { ...target, missing: false, clients, users };
  }

  /** A pool's check from an earlier attempt of this activity, or a new one (then kept for the next attempt). */
  async function checkPoolOnce(run: RunContext, target: PoolTarget): Promise<PoolCheck> {
    const file = dependencyCheckFile(run.runDir, target.accountId ? `${target.accountId}-${target.userPoolId}` : target.userPoolId);
    try {
      return JSON.parse(await readFile(file, 'utf8')) as PoolCheck;
    } catch {
      // not checked yet (or half written by a crash: the temp file never replaced it)
    }
    const check = await checkPool(run, target);
    // An unreachable account is not kept: a retry (the role fixed meanwhile) asks again.
    if (!check.unreachable) await writeFileAtomically(file, JSON.stringify(check));
    return check;
  }

  return async function checkDependencies({ run, plan }: CheckDependenciesRequest): Promise<DependencyCheckResult> {
    const { cancellationSignal: signal } = Context.current();
    // Two streaming passes over the plan: which pools to ask about (and how many items each holds), then the annotated copy.
    const pools = new Map<string, { target: PoolTarget; items: number }>();
    let read = 0;
    for await (const item of planItems(plan)) {
      if (++read % ITEMS_BETWEEN_CANCEL_CHECKS === 0 && signal.aborted) throw cancelled(signal);
      if (item.protectedBy) continue; // never deleted: no need to ask who uses it
      const accountId = accountOf(item, run.accounts);
      const key = poolKey(item.userPoolId, accountId);
      const pool = pools.get(key);
      if (pool) pool.items += 1;
      else pools.set(key, { target: { userPoolId: item.userPoolId, ...(accountId ? { accountId } : {}) }, items: 1 });
    }

    // The pools with the most items first (their deletes take longest), CHECKS_AT_ONCE at a time:
    // each (account, Region)'s limiter keeps its rates and serves the calls queued first first.
    const ordered = [...pools.values()].sort((a, b) => b.items - a.items);
    const byPool = new Map<string, PoolCheck>();
    let next = 0;
    let failed = false;
    const checker = async () => {
      try {
        // Once one check has failed the activity fails: the others take no new pool.
        while (next < ordered.length && !failed) {
          if (signal.aborted) throw cancelled(signal);
          const { target } = ordered[next++]!;
          const check = await checkPoolOnce(run, target);
          byPool.set(poolKey(check.userPoolId, check.accountId), check);
        }
      } catch (err) {
        failed = true;
        throw err;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECKS_AT_ONCE, ordered.length) }, checker));

    const missingCounts = new Map<string, { pool: PoolCheck; items: number }>();
    const unreachableCounts = new Map<string, { pool: PoolCheck; items: number }>();
    const count = (counts: typeof missingCounts, key: string, pool: PoolCheck) =>
      counts.set(key, { pool, items: (counts.get(key)?.items ?? 0) + 1 });
    const reportFile = path.join(run.runDir, 'in-use.csv');
    const report = new InUseReport(reportFile);
    async function* annotated(): AsyncGenerator<CleanupItem> {
      let annotatedItems = 0;
      for await (const item of planItems(plan)) {
        if (++annotatedItems % ITEMS_BETWEEN_CANCEL_CHECKS === 0 && signal.aborted) throw cancelled(signal);
        const key = poolKey(item.userPoolId, accountOf(item, run.accounts));
        const check = byPool.get(key);
        if (check?.missing) count(missingCounts, key, check);
        if (check?.unreachable) count(unreachableCounts, key, check);
        // A protected item is never deleted: who uses it does not matter (and was not asked before).
        const clients = item.protectedBy ? undefined : check?.users[item.identifier];
        if (!clients) {
          yield item;
          continue;
        }
        const used = { ...item, inUseBy: clients };
        await report.add(used);
        yield used;
      }
    }
    let written: Awaited<ReturnType<typeof writePlanFile>>;
    try {
      written = await writePlanFile(path.join(run.runDir, 'plan-checked.jsonl'), annotated());
    } finally {
      await report.close();
    }
    return {
      plan: { path: written.path, sha256: written.sha256 },
      inUse: report.count,
      poolsChecked: pools.size,
      clientsChecked: [...byPool.values()].reduce((n, r) => n + r.clients, 0),
      ...(report.count > 0 ? { report: reportFile } : {}),
      sample: report.sample,
      missingPools: [...missingCounts.values()].map(({ pool, items }) => ({
        userPoolId: pool.userPoolId,
        ...(pool.accountId ? { accountId: pool.accountId } : {}),
        items,
      })),
      unreachablePools: [...unreachableCounts.values()].map(({ pool, items }) => ({
        userPoolId: pool.userPoolId,
        accountId: pool.accountId!,
        items,
        errorCode: pool.unreachable!.errorCode,
        errorMessage: pool.unreachable!.errorMessage,
      })),
    };
  };
}

/** The activity's cancellation, as the SDK expects a cancelled activity to end. */
function cancelled(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('cancelled');
}

/**
 * in-use.csv, written as the items in use come (one line each, every one of
 * them), and the first few kept for the result. The file exists only when some
 * item is in use.
 */
class InUseReport {
  count = 0;
  readonly sample: DependencyCheckResult['sample'] = [];
  private out: LineFile | undefined;

  constructor(private readonly file: string) {}

  async add(item: CleanupItem & { inUseBy: string[] }): Promise<void> {
    if (!this.out) {
      this.out = new LineFile(this.file);
      await this.out.write(['userPoolId', 'identifier', 'clients'].map(csvField).join(',') + '\n');
    }
    this.count += 1;
    if (this.sample.length < 10) this.sample.push({ userPoolId: item.userPoolId, identifier: item.identifier, clients: item.inUseBy });
    await this.out.write([item.userPoolId, item.identifier, item.inUseBy.join('; ')].map(csvField).join(',') + '\n');
  }

  /** Ends the file; a retry that finds no item in use removes one an earlier attempt left. */
  async close(): Promise<void> {
    if (this.out) await this.out.close();
    else await rm(this.file, { force: true });
  }
}
