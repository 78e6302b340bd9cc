/**
 * The live progress line of `run`, `status --watch` and `restore --execute`,
 * written for a person: what the run is doing now, a bar, counts by outcome,
 * the current rate against its limit and when it should end. On a terminal
 * it redraws one line; elsewhere it prints a line every few seconds.
 *
 *   preparing 300 items: checking the input and which app clients use their scopes; nothing is deleted before that (4s)
 *   [######------------------]  75/300  25% | deleted 70, failed 5 | 12.4/s of 15/s limit | ETA 18s | in flight 30
 */
import type { CleanupProgress } from '../workflows/cleanup';
import type { OutputStream } from './command-io';

export interface ProgressHints {
  /** Items the run goes through, known to `run` before the workflow has read its plan. */
  items?: number;
  /** Now (ms since the epoch); the clock by default. */
  now?: number;
}

export function formatProgress(p: CleanupProgress, hints: ProgressHints = {}): string {
  const now = hints.now ?? Date.now();
  if (p.phase === 'preparing') {
    const items = p.total || hints.items;
    const since = formatDuration((now - Date.parse(p.startedAt)) / 1000);
    return (
      `preparing${items ? ` ${items} item${items === 1 ? '' : 's'}` : ''}: checking the input and which app clients use ` +
      `${items === 1 ? 'its' : 'their'} scopes${p.execute ? '; nothing is deleted before that' : ''} (${since})`
    );
  }
  const parts = [
    `${bar(p.done, p.total)} ${String(p.done).padStart(String(p.total).length)}/${p.total} ${percent(p.done, p.total)}`,
    countsText(p.counts) || 'nothing finished yet',
    // Only deletes are held to the run's rate; a dry-run's reads have Cognito's own quota.
    `${p.ratePerSecond}/s${p.execute ? ` of ${p.limits.rate}/s limit` : ''}`,
  ];
  const remaining = p.total - p.done;
  if (p.paused) {
    parts.push(`PAUSED${p.pauseReason ? ` (${p.pauseReason})` : ''}`);
  } else if (p.stopReason) {
    parts.push(`STOPPING (${p.stopReason})`);
  } else if ((p.phase === 'running' || p.phase === 'draining') && remaining > 0) {
    parts.push(p.ratePerSecond > 0 ? `ETA ${formatDuration(remaining / p.ratePerSecond)}` : 'ETA: once items finish');
  }
  if (p.inFlight > 0) parts.push(`in flight ${p.inFlight}`);
  if (p.requeued > 0) parts.push(`requeued ${p.requeued}`);
  if (p.phase === 'draining') parts.push('finishing the calls in flight');
  if (p.phase === 'writing-manifest') parts.push('writing the manifest');
  return parts.join(' | ');
}

/** The line of work that is not a cleanup run (restore): done of total, counts, the average rate and the ETA. */
export function formatCountProgress(done: number, total: number, counts: Record<string, number>, startedAt: number, now = Date.now()): string {
  const elapsed = (now - startedAt) / 1000;
  const rate = elapsed > 0 ? done / elapsed : 0;
  const parts = [`${bar(done, total)} ${done}/${total} ${percent(done, total)}`, countsText(counts) || 'nothing finished yet', `${rate.toFixed(1)}/s`];
  if (done < total && rate > 0) parts.push(`ETA ${formatDuration((total - done) / rate)}`);
  return parts.join(' | ');
}

/** 45s, 3m 05s, 2h 07m. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function bar(done: number, total: number, width = 24): string {
  const filled = Math.round((total > 0 ? Math.min(1, done / total) : 0) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function percent(done: number, total: number): string {
  return `${total > 0 ? Math.floor((Math.min(done, total) / total) * 100) : 0}%`;
}

function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(', ');
}

export class ProgressLine {
  private lastPrinted = 0;
  /** The last line shown; off a terminal, the last one printed. */
  private last = '';
  constructor(private readonly stream: OutputStream) {}

  update(line: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line.slice(0, (this.stream.columns ?? 200) - 1)}`);
      this.last = line;
    } else if (Date.now() - this.lastPrinted >= 5_000 || (this.last.startsWith('preparing') && !line.startsWith('preparing'))) {
      // Elsewhere (a log, a pipe): a line every few seconds, and one as soon as the deletes begin.
      this.lastPrinted = Date.now();
      this.stream.write(`${line}\n`);
      this.last = line;
    }
  }

  end(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }

  /** The last state, always shown (off a terminal too, unless it was the last line printed), then the end of the line. */
  finish(line: string): void {
    if (this.stream.isTTY) this.update(line);
    else if (line !== this.last || this.lastPrinted === 0) this.stream.write(`${line}\n`);
    this.end();
  }
}
