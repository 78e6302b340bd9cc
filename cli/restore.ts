/**
 * `restore`: recreates deleted resource servers from the backups a run
 * recorded (same name, identifier and scopes). A dry-run unless --execute.
 * Idempotent: a server that exists with the same definition is
 * `already-present`; one that exists with a different definition is a
 * `conflict`, reported and left alone.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  CreateResourceServerCommand,
  DescribeResourceServerCommand,
  ListResourceServersCommand,
  type ResourceServerType,
} from '@aws-sdk/client-cognito-identity-provider';
import type { ResourceServerBackup } from '../common/types';
import { commandCognitoAccess, type CognitoTarget } from '../cognito/access';
import { classifyCognitoError } from '../cognito/errors';
import { retryCognitoCall } from '../cognito/retry';
import { EXIT, UsageError } from './exit-codes';
import type { CommandIo } from './command-io';
import { formatCountProgress, ProgressLine } from './progress';

export type RestoreOutcome = 'restored' | 'would-restore' | 'already-present' | 'conflict' | 'pool-not-found' | 'failed';

export interface RestoreResult {
  userPoolId: string;
  identifier: string;
  /** The account it is restored into, as its backup names it (RS_CLEANUP_ASSUME_ROLE_ARN reaches it). */
  accountId?: string;
  outcome: RestoreOutcome;
  detail?: string;
}

/**
 * Backups from a manifest directory, a run directory, summary.json,
 * backups.jsonl or audit.jsonl (records of deleted items carry a backup).
 */
export function loadBackups(from: string): ResourceServerBackup[] {
  if (!existsSync(from)) throw new UsageError(`--from ${from}: no such file or directory`);
  let file = from;
  if (statSync(from).isDirectory()) {
    const candidates = [path.join(from, 'backups.jsonl'), path.join(from, 'manifest', 'backups.jsonl'), path.join(from, 'audit.jsonl')];
    const found = candidates.find((c) => existsSync(c));
    if (!found) throw new UsageError(`--from ${from}: no backups.jsonl or audit.jsonl in it`);
    file = found;
  } else if (path.basename(from) === 'summary.json') {
    file = path.join(path.dirname(from), 'backups.jsonl');
  }
  const byKey = new Map<string, ResourceServerBackup>();
  readFileSync(file, 'utf8').split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new UsageError(`${file}:${index + 1}: not a JSON line`);
    }
    // An audit line counts when it records a delete; a backups.jsonl line is a backup itself.
    const backup = (record.backup ?? (record.event === undefined ? record : undefined)) as ResourceServerBackup | undefined;
    if (record.event !== undefined && record.outcome !== 'deleted') return;
    if (!backup || typeof backup.userPoolId !== 'string' || typeof backup.identifier !== 'string' || !Array.isArray(backup.scopes)) return;
    byKey.set(`${backup.accountId ?? ''}\n${backup.userPoolId}\n${backup.identifier}`, backup);
  });
  return [...byKey.values()];
}

function sameDefinition(backup: ResourceServerBackup, server: ResourceServerType | undefined): boolean {
  const scopes = (list: { ScopeName?: string; ScopeDescription?: string }[]) =>
    list.map((s) => `${s.ScopeName}\n${s.ScopeDescription}`).sort().join('\n\n');
  return server?.Name === backup.name && scopes(server?.Scopes ?? []) === scopes(backup.scopes);
}

