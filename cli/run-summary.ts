/**
 * How a finished run reads to the operator, and its exit code: shared by
 * `run`, `redrive` and `status`, and light (types only) so that `status`
 * with no server running loads no Temporal client to print a summary.
 */
import type { MissingPool } from '../common/types';
import type { CleanupSummary } from '../workflows/cleanup';
import { EXIT } from './exit-codes';

export function exitCodeOf(summary: CleanupSummary): number {
  if (summary.status === 'invalid-input' || summary.status === 'refused') return EXIT.invalidInput;
  // A pool that does not exist is a failure: the operator's list is wrong, nothing was offboarded there.
  if (summary.counts.failed > 0 || summary.counts['pool-not-found'] > 0 || summary.missing > 0) return EXIT.failures;
  if (summary.status !== 'completed') return EXIT.stopped;
  if (summary.counts['skipped-in-use'] > 0 || summary.counts['skipped-protected'] > 0) return EXIT.skipped;
  return EXIT.ok;
}

/** What the operator must know as soon as the dependency check finds user pools that do not exist. */
export function describeMissingPoolsNotice(pools: MissingPool[], execute: boolean): string {
  const list = pools.map((p) => `${p.userPoolId} (${p.items} item${p.items === 1 ? '' : 's'})`).join(', ');
  return (
    `Warning: ${pools.length} user pool(s) do not exist as asked (wrong Region, wrong account or a typo): ${list}. ` +
    `Their items end pool-not-found${execute ? '; without --skip-missing-pools the run is refused and nothing is deleted' : ''}.`
  );
}

export function formatSummary(s: CleanupSummary): string {
  const row = (label: string, value: string | number) => `  ${label.padEnd(18)}${value}`;
  const lines = [
    '',
    `Run ${s.workflowId}: ${s.status}${s.stopReason ? ` (${s.stopReason})` : ''}${s.execute ? '' : ' — dry-run, nothing deleted'}`,
    row('items', `${s.total}${s.duplicates ? ` (+${s.duplicates} duplicate rows run once)` : ''}`),
    ...Object.entries(s.counts).map(([outcome, n]) => row(outcome, n)),
    row('duration', `${(s.durationMs / 1000).toFixed(1)} s`),
  ];
  if (s.status === 'invalid-input') lines.push(row('invalid rows', `${s.invalid}; see ${s.invalidReport}`));
  if (s.inUseReport) lines.push(row('in use', `${s.inUse} used by app clients; see ${s.inUseReport}`));
  if (s.missingPools?.length) {
    lines.push(row('missing pools', s.missingPools.map((p) => `${p.userPoolId} (${p.items})`).join(', ')));
  }
  if (s.missing > 0) lines.push(row('MISSING', `${s.missing} items have no recorded outcome; see the audit`));
  if (s.auditFile) lines.push(row('audit', s.auditFile));
  if (s.manifestDir) lines.push(row('manifest', s.manifestDir));
  if ((s.counts.failed > 0 || s.counts.cancelled > 0) && s.manifestDir && s.status !== 'refused') {
    lines.push('', `Run the failed and cancelled items again, with this run's options: rs-cleanup redrive ${s.workflowId}${s.execute ? ' --execute' : ''}`);
  }
  return lines.join('\n') + '\n';
}
