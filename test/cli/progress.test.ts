/**
 * The progress line a person reads (cli/progress.ts): what the run is doing
 * while it prepares instead of `0/0 0%`, the rate against its limit, an ETA
 * while items finish and none while paused; and, off a terminal, a line as
 * soon as the deletes begin.
 */
import { describe, expect, it } from 'vitest';
import type { CleanupProgress } from '../../workflows/cleanup';
import { emptyCounts } from '../../common/types';
import { formatCountProgress, formatDuration, formatProgress, ProgressLine } from '../../cli/progress';
import { CapturedOutput } from '../helpers/cli-io';

const startedAt = '2026-01-01T00:00:00.000Z';
const at = (seconds: number) => Date.parse(startedAt) + seconds * 1000;

function progress(fields: Partial<CleanupProgress>): CleanupProgress {
  return {
    phase: 'running',
    execute: true,
    total: 300,
    done: 0,
    counts: emptyCounts(),
    inFlight: 0,
    requeued: 0,
    ratePerSecond: 0,
    limits: { rate: 15, poolRate: 5, window: 30 },
    paused: false,
    generation: 1,
    historyLength: 10,
    startedAt,
    ...fields,
  };
}

describe('the progress line', () => {
  it('says what a preparing run is doing, with the item count the CLI knows, not 0/0 0%', () => {
    const line = formatProgress(progress({ phase: 'preparing', total: 0 }), { items: 300, now: at(4) });
    expect(line).toBe('preparing 300 items: checking the input and which app clients use their scopes; nothing is deleted before that (4s)');
    expect(line).not.toMatch(/0\/0/);
    // status --watch knows no count until the workflow has one; a dry-run promises nothing about deletes.
    expect(formatProgress(progress({ phase: 'preparing', total: 0, execute: false }), { now: at(75) })).toBe(
      'preparing: checking the input and which app clients use their scopes (1m 15s)',
    );
  });

  it('shows the bar, the counts, the rate against the limit, the ETA and what is in flight', () => {
    const line = formatProgress(
      progress({ done: 75, counts: { ...emptyCounts(), deleted: 70, failed: 5 }, ratePerSecond: 12.5, inFlight: 30 }),
      { now: at(10) },
    );
    expect(line).toBe('[######------------------]  75/300 25% | deleted 70, failed 5 | 12.5/s of 15/s limit | ETA 18s | in flight 30');
  });

  it('a dry-run has no delete limit to show; a paused run no ETA; a run with nothing finished yet says so', () => {
    expect(formatProgress(progress({ execute: false, done: 150, ratePerSecond: 50 }))).toMatch(/\| 50\/s \| ETA 3s$/);
    const paused = formatProgress(progress({ done: 150, ratePerSecond: 3, paused: true, pauseReason: 'change freeze', phase: 'paused' }));
    expect(paused).toMatch(/\| PAUSED \(change freeze\)$/);
    expect(paused).not.toMatch(/ETA/);
    expect(formatProgress(progress({}))).toMatch(/nothing finished yet \| 0\/s of 15\/s limit \| ETA: once items finish$/);
  });

  it('says when the run is finishing the calls in flight or writing its manifest', () => {
    expect(formatProgress(progress({ phase: 'draining', done: 290, inFlight: 10, stopReason: 'cancelled: by the operator' }))).toMatch(
      /STOPPING \(cancelled: by the operator\) \| in flight 10 \| finishing the calls in flight$/,
    );
    expect(formatProgress(progress({ phase: 'writing-manifest', done: 300 }))).toMatch(/300\/300 100% .* \| writing the manifest$/);
  });

  it('restore: done of total, counts, the average rate and the ETA', () => {
    expect(formatCountProgress(10, 40, { restored: 9, conflict: 1 }, at(0), at(5))).toBe(
      '[######------------------] 10/40 25% | restored 9, conflict 1 | 2.0/s | ETA 15s',
    );
  });

  it('durations read as a person says them', () => {
    expect([0.4, 45, 185, 7_620].map(formatDuration)).toEqual(['0s', '45s', '3m 05s', '2h 07m']);
  });

  it('off a terminal: a line every few seconds, and one as soon as the deletes begin', () => {
    const out = new CapturedOutput();
    const line = new ProgressLine(out);
    line.update('preparing 3 items: ...');
    line.update('preparing 3 items: ... later');
    line.update('[--------] 0/3 0% | nothing finished yet');
    line.update('[###-----] 1/3 33% | deleted 1');
    expect(out.text.split('\n').filter(Boolean)).toEqual(['preparing 3 items: ...', '[--------] 0/3 0% | nothing finished yet']);
  });
});
