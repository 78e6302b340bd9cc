/**
 * The dependency check, before any delete: for each user pool of the plan,
 * find the app clients whose AllowedOAuthScopes use scopes of the resource
 * servers to delete. Cognito lets you delete such a server, and those clients
 * then silently stop getting tokens for its scopes.
 *
 * Reads every client of each pool once per run (ListUserPoolClients, then
 * DescribeUserPoolClient per client), inside the UserPoolClientRead quota
 * (15/s per account, 5/s per pool and operation), and writes an annotated copy
 * of the plan where each item used by clients lists them in `inUseBy`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  DescribeUserPoolClientCommand,
  ListUserPoolClientsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { CleanupItem, FileRef, RunContext } from '../common/types';
import { planItems, writePlanFile } from '../common/plan-file';
import { toCsv } from '../common/csv';
import { classifyCognitoError } from '../cognito/errors';
import type { CognitoClients } from '../cognito/clients';
import type { CognitoRateLimiter } from '../cognito/rate-limiter';
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
}

export interface DependencyCheckDeps {
  clients: CognitoClients;
  /** ListUserPoolClients and DescribeUserPoolClient: UserPoolClientRead quota. */
  clientReadLimiter: CognitoRateLimiter;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
}

/** The server identifier of a full scope `identifier/ScopeName` (scope names hold no '/'). */
export function identifierOfScope(scope: string): string | undefined {
  const slash = scope.lastIndexOf('/');
  return slash > 0 ? scope.slice(0, slash) : undefined;
}

export function createCheckDependencies(deps: DependencyCheckDeps) {
  /** One Cognito read, retried here on throttling and internal errors: a check spans many calls. */
  async function call<T>(userPoolId: string, operation: string, send: () => Promise<T>): Promise<T | 'absent'> {
    try {
      return await retryCognitoCall(() => deps.clientReadLimiter.schedule(userPoolId, send), {
        limiter: deps.clientReadLimiter,
        baseDelayMs: deps.retryBaseDelayMs,
        maxDelayMs: deps.retryMaxDelayMs,
        sleep: (ms) => Context.current().sleep(ms),
        beforeAttempt: () => Context.current().heartbeat({ userPoolId, operation }),
      });
    } catch (err) {
      const error = classifyCognitoError(err);
      if (error.disposition === 'absent') return 'absent';
      throw ApplicationFailure.nonRetryable(
        `dependency check: ${operation} on ${userPoolId} failed with ${error.code}: ${error.message}` +
          (error.disposition === 'fail' ? ' (the worker needs cognito-idp:ListUserPoolClients and cognito-idp:DescribeUserPoolClient)' : ''),
        `DependencyCheck${error.code}`,
      );
    }
  }

  /** identifier -> clients using it, for the identifiers of one pool. */
  async function clientsUsing(userPoolId: string, identifiers: Set<string>): Promise<{ users: Map<string, string[]>; clients: number }> {
    const client = deps.clients.forUserPool(userPoolId);
    const users = new Map<string, string[]>();
    let clients = 0;
    let nextToken: string | undefined;
    do {
      const page = await call(userPoolId, 'ListUserPoolClients', () =>
        client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60, NextToken: nextToken })),
      );
      if (page === 'absent') break; // no pool, no clients; its items will end already-absent
      for (const summary of page.UserPoolClients ?? []) {
        const described = await call(userPoolId, 'DescribeUserPoolClient', () =>
          client.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: summary.ClientId })),
        );
        if (described === 'absent') continue; // deleted meanwhile
        clients += 1;
        const appClient = described.UserPoolClient;
        const label = `${appClient?.ClientName ?? '?'} (${appClient?.ClientId ?? summary.ClientId})`;
        for (const scope of appClient?.AllowedOAuthScopes ?? []) {
          const identifier = identifierOfScope(scope);
          if (!identifier || !identifiers.has(identifier)) continue;
          const list = users.get(identifier) ?? [];
          if (!list.includes(label)) list.push(label);
          users.set(identifier, list);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return { users, clients };
  }

  return async function checkDependencies({ run, plan }: CheckDependenciesRequest): Promise<DependencyCheckResult> {
    // Two streaming passes over the plan: which identifiers to ask about, then the annotated copy.
    const identifiersByPool = new Map<string, Set<string>>();
    for await (const item of planItems(plan)) {
      if (item.protectedBy) continue; // never deleted: no need to ask who uses it
      const set = identifiersByPool.get(item.userPoolId) ?? new Set<string>();
      set.add(item.identifier);
      identifiersByPool.set(item.userPoolId, set);
    }

    // Pools in parallel: the limiter keeps the account and per-pool rates.
    const results = await Promise.all(
      [...identifiersByPool].map(async ([pool, identifiers]) => ({ pool, ...(await clientsUsing(pool, identifiers)) })),
    );
    const usersByPool = new Map(results.map((r) => [r.pool, r.users]));
    const inUse: CleanupItem[] = [];
    async function* annotated(): AsyncGenerator<CleanupItem> {
      for await (const item of planItems(plan)) {
        const clients = usersByPool.get(item.userPoolId)?.get(item.identifier);
        if (!clients) {
          yield item;
          continue;
        }
        const used = { ...item, inUseBy: clients };
        inUse.push(used);
        yield used;
      }
    }
    const written = await writePlanFile(path.join(run.runDir, 'plan-checked.jsonl'), annotated());
    let report: string | undefined;
    if (inUse.length > 0) {
      report = path.join(run.runDir, 'in-use.csv');
      await writeFile(report, toCsv(['userPoolId', 'identifier', 'clients'], inUse.map((i) => [i.userPoolId, i.identifier, i.inUseBy!.join('; ')])));
    }
    return {
      plan: { path: written.path, sha256: written.sha256 },
      inUse: inUse.length,
      poolsChecked: identifiersByPool.size,
      clientsChecked: results.reduce((n, r) => n + r.clients, 0),
      ...(report ? { report } : {}),
      sample: inUse.slice(0, 10).map((i) => ({ userPoolId: i.userPoolId, identifier: i.identifier, clients: i.inUseBy! })),
    };
  };
}
