/**
 * A finished run's job options (summary.json `options`) as command-line
 * flags: `report` shows them, and `redrive` runs again with them unless the
 * operator sets a flag anew.
 */
import type { RunOptionsRecord } from '../workflows/cleanup';
import type { JobOptions } from './job-options';

/** The flags that repeat a run's options (`--execute` is never implied: a redrive is a dry-run unless asked). */
export function optionsAsFlags(options: RunOptionsRecord): string[] {
  const flags = [
    `--in-use ${options.inUse}`,
    `--rate ${options.limits.rate}`,
    `--pool-rate ${options.limits.poolRate}`,
    `--window ${options.limits.window}`,
    `--item-deadline ${options.itemDeadlineMinutes}`,
  ];
  if (options.maxAttempts !== undefined) flags.push(`--max-attempts ${options.maxAttempts}`);
  if (options.verify) flags.push('--verify');
  if (options.skipMissingPools) flags.push('--skip-missing-pools');
  if (options.skipInvalidRows) flags.push('--skip-invalid');
  if (options.maxDeletes !== undefined) flags.push(`--max-deletes ${options.maxDeletes}`);
  if (options.failureThreshold?.count !== undefined) flags.push(`--max-failures ${options.failureThreshold.count}`);
  if (options.failureThreshold?.percent !== undefined) flags.push(`--max-failure-percent ${options.failureThreshold.percent}`);
  for (const pattern of options.protect) flags.push(`--protect ${shellQuote(pattern)}`);
  if (options.accounts?.defaultAccountId) flags.push(`--account ${options.accounts.defaultAccountId}`);
  if (options.accounts?.assumeRoleArn) flags.push(`--assume-role-arn ${shellQuote(options.accounts.assumeRoleArn)}`);
  if (options.accounts?.externalId) flags.push(`--external-id ${shellQuote(options.accounts.externalId)}`);
  return flags;
}

/**
 * The options of a redrive: what the operator set on this command line wins;
 * everything else is the original run's. Protection only ever adds up: the
 * original patterns stay, new ones join them.
 */
export function inheritOptions<T extends JobOptions>(given: T, setOnCommandLine: ReadonlySet<string>, original: RunOptionsRecord): T {
  const pick = <K extends keyof JobOptions>(key: K, value: JobOptions[K]): Partial<JobOptions> =>
    setOnCommandLine.has(key) || value === undefined ? {} : { [key]: value };
  return {
    ...given,
    ...pick('inUse', original.inUse),
    ...pick('rate', original.limits.rate),
    ...pick('poolRate', original.limits.poolRate),
    ...pick('window', original.limits.window),
    ...pick('itemDeadline', original.itemDeadlineMinutes),
    ...pick('maxAttempts', original.maxAttempts),
    ...pick('verify', original.verify),
    ...pick('skipMissingPools', original.skipMissingPools),
    ...pick('maxDeletes', original.maxDeletes),
    ...pick('maxFailures', original.failureThreshold?.count),
    ...pick('maxFailurePercent', original.failureThreshold?.percent),
    ...pick('account', original.accounts?.defaultAccountId),
    ...pick('assumeRoleArn', original.accounts?.assumeRoleArn),
    ...pick('externalId', original.accounts?.externalId),
    protect: [...new Set([...original.protect, ...(given.protect ?? [])])],
  };
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./*?-]+$/.test(value) && !/[*?]/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
