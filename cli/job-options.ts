/**
 * What a cleanup does, as `run`, `redrive` and `schedule create` take it from
 * the command line: the options (declared in cli/main.ts), the protection
 * patterns they add up to, and the workflow input they become.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { validateAccountId, validateRoleArnTemplate } from '../common/cognito-rules';
import { compileProtection, parseProtectionPatterns } from '../common/protection';
import { definedOnly, type InUsePolicy, type Limits, type RunAccounts } from '../common/types';
import type { CleanupInput } from '../workflows/cleanup';
import { UsageError } from './exit-codes';

export interface JobOptions {
  execute: boolean;
  /** Skip the typed confirmation of --execute. */
  yes: boolean;
  rate?: number;
  poolRate?: number;
  window?: number;
  auditDir?: string;
  skipInvalid: boolean;
  maxFailures?: number;
  maxFailurePercent?: number;
  maxAttempts?: number;
  /** Minutes one item may keep retrying (--item-deadline). */
  itemDeadline?: number;
  skipMissingPools?: boolean;
  inUse?: InUsePolicy;
  protect?: string[];
  protectFile?: string;
  maxDeletes?: number;
  verify: boolean;
  taskQueue?: string;
  /** The account of items whose input has no accountId column (or an empty value). */
  account?: string;
  /** The role to assume in each item's account, `{accountId}` standing for it. */
  assumeRoleArn?: string;
  externalId?: string;
}

/** --account: a 12-digit AWS account ID. */
export function accountIdValue(value: string): string {
  const problem = validateAccountId(value);
  if (problem) throw new InvalidArgumentError(`'${value}' ${problem}`);
  return value;
}

/** --assume-role-arn: a role ARN, `{accountId}` standing for each item's account. */
export function roleArnValue(value: string): string {
  const problem = validateRoleArnTemplate(value);
  if (problem) throw new InvalidArgumentError(`'${value}' ${problem}`);
  return value;
}

/** --external-id: what STS accepts (2-1224 characters of letters, digits and +=,.@:/-). */
export function externalIdValue(value: string): string {
  if (!/^[\w+=,.@:/-]{2,1224}$/.test(value)) throw new InvalidArgumentError('expected 2 to 1224 characters of letters, digits and +=,.@:/-');
  return value;
}

/** The run's accounts settings from --account, --assume-role-arn and --external-id; undefined when none is given. */
function runAccountsFrom(options: Pick<JobOptions, 'account' | 'assumeRoleArn' | 'externalId'>): RunAccounts | undefined {
  const accounts: RunAccounts = definedOnly({ defaultAccountId: options.account, assumeRoleArn: options.assumeRoleArn, externalId: options.externalId });
  return Object.keys(accounts).length > 0 ? accounts : undefined;
}

/** The workflow input for a cleanup, from the command-line options. */
export function cleanupInputFrom(options: JobOptions, source: CleanupInput['source'], protect: string[]): CleanupInput {
  const limits: Partial<Limits> = definedOnly({ rate: options.rate, poolRate: options.poolRate, window: options.window });
  const accounts = runAccountsFrom(options);
  return {
    source,
    execute: options.execute,
    limits,
    ...(options.auditDir ? { auditDir: path.resolve(options.auditDir) } : {}),
    skipInvalidRows: options.skipInvalid,
    ...(options.maxFailures !== undefined || options.maxFailurePercent !== undefined
      ? { failureThreshold: definedOnly({ count: options.maxFailures, percent: options.maxFailurePercent }) }
      : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.itemDeadline !== undefined ? { itemDeadlineMinutes: options.itemDeadline } : {}),
    ...(options.skipMissingPools ? { skipMissingPools: true } : {}),
    inUse: options.inUse ?? 'skip',
    ...(protect.length > 0 ? { protect } : {}),
    ...(options.maxDeletes !== undefined ? { maxDeletes: options.maxDeletes } : {}),
    ...(options.verify ? { verify: true } : {}),
    ...(accounts ? { accounts } : {}),
  };
}

/**
 * Protection patterns from --protect, --protect-file, RS_CLEANUP_PROTECTED
 * (patterns separated by ';' or newlines) and RS_CLEANUP_PROTECTED_FILE, all
 * of them together. A bad pattern is a usage error: nothing starts.
 */
export function protectionPatterns(options: Pick<JobOptions, 'protect' | 'protectFile'>, env: NodeJS.ProcessEnv): string[] {
  const patterns = [...(options.protect ?? []), ...parseProtectionPatterns(env.RS_CLEANUP_PROTECTED ?? '')];
  for (const [file, where] of [[options.protectFile, '--protect-file'], [env.RS_CLEANUP_PROTECTED_FILE, 'RS_CLEANUP_PROTECTED_FILE']] as const) {
    if (!file) continue;
    try {
      patterns.push(...parseProtectionPatterns(readFileSync(file, 'utf8')));
    } catch (err) {
      throw new UsageError(`${where}: cannot read the protection file ${file}: ${(err as Error).message}`);
    }
  }
  try {
    compileProtection(patterns);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return patterns;
}

/** What the confirmation says about servers that app clients use, under each --in-use policy. */
export function inUseWording(policy: InUsePolicy | undefined): string {
  return { skip: 'skipped', fail: 'a reason to stop', delete: 'deleted too' }[policy ?? 'skip'];
}
