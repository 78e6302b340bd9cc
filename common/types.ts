/**
 * Types shared by the workflow, the activities, the worker and the CLI.
 * Pure declarations only: the workflow bundle imports this file.
 */

/** One resource server to delete, as read from the input. */
export interface CleanupItem {
  userPoolId: string;
  identifier: string;
  /** 1-based data row in the input file (CSV data row, JSON array index + 1, JSONL line). */
  row: number;
  /** Extra input columns (a tenant, a ticket), carried into the audit and manifest. */
  extra?: Record<string, string>;
}

/** The words the operator sees. */
export type Outcome =
  | 'deleted'
  | 'already-absent'
  | 'would-delete'
  | 'failed'
  | 'cancelled';

export const OUTCOMES: readonly Outcome[] = ['deleted', 'already-absent', 'would-delete', 'failed', 'cancelled'];

/** A file the workers can read, pinned by its checksum so a change mid-run fails clearly. */
export interface FileRef {
  path: string;
  sha256: string;
}

/** A resource server definition, kept before deleting so a mistake can be undone. */
export interface ResourceServerBackup {
  userPoolId: string;
  identifier: string;
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

export const DEFAULT_LIMITS: Limits = { rate: 15, poolRate: 5, window: 30 };
