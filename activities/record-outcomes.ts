/**
 * Records the final outcome of every item of one plan page: the page file
 * outcomes/page-NNNNNN.jsonl (written whole and atomically, so a retried or
 * repeated call leaves exactly one copy) and one `event: "outcome"` audit
 * record per item, with its backup when the item was deleted.
 *
 * The workflow calls this once per page with the outcomes it decided; the
 * manifest is built from these page files, which is why it lists every input
 * item exactly once even when delete activities ran more than once.
 *
 * When the run's directory cannot be written (a full disk), it fails with the
 * non-retryable AuditUnavailable: the workflow pauses with the reason and
 * records the page again after resume.
 */
import { existsSync } from 'node:fs';
import type { ItemResult, RunContext } from '../common/types';
import { outcomePageFile } from '../common/run-files';
import { BackupReader } from './batch-journal';
import { auditLogger, isWriteUnavailable } from './audit-log';
import { writeFileAtomically } from '../common/files';
import { auditUnavailable } from './delete-resource-server';

export interface RecordOutcomesRequest {
  run: RunContext;
  pageIndex: number;
  results: ItemResult[];
}

export async function recordOutcomes({ run, pageIndex, results }: RecordOutcomesRequest): Promise<void> {
  try {
    await recordPage(run, pageIndex, results);
  } catch (err) {
    if (isWriteUnavailable(err)) throw auditUnavailable(`the outcomes of plan page ${pageIndex}`, err);
    throw err;
  }
}

async function recordPage(run: RunContext, pageIndex: number, results: ItemResult[]): Promise<void> {
  const pageFile = outcomePageFile(run.runDir, pageIndex);
  // The page file is written last: when it exists, this page's outcomes are
  // already in the audit. A crash between the two repeats the audit records
  // (an audit may say a thing twice; it must never leave one out).
  if (existsSync(pageFile)) return;
  const audit = auditLogger(run.runDir).child({ event: 'outcome', workflowId: run.workflowId, runId: run.runId });
  const backups = new BackupReader(run.runDir);
  for (const result of results) {
    const backup = result.outcome === 'deleted' || result.outcome === 'would-delete' ? await backups.read(result) : undefined;
    audit.info({ ...result, ...(backup ? { backup } : {}) }, result.outcome);
  }
  await writeFileAtomically(pageFile, results.map((r) => JSON.stringify(r)).join('\n') + '\n');
}
