/**
 * The live progress line of `run` and `status --watch`: a bar with
 * counts by outcome, the current rate and what is in flight. On a terminal it
 * redraws one line; elsewhere it prints a line every few seconds.
 */
import type { CleanupProgress } from '../workflows/cleanup';
import type { OutputStream } from './command-io';

export function formatProgress(p: CleanupProgress, width = 24): string {
  const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const counts = Object.entries(p.counts)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
  const state = p.paused ? ` PAUSED${p.pauseReason ? ` (${p.pauseReason})` : ''}` : p.stopReason ? ` STOPPING (${p.stopReason})` : '';
  return (
    `${bar} ${p.done}/${p.total} ${(fraction * 100).toFixed(0)}%` +
    ` | ${counts || 'nothing finished yet'} | ${p.ratePerSecond}/s | in flight ${p.inFlight}` +
    ` | ${p.phase}${state}`
  );
}

export class ProgressLine {
  private lastPrinted = 0;
  constructor(private readonly stream: OutputStream) {}

  update(progress: CleanupProgress): void {
    const line = formatProgress(progress);
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line.slice(0, (this.stream.columns ?? 200) - 1)}`);
    } else if (Date.now() - this.lastPrinted >= 5_000) {
      this.lastPrinted = Date.now();
      this.stream.write(`${line}\n`);
    }
  }

  end(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
