/**
 * Where a run keeps its files. One place, so the activities, the manifest and
 * the CLI agree on the layout:
 *
 *   <auditDir>/<workflowId>/<firstRunId>/
 *     plan.jsonl                 validated, deduplicated, fairly ordered input
 *     invalid-rows.txt           why the input was refused (only when it was)
 *     duplicates.csv             rows that repeated an earlier row and ran once
 *     audit.jsonl                pino JSON lines: every attempt and every final outcome
 *     backups/<pool>/<hash>.json resource server definitions read before deleting
 *     intents/<pool>/<hash>.json an attempt of this run sent (or was about to send) a
 *                                DeleteResourceServer whose effect is not known to be nil
 *     dependency-check/<pool>.json   one pool's dependency check, so a retry skips it
 *     outcomes/page-000000.jsonl final outcome of each item of a plan page
 *     manifest/summary.json      written when the run ends
 *     manifest/<outcome>.csv     items by outcome; failed.csv is itself a valid input
 *     manifest/backups.jsonl     backups of every deleted item, for restore
 */
import { createHash } from 'node:crypto';
import path from 'node:path';

export function runDirectory(auditDir: string, workflowId: string, firstRunId: string): string {
  return path.resolve(auditDir, safeSegment(workflowId), safeSegment(firstRunId));
}

export function runFiles(runDir: string) {
  return {
    plan: path.join(runDir, 'plan.jsonl'),
    invalidRows: path.join(runDir, 'invalid-rows.txt'),
    duplicates: path.join(runDir, 'duplicates.csv'),
    audit: path.join(runDir, 'audit.jsonl'),
    outcomesDir: path.join(runDir, 'outcomes'),
    manifestDir: path.join(runDir, 'manifest'),
    summary: path.join(runDir, 'manifest', 'summary.json'),
    backupsJsonl: path.join(runDir, 'manifest', 'backups.jsonl'),
  };
}

export function outcomePageFile(runDir: string, pageIndex: number): string {
  return path.join(runDir, 'outcomes', `page-${String(pageIndex).padStart(6, '0')}.jsonl`);
}

/** Identifiers may hold '/', ':' and other characters a file name cannot: hash them. */
export function backupFile(runDir: string, userPoolId: string, identifier: string): string {
  const hash = createHash('sha256').update(identifier).digest('hex').slice(0, 32);
  return path.join(runDir, 'backups', safeSegment(userPoolId), `${hash}.json`);
}

/** Exists while an attempt of this run may have deleted the item (see activities/delete-resource-server.ts). */
export function intentFile(runDir: string, userPoolId: string, identifier: string): string {
  const hash = createHash('sha256').update(identifier).digest('hex').slice(0, 32);
  return path.join(runDir, 'intents', safeSegment(userPoolId), `${hash}.json`);
}

/** One pool's finished dependency check (activities/check-dependencies.ts). */
export function dependencyCheckFile(runDir: string, userPoolId: string): string {
  return path.join(runDir, 'dependency-check', `${safeSegment(userPoolId)}.json`);
}

function safeSegment(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_');
}
