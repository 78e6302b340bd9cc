/**
 * Whether a running run is wedged: its workflow task fails on every attempt
 * (a bug, or input the workflow code throws on), so Temporal retries it for
 * ever and the workflow cannot take a signal, an update or a query. The
 * operator must hear that plainly, with the error, and how to end it.
 *
 * Temporal records the first failed attempt in history (WorkflowTaskFailed)
 * and retries the rest as transient tasks; describe() shows the attempt
 * count of the pending task.
 */
import { type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { collapseWhitespace } from '../common/display-text';

export interface FailingWorkflowTask {
  /** Attempts so far of the pending workflow task. */
  attempt: number;
  /** When the first failed attempt was recorded. */
  since?: string;
  /** The error of the last recorded failed attempt: `Type: message`. */
  error: string;
}

const HISTORY_PAGES_TO_SEARCH = 10;

/** The failing workflow task of a running run, or undefined when its workflow task is not failing. */
export async function failingWorkflowTask(
  client: Client,
  description: WorkflowExecutionDescription,
): Promise<FailingWorkflowTask | undefined> {
  if (description.status.name !== 'RUNNING') return undefined;
  const pending = description.raw.pendingWorkflowTask;
  const attempt = pending?.attempt ?? 0;
  if (attempt <= 1) return undefined;
  const failed = await lastWorkflowTaskFailure(client, description.workflowId, description.runId);
  // Attempts without a recorded failure are timeouts (no worker answered in time), not a failing task.
  if (failed === undefined) return undefined;
  return { attempt, ...failed };
}

/** The last WorkflowTaskFailed event after the last completed workflow task, read from the end of history. */
async function lastWorkflowTaskFailure(client: Client, workflowId: string, runId: string): Promise<{ error: string; since?: string } | undefined> {
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < HISTORY_PAGES_TO_SEARCH; page++) {
    const response = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 100,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const event of response.history?.events ?? []) {
      if (event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) return undefined;
      const failed = event.workflowTaskFailedEventAttributes;
      if (failed) {
        const failure = failed.failure;
        const message = failure?.message ?? `workflow task failed (${temporal.api.enums.v1.WorkflowTaskFailedCause[failed.cause ?? 0]})`;
        const type = failure?.applicationFailureInfo?.type || errorNameIn(failure?.stackTrace, message);
        const seconds = event.eventTime?.seconds ? Number(event.eventTime.seconds) : undefined;
        return { error: oneLine(type ? `${type}: ${message}` : message), ...(seconds ? { since: new Date(seconds * 1000).toISOString() } : {}) };
      }
    }
    if (!response.nextPageToken?.length) return undefined;
    nextPageToken = response.nextPageToken;
  }
  return undefined;
}

/** A JavaScript stack names the error's class on the line with its message ("RangeError: rate must be ..."). */
function errorNameIn(stackTrace: string | null | undefined, message: string): string | undefined {
  const line = stackTrace?.split('\n').find((l) => l.endsWith(`: ${message}`) || l.includes(`: ${message}`));
  return line?.match(/^\s*(\w*Error): /)?.[1];
}

function oneLine(text: string): string {
  const line = collapseWhitespace(text);
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

/** What to tell the operator about a stuck run, to follow "run X is stuck: " on one line. */
export function describeFailingTask(workflowId: string, failing: FailingWorkflowTask): string {
  return (
    `its workflow task fails on every attempt (${failing.attempt} so far${failing.since ? `, since ${failing.since}` : ''}): ` +
    `${failing.error}. It cannot take a signal or an update, and nothing more is deleted while it is stuck; end it with: rs-cleanup terminate ${workflowId}`
  );
}
