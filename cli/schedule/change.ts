/**
 * `rs-cleanup schedule pause|unpause|trigger|delete ID`: four commands that
 * differ only in the one call they make to the schedule.
 */
import { EXIT } from '../exit-codes';
import type { CommandIo } from '../command-io';
import { withCluster } from './cluster';

export type ScheduleChange = 'pause' | 'unpause' | 'trigger' | 'delete';

export async function scheduleChangeCommand(
  id: string,
  change: ScheduleChange,
  options: { note?: string; json: boolean },
  io: CommandIo,
): Promise<number> {
  return withCluster(io, async ({ client }) => {
    const handle = client.schedule.getHandle(id);
    if (change === 'pause') await handle.pause(options.note ?? 'paused with rs-cleanup');
    else if (change === 'unpause') await handle.unpause(options.note ?? 'unpaused with rs-cleanup');
    else if (change === 'trigger') await handle.trigger();
    else await handle.delete();
    io.stdout.write(
      options.json
        ? JSON.stringify({ scheduleId: id, action: change }) + '\n'
        : `${{ pause: 'Paused', unpause: 'Unpaused', trigger: 'Triggered', delete: 'Deleted' }[change]} schedule ${id}\n`,
    );
    return EXIT.ok;
  });
}