export async function restoreBackups(
  backups: ResourceServerBackup[],
  execute: boolean,
  env: NodeJS.ProcessEnv,
  onResult?: (result: RestoreResult) => void,
): Promise<RestoreResult[]> {
  // DescribeResourceServer, ListResourceServers: UserPoolResourceRead; CreateResourceServer: UserPoolResourceUpdate;
  // each in the backup's account and Region.
  const cognito = commandCognitoAccess(env);
  // Once per pool: a server cannot be restored into a pool that does not exist (another Region or account, or deleted).
  const poolChecks = new Map<string, Promise<boolean>>();
  const poolExists = (target: CognitoTarget & { userPoolId: string }): Promise<boolean> => {
    const key = `${target.accountId ?? ''}/${target.userPoolId}`;
    let check = poolChecks.get(key);
    if (!check) {
      check = retryCognitoCall(() =>
        cognito.call('UserPoolResourceRead', target, (client) => client.send(new ListResourceServersCommand({ UserPoolId: target.userPoolId, MaxResults: 1 }))),
      ).then(
        () => true,
        (err) => {
          if (classifyCognitoError(err).disposition === 'pool-absent') return false;
          throw err;
        },
      );
      poolChecks.set(key, check);
    }
    return check;
  };
  const restoreOne = async (backup: ResourceServerBackup): Promise<RestoreResult> => {
    const key = { userPoolId: backup.userPoolId, identifier: backup.identifier, ...(backup.accountId ? { accountId: backup.accountId } : {}) };
    const target = { userPoolId: backup.userPoolId, ...(backup.accountId ? { accountId: backup.accountId } : {}) };
    try {
      if (!(await poolExists(target))) {
        return { ...key, outcome: 'pool-not-found', detail: `user pool ${backup.userPoolId} does not exist (as asked: its Region, these credentials)` };
      }
      try {
        const existing = await retryCognitoCall(() =>
          cognito.call('UserPoolResourceRead', target, (client) =>
            client.send(new DescribeResourceServerCommand({ UserPoolId: backup.userPoolId, Identifier: backup.identifier })),
          ),
        );
        return sameDefinition(backup, existing.ResourceServer)
          ? { ...key, outcome: 'already-present' }
          : { ...key, outcome: 'conflict', detail: 'a server with this identifier exists with another name or other scopes; left alone' };
      } catch (err) {
        const disposition = classifyCognitoError(err).disposition;
        if (disposition === 'pool-absent') return { ...key, outcome: 'pool-not-found', detail: `user pool ${backup.userPoolId} does not exist` };
        if (disposition !== 'absent') throw err;
      }
      if (!execute) return { ...key, outcome: 'would-restore' };
      await retryCognitoCall(() =>
        cognito.call('UserPoolResourceUpdate', target, (client) =>
          client.send(new CreateResourceServerCommand({
            UserPoolId: backup.userPoolId,
            Identifier: backup.identifier,
            Name: backup.name,
            Scopes: backup.scopes,
          })),
        ),
      );
      return { ...key, outcome: 'restored' };
    } catch (err) {
      const error = classifyCognitoError(err);
      if (error.disposition === 'pool-absent') return { ...key, outcome: 'pool-not-found', detail: error.message };
      return { ...key, outcome: 'failed', detail: `${error.code}: ${error.message}` };
    }
  };
  try {
    return await Promise.all(backups.map(async (backup) => {
      const result = await restoreOne(backup);
      onResult?.(result);
      return result;
    }));
  } finally {
    cognito.close();
  }
}

export async function restoreCommand(options: { from: string; execute: boolean; json: boolean }, io: CommandIo): Promise<number> {
  const backups = loadBackups(options.from);
  if (backups.length === 0) throw new UsageError(`--from ${options.from}: no backups of deleted resource servers found`);
  io.stderr.write(`${options.execute ? 'Restoring' : 'Dry-run (pass --execute to recreate): checking'} ${backups.length} resource server(s)\n`);
  const counts: Record<RestoreOutcome, number> = { restored: 0, 'would-restore': 0, 'already-present': 0, conflict: 0, 'pool-not-found': 0, failed: 0 };
  // Progress on standard error (Cognito's quotas make a large restore take minutes).
  const progress = options.json ? undefined : new ProgressLine(io.stderr);
  const startedAt = Date.now();
  let done = 0;
  const results = await restoreBackups(backups, options.execute, io.env, (result) => {
    counts[result.outcome] += 1;
    done += 1;
    progress?.update(formatCountProgress(done, backups.length, counts, startedAt));
  });
  progress?.finish(formatCountProgress(done, backups.length, counts, startedAt));
  if (options.json) {
    io.stdout.write(JSON.stringify({ counts, results }, null, 2) + '\n');
  } else {
    for (const r of results.filter((x) => x.outcome === 'conflict' || x.outcome === 'pool-not-found' || x.outcome === 'failed')) {
      io.stdout.write(`${r.outcome}: ${r.userPoolId} ${r.identifier}: ${r.detail}\n`);
    }
    io.stdout.write(Object.entries(counts).map(([o, n]) => `  ${o.padEnd(16)}${n}`).join('\n') + '\n');
  }
  return counts.conflict + counts['pool-not-found'] + counts.failed > 0 ? EXIT.failures : EXIT.ok;
}
