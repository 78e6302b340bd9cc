/** `rs-cleanup schedule list`. */
import { EXIT } from '../exit-codes';
import type { CommandIo } from '../command-io';
import { withCluster } from './cluster';

export async function scheduleListCommand(options: { json: boolean }, io: CommandIo): Promise<number> {
  return withCluster(io, async ({ client }) => {
    const rows = [];
    for await (const schedule of client.schedule.list()) {
      rows.push({
        scheduleId: schedule.scheduleId,
        paused: schedule.state.paused,
        nextActionTimes: schedule.info.nextActionTimes.map((t) => t.toISOString()),
        recentActions: schedule.info.recentActions.length,
      });
    }
    if (options.json) io.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else if (rows.length === 0) io.stdout.write('No schedules.\n');
    else for (const r of rows) io.stdout.write(`${r.scheduleId}  ${r.paused ? 'paused ' : 'active '}  next ${r.nextActionTimes[0] ?? '-'}\n`);
    return EXIT.ok;
  });
}
