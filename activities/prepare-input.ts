/**
 * Turns the operator's input file into the run's plan: parse, validate every
 * row against Cognito's rules, drop exact duplicates, order the items fairly
 * across user pools, and write plan.jsonl into the run directory. The workflow
 * then reads the plan in pages, so a 100,000-row input never travels through
 * workflow history.
 *
 * Deterministic output: a retry rewrites the identical plan.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { FileRef } from '../common/types';
import { formatInputErrors, readInputFile, type InputError, type InputFormat } from '../common/input-reader';
import { orderFairly, sha256File, writePlanFile } from '../common/plan-file';
import { runFiles, runDirectory } from '../common/run-files';
import { toCsv } from '../common/csv';
import { compileProtection, protectionFor } from '../common/protection';

export interface PrepareInputRequest {
  workflowId: string;
  firstRunId: string;
  /** sha256 pins the file (a run started by hand); without it the file is read as it is now (a schedule). */
  source: Omit<FileRef, 'sha256'> & { sha256?: string; format?: InputFormat };
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

export function createPrepareInput(defaultAuditDir: string) {
  return async function prepareInput(request: PrepareInputRequest): Promise<PreparedInput> {
    const runDir = runDirectory(request.auditDir ?? defaultAuditDir, request.workflowId, request.firstRunId);
    const files = runFiles(runDir);
    await mkdir(runDir, { recursive: true });

    let actual: string;
    try {
      actual = await sha256File(request.source.path);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `cannot read the input ${request.source.path} on this worker: ${(err as Error).message}`,
        'InputUnreadable',
      );
    }
    if (request.source.sha256 !== undefined && actual !== request.source.sha256) {
      throw ApplicationFailure.nonRetryable(
        `the input ${request.source.path} changed since the run was started: expected sha256 ${request.source.sha256}, found ${actual}`,
        'InputChangedError',
      );
    }

    const parsed = await readInputFile(request.source.path, request.source.format ? { format: request.source.format } : {});
    if (parsed.duplicates.length > 0) {
      await writeFile(
        files.duplicates,
        toCsv(
          ['userPoolId', 'identifier', 'row', 'firstRow'],
          parsed.duplicates.map((d) => [d.userPoolId, d.identifier, String(d.row), String(d.firstRow)]),
        ),
      );
    }
    if (parsed.errors.length > 0) {
      await writeFile(files.invalidRows, formatInputErrors(parsed.errors, Number.MAX_SAFE_INTEGER) + '\n');
    }
    let rules;
    try {
      rules = compileProtection(request.protect ?? []);
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidProtectionPattern');
    }
    const items = parsed.items.map((item) => {
      const protectedBy = protectionFor(rules, item);
      return protectedBy ? { ...item, protectedBy } : item;
    });
    const plan = await writePlanFile(files.plan, orderFairly(items));
    return {
      runDir,
      plan: { path: plan.path, sha256: plan.sha256 },
      total: plan.total,
      duplicates: parsed.duplicates.length,
      // Rows, not errors: one row can break two rules.
      protectedCount: items.filter((i) => i.protectedBy).length,
      invalid: new Set(parsed.errors.map((e) => e.row)).size,
      invalidSample: parsed.errors.slice(0, 20),
      ...(parsed.errors.length > 0 ? { invalidReport: files.invalidRows } : {}),
    };
  };
}
