/**
 * Turns the operator's input file into the run's plan: parse, validate every
 * row against Cognito's rules, drop exact duplicates, mark protected items,
 * order the items fairly across user pools, and write plan.jsonl into the run
 * directory. The workflow then reads the plan in pages, so a 100,000-row input
 * never travels through workflow history.
 *
 * The work is done once: the CLI has already done it into a staging directory
 * (validateInputToPlan) and pins the staged plan's checksum in `source.prepared`;
 * this activity then checks the input's and the plan's checksums and moves the
 * files into the run directory. When the staged plan is not there (a worker on
 * another machine, a schedule, a staging directory already cleaned up), it
 * does the work itself, with the same function and so the same bytes.
 *
 * Deterministic output: a retry finds the plan in the run directory, or
 * rewrites the identical one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { FileRef } from '../common/types';
import type { InputError, InputFormat } from '../common/input-reader';
import { InputFileError } from '../common/input-file';
import { loadPreparedPlan, preparedPlanKey, validateInputToPlan, writePreparedFile, PREPARED_FILE, type PreparedPlan } from '../common/input-to-plan';
import { sha256File } from '../common/plan-file';
import { compileProtection } from '../common/protection';
import { runFiles, runDirectory } from '../common/run-files';

/** A plan the CLI prepared before starting the run, pinned by its checksum. */
export interface StagedPlanRef {
  /** The staging directory (validateInputToPlan's output), as the CLI's machine sees it. */
  dir: string;
  planSha256: string;
}

/** The operator's input file, as the workers see it. */
export type InputSource = Omit<FileRef, 'sha256'> & {
  /** Pins the file (a run started by hand); without it the file is read as it is now (a schedule). */
  sha256?: string;
  format?: InputFormat;
  /** The plan the CLI already prepared from this file, when it did. */
  prepared?: StagedPlanRef;
};

export interface PrepareInputRequest {
  workflowId: string;
  firstRunId: string;
  source: InputSource;
  /** Directory for audit files; the worker's default when absent. */
  auditDir?: string;
  /** Protection patterns (see common/protection.ts): matching items are never deleted. */
  protect?: string[];
}

export interface PreparedInput {
  runDir: string;
  plan: FileRef;
  total: number;
  duplicates: number;
  invalid: number;
  /** The first invalid rows, for the result; all of them are in `invalidReport`. */
  invalidSample: InputError[];
  invalidReport?: string;
  /** Items matched by a protection pattern. */
  protectedCount: number;
}

const INVALID_SAMPLE_SIZE = 20;

export function createPrepareInput(defaultAuditDir: string) {
  return async function prepareInput(request: PrepareInputRequest): Promise<PreparedInput> {
    const runDir = runDirectory(request.auditDir ?? defaultAuditDir, request.workflowId, request.firstRunId);
    await fs.mkdir(runDir, { recursive: true });
    const { source } = request;
    const protect = request.protect ?? [];
    try {
      compileProtection(protect);
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidProtectionPattern');
    }

    if (source.sha256 !== undefined) {
      const key = preparedPlanKey(source.sha256, source.format, protect);
      const reused = (await loadPreparedPlan(runDir, key)) ?? (source.prepared ? await adoptStagedPlan(source.prepared, key, runDir) : undefined);
      if (reused) {
        await checkInputUnchanged(source.path, source.sha256);
        return toPreparedInput(runDir, reused);
      }
    }

    let prepared: PreparedPlan;
    try {
      prepared = await validateInputToPlan(source, runDir, { protect });
    } catch (err) {
      if (err instanceof InputFileError) {
        throw ApplicationFailure.nonRetryable(`cannot read the input ${source.path} on this worker: ${err.message}`, 'InputUnreadable');
      }
      throw err;
    }
    if (source.sha256 !== undefined && prepared.input.sha256 !== source.sha256) {
      // Made from other bytes than the run pinned: nothing of it may be used.
      await fs.rm(runFiles(runDir).plan, { force: true });
      await fs.rm(path.join(runDir, PREPARED_FILE), { force: true });
      throw inputChanged(source.path, source.sha256, prepared.input.sha256);
    }
    return toPreparedInput(runDir, prepared);
  };
}

function toPreparedInput(runDir: string, prepared: PreparedPlan): PreparedInput {
  return {
    runDir,
    plan: prepared.plan,
    total: prepared.total,
    duplicates: prepared.duplicates,
    // Rows, not errors: one row can break two rules. A file that cannot be used counts as invalid even without a row.
    invalid: prepared.unusable ? Math.max(prepared.invalid, 1) : prepared.invalid,
    invalidSample: prepared.firstErrors.slice(0, INVALID_SAMPLE_SIZE),
    ...(prepared.invalidReport ? { invalidReport: prepared.invalidReport } : {}),
    protectedCount: prepared.protectedCount,
  };
}

/**
 * Moves the CLI's staged plan and reports into the run directory when they
 * were made for this input, format and protection and the plan has the
 * pinned checksum; undefined when they are not there (another machine) or
 * do not match, and the activity prepares the plan itself.
 */
async function adoptStagedPlan(staged: StagedPlanRef, key: string, runDir: string): Promise<PreparedPlan | undefined> {
  const found = await loadPreparedPlan(staged.dir, key, staged.planSha256);
  if (found === undefined) return undefined;
  const files = runFiles(runDir);
  const moved: PreparedPlan = { ...found, plan: { path: files.plan, sha256: found.plan.sha256 } };
  await moveFile(found.plan.path, files.plan);
  if (found.invalidReport) {
    await moveFile(found.invalidReport, files.invalidRows);
    moved.invalidReport = files.invalidRows;
  }
  if (found.duplicatesReport) {
    await moveFile(found.duplicatesReport, files.duplicates);
    moved.duplicatesReport = files.duplicates;
  }
  if ((await sha256File(files.plan)) !== staged.planSha256) return undefined;
  await writePreparedFile(runDir, moved);
  await fs.rm(staged.dir, { recursive: true, force: true });
  return moved;
}

/** Rename, or copy and remove when the staging directory is on another file system. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fs.copyFile(from, to);
    await fs.rm(from, { force: true });
  }
}

async function checkInputUnchanged(file: string, pinned: string): Promise<void> {
  let actual: string;
  try {
    actual = await sha256File(file);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`cannot read the input ${file} on this worker: ${(err as Error).message}`, 'InputUnreadable');
  }
  if (actual !== pinned) throw inputChanged(file, pinned, actual);
}

function inputChanged(file: string, pinned: string, actual: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `the input ${file} changed since the run was started: expected sha256 ${pinned}, found ${actual}`,
    'InputChangedError',
  );
}
