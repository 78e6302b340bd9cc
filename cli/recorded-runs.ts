/**
 * The runs recorded on disk, in the embedded default's audit directory: what
 * `status`, `list` and `report` read when no Temporal server is running,
 * rather than start one. A run that finished has its manifest's summary.json;
 * one without it started and has not finished (with the embedded default it
 * goes on only while an rs-cleanup command runs its worker: the same `run`
 * command resumes it).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { runDirectory, runFiles } from '../common/run-files';
import type { CleanupStatus, CleanupSummary } from '../workflows/cleanup';

export interface RecordedRun {
  workflowId: string;
  runDir: string;
  /** The summary's start, or when the run's directory was made. */
  startedAt: Date;
  /** Present when the run finished and wrote its manifest. */
  summary?: CleanupSummary;
}

/**
 * Every run recorded in `auditDir` (only those of `workflowId`, when given),
 * newest first. Unreadable entries are left out: this is a view of what is
 * there, not a check of it.
 */
export function recordedRuns(auditDir: string, workflowId?: string): RecordedRun[] {
  const workflowDirs = workflowId ? [path.dirname(runDirectory(auditDir, workflowId, 'run'))] : subdirectories(auditDir);
  const runs: RecordedRun[] = [];
  for (const workflowDir of workflowDirs) {
    for (const runDir of subdirectories(workflowDir)) {
      const summary = readSummary(runDir);
      if (workflowId && summary && summary.workflowId !== workflowId) continue; // another ID with the same file-name form
      const created = statSync(runDir);
      runs.push({
        workflowId: summary?.workflowId ?? workflowId ?? path.basename(workflowDir),
        runDir,
        startedAt: summary ? new Date(summary.startedAt) : new Date(created.birthtimeMs || created.mtimeMs),
        ...(summary ? { summary } : {}),
      });
    }
  }
  return runs.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(dir, entry.name));
  } catch {
    return [];
  }
}

/** The run's summary as the workflow returned it, from summary.json; undefined when there is none (or it cannot be read). */
function readSummary(runDir: string): CleanupSummary | undefined {
  const files = runFiles(runDir);
  let written: Omit<CleanupSummary, 'status' | 'runDir'> & { audit?: string };
  try {
    written = JSON.parse(readFileSync(files.summary, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof written.workflowId !== 'string' || typeof written.startedAt !== 'string' || !written.counts) return undefined;
  const { audit, ...rest } = written;
  return {
    ...rest,
    status: statusOf(written.stopReason),
    runDir,
    manifestDir: files.manifestDir,
    summaryFile: files.summary,
    ...(audit ? { auditFile: audit } : {}),
  };
}

/**
 * summary.json does not keep the status the workflow returned; it follows
 * from the stop reason by the workflow's own rule (workflows/cleanup.ts). A
 * run refused for invalid input writes no manifest, so it is never here.
 */
function statusOf(stopReason: string | undefined): CleanupStatus {
  if (!stopReason) return 'completed';
  if (stopReason.startsWith('refused')) return 'refused';
  return stopReason.startsWith('cancelled') ? 'cancelled' : 'stopped';
}
