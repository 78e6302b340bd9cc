/** `rs-cleanup schedule describe ID`: spec, input, next and recent runs. */
import type { CleanupInput } from '../../workflows/cleanup';
import { EXIT } from '../exit-codes';
import type { CommandIo } from '../command-io';
import { withCluster } from './cluster';

export async function scheduleDescribeCommand(id: string, options: { json: boolean }, io: CommandIo): Promise<number> {
  return withCluster(io, async ({ client }) => {
    const d = await client.schedule.getHandle(id).describe();
    const action = d.action.type === 'startWorkflow' ? d.action : undefined;
    const input = action?.args?.[0] as CleanupInput | undefined;
    const view = {
      scheduleId: d.scheduleId,
      paused: d.state.paused,
      note: d.state.note,
      spec: String(d.memo?.spec ?? JSON.stringify(d.spec)),
      overlap: d.policies.overlap,
      input: input?.source.path,
      execute: input?.execute,
      nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      recentActions: d.info.recentActions.map((a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        workflowId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : undefined,
      })),
      runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
    };
    if (options.json) {
      io.stdout.write(JSON.stringify(view, null, 2) + '\n');
    } else {
      io.stdout.write(
        [
          `Schedule ${view.scheduleId}: ${view.paused ? `paused${view.note ? ` (${view.note})` : ''}` : 'active'}, overlap ${view.overlap}`,
          `  spec       ${view.spec}`,
          `  input      ${view.input} (${view.execute ? 'EXECUTE' : 'dry-run'})`,
          `  next       ${view.nextActionTimes.join(', ') || '-'}`,
          `  recent     ${view.recentActions.map((a) => a.workflowId).join(', ') || '-'}`,
        ].join('\n') + '\n',
      );
    }
    return EXIT.ok;
  });
}
