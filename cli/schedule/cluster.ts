/**
 * Schedules live in a Temporal cluster that keeps running: with the embedded
 * default there would be no server (and no worker) when the schedule fires.
 */
import { withTarget, type TemporalTarget } from '../temporal-target';
import { UsageError } from '../exit-codes';
import type { CommandIo } from '../command-io';

export async function withCluster<T>(io: CommandIo, action: (target: TemporalTarget) => Promise<T>, taskQueue?: string): Promise<T> {
  if (!io.env.TEMPORAL_ADDRESS?.trim()) {
    throw new UsageError(
      'schedules need a Temporal cluster that keeps running (set TEMPORAL_ADDRESS); the embedded dev server lives only while a command runs',
    );
  }
  return withTarget(io, action, taskQueue);
}
