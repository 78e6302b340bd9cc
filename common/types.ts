/**
 * Types shared by the workflow, the activities, the worker and the CLI.
 * Pure declarations only: the workflow bundle imports this file.
 */

/** One resource server to delete, as read from the input. */
export interface CleanupItem {
  userPoolId: string;
  identifier: string;
  /** The AWS account of the user pool (12 digits), from the input's accountId column; the run's --account, else the worker's own credentials' account, when absent. */
  accountId?: string;
  /** Where the item is in the input: the CSV line it starts on (header = line 1), JSON array index + 1, or JSONL line. */
  row: number;
  /** Extra input columns (a tenant, a ticket), carried into the audit and manifest. */
  extra?: Record<string, string>;
  /** Set while preparing the run: the protection pattern that matches this item. */
  protectedBy?: string;
  /** Set by the dependency check: app clients (`name (id)`) whose AllowedOAuthScopes use this server's scopes. */
  inUseBy?: string[];
}

/** The words the operator sees. */
export type Outcome =
  | 'deleted'
  | 'already-absent'
  | 'would-delete'
  | 'skipped-in-use'
  | 'skipped-protected'
  | 'failed'
  /** The user pool does not exist (as asked: its Region, these credentials): a failure, never "already absent". */
  | 'pool-not-found'
  | 'cancelled';

export const OUTCOMES: readonly Outcome[] = [
  'deleted', 'already-absent', 'would-delete', 'skipped-in-use', 'skipped-protected', 'failed', 'pool-not-found', 'cancelled',
];

/** A file the workers can read, pinned by its checksum so a change mid-run fails clearly. */
export interface FileRef {
  path: string;
  sha256: string;
}

/** A resource server definition, kept before deleting so a mistake can be undone. */
export interface ResourceServerBackup {
  userPoolId: string;
  identifier: string;
  /** The account it lived in, when the run named one: restore recreates it there. */
  accountId?: string;
  name: string;
  scopes: { ScopeName: string; ScopeDescription: string }[];
}

export interface Limits {
  /** Account-wide DeleteResourceServer calls per second (Cognito: 15). */
  rate: number;
  /** DeleteResourceServer calls per second for one user pool (Cognito: 5). */
  poolRate: number;
  /** Delete activities in flight at once. */
  window: number;
}

/** Who is running, and where its files go. Passed to every activity of a run. */
export interface RunContext {
  workflowId: string;
  runId: string;
  /** Absolute run directory on the workers (see common/run-files.ts). */
  runDir: string;
  /** Only true deletes; false is a dry-run that reports `would-delete`. */
  execute: boolean;
  /** The run's accounts: a default account for items without one, and the role to assume in each. */
  accounts?: RunAccounts;
}

/** How a run reaches the AWS accounts of its items (--account, --assume-role-arn, --external-id). */
export interface RunAccounts {
  /** The account of items whose input names none. */
  defaultAccountId?: string;
  /** The role to assume in an item's account; `{accountId}` stands for the account. The worker's RS_CLEANUP_ASSUME_ROLE_ARN when absent. */
  assumeRoleArn?: string;
  /** The external ID the role asks for; the worker's RS_CLEANUP_EXTERNAL_ID when absent. */
  externalId?: string;
}

/** Pools are told apart by account too: the same pool ID asked in two accounts is two questions. */
export function poolKey(userPoolId: string, accountId: string | undefined): string {
  return accountId ? `${accountId}/${userPoolId}` : userPoolId;
}

/**
 * The Temporal fairness key of an item's delete: its account and Region, the
 * key of Cognito's quota. The deletes queue limits each key across all workers.
 */
export function fairnessKeyOf(userPoolId: string, accountId: string | undefined): string {
  return `${accountId ?? 'own'}/${userPoolId.slice(0, userPoolId.indexOf('_'))}`;
}

/** The journal of a delete task shared by several items: named by the workflow, so it knows where to look whatever became of the task. */
export function sharedTaskJournal(runId: string, task: number): string {
  return `batches/${runId.replace(/[^A-Za-z0-9-]/g, '_')}-${task}.jsonl`;
}

/** What a shared task's journal name must look like (a workflow input is never trusted with a path). */
export const SHARED_TASK_JOURNAL = /^batches\/[A-Za-z0-9_-]+-\d+\.jsonl$/;

/** The account of an item: its own, or the run's default; undefined means the worker's own credentials. */
export function accountOf(item: { accountId?: string }, accounts: RunAccounts | undefined): string | undefined {
  return item.accountId ?? accounts?.defaultAccountId;
}

/** The final word on one item, as the manifest lists it. */
export interface ItemResult {
  userPoolId: string;
  identifier: string;
  /** The account the item was deleted in (the item's, or the run's --account); absent for the worker's own. */
  accountId?: string;
  row: number;
  extra?: Record<string, string>;
  outcome: Outcome;
  /** Activity attempts it took (Temporal's attempt counter). */
  attempts: number;
  /** Why, in a few words, when the outcome alone does not say it. */
  reason?: string;
  errorCode?: string;
  errorMessage?: string;
  /** The AWS request ID of the call that decided the outcome. */
  requestId?: string;
  finishedAt: string;
  /** The journal (relative to the run directory) that holds its backup, when its delete task was shared (activities/batch-journal.ts). */
  journal?: string;
}

export type OutcomeCounts = Record<Outcome, number>;

export function emptyCounts(): OutcomeCounts {
  return {
    deleted: 0, 'already-absent': 0, 'would-delete': 0, 'skipped-in-use': 0, 'skipped-protected': 0, failed: 0, 'pool-not-found': 0, cancelled: 0,
  };
}

/** The workflow's activities other than the deletes: they keep the run's files. */
export const BOOKKEEPING_ACTIVITIES = ['prepareInput', 'checkDependencies', 'readPlanPage', 'recordOutcomes', 'recordRemainder', 'writeManifest'] as const;
export type BookkeepingActivity = (typeof BOOKKEEPING_ACTIVITIES)[number];

/** What to do with a resource server whose scopes app clients still use. */
export type InUsePolicy = 'skip' | 'delete' | 'fail';
export const IN_USE_POLICIES: readonly InUsePolicy[] = ['skip', 'delete', 'fail'];

/** Failure types the workflow acts on (ApplicationFailure.type). */
export const FAILURE_TYPES = {
  /** The run's audit or files cannot be written (a full disk): the workflow pauses itself with the reason. */
  auditUnavailable: 'AuditUnavailable',
  /** The workflow input breaks a rule: the workflow fails at once. */
  invalidRunInput: 'InvalidRunInput',
} as const;

/** A user pool Cognito says does not exist, and how many items of the run are in it. */
export interface MissingPool {
  userPoolId: string;
  /** The account it was looked for in, when the run named one. */
  accountId?: string;
  items: number;
}

/** A user pool whose account could not be reached (its role could not be assumed): its items fail without a call. */
export interface UnreachablePool {
  userPoolId: string;
  accountId: string;
  items: number;
  errorCode: string;
  errorMessage: string;
}

/** The fields of `value` that are set: what an optional flag or update leaves out does not override a default. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
