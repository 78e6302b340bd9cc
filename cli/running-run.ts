/**
 * The commands that act on a running run (pause, resume, cancel, terminate,
 * set-rate) find it here: a run that has ended, or does not exist, is a usage
 * error (exit 2) said in one line; a stuck one comes with what is wrong.
 */
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import type { cleanupWorkflow } from '../workflows/cleanup';
import type { TemporalTarget } from './temporal-target';
import { failingWorkflowTask, type FailingWorkflowTask } from './workflow-task-failure';
import { UsageError } from './exit-codes';

export interface RunningRun {
  handle: WorkflowHandle<typeof cleanupWorkflow>;
  description: WorkflowExecutionDescription;
  /** Set when the run's workflow task fails on every attempt: it cannot take a signal or an update. */
  stuck?: FailingWorkflowTask;
}

export async function runningRun(target: TemporalTarget, runId: string): Promise<RunningRun> {
  const handle = target.client.workflow.getHandle<typeof cleanupWorkflow>(runId);
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') {
    throw new UsageError(`run ${runId} is not running: it ended ${description.status.name}; see it with: rs-cleanup status ${runId}`);
  }
  const stuck = await failingWorkflowTask(target.client, description);
  return { handle, description, ...(stuck ? { stuck } : {}) };
}
