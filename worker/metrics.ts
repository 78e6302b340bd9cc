/**
 * The job's own Prometheus metrics, for one worker process: delete outcomes,
 * throttled Cognito calls, and the rate the worker's limiter allows now. The
 * Temporal SDK's runtime metrics (task latencies, poller counts, ...) are on a
 * separate endpoint (TEMPORAL_METRICS_PORT, see worker/main.ts).
 *
 * A hand-written text exposition (format 0.0.4) on a small node:http server:
 * three metrics do not justify a client library. Counters are per process and
 * start at zero; sum them across workers with PromQL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeleteActivityObserver } from '../activities/delete-resource-server';
import type { Outcome } from '../common/types';

/** Outcomes a delete activity can return (cancelled items never reach a worker). */
const ACTIVITY_OUTCOMES = ['deleted', 'already-absent', 'would-delete', 'failed'] as const;

export class JobMetrics implements DeleteActivityObserver {
  private readonly outcomes = new Map<string, number>(ACTIVITY_OUTCOMES.map((o) => [o, 0]));
  private readonly throttled = new Map<string, number>();
  private deleteRate: () => number = () => 0;

  onOutcome(outcome: Outcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  onThrottled(operation: string): void {
    this.throttled.set(operation, (this.throttled.get(operation) ?? 0) + 1);
  }

  /** Read at scrape time: the limiter lowers its rate after throttling and climbs back. */
  watchDeleteRate(currentRate: () => number): void {
    this.deleteRate = currentRate;
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    const lines = [
      '# HELP rs_cleanup_deletes_total Delete activities that returned an outcome, by outcome.',
      '# TYPE rs_cleanup_deletes_total counter',
      ...[...this.outcomes].map(([outcome, n]) => `rs_cleanup_deletes_total{outcome="${escapeLabel(outcome)}"} ${n}`),
      '# HELP rs_cleanup_throttled_total Cognito calls answered with TooManyRequestsException, by operation.',
      '# TYPE rs_cleanup_throttled_total counter',
      ...[...this.throttled].map(([operation, n]) => `rs_cleanup_throttled_total{operation="${escapeLabel(operation)}"} ${n}`),
      '# HELP rs_cleanup_delete_rate_per_second DeleteResourceServer calls per second this worker allows itself now (lower after throttling).',
      '# TYPE rs_cleanup_delete_rate_per_second gauge',
      `rs_cleanup_delete_rate_per_second ${round(this.deleteRate())}`,
    ];
    return lines.join('\n') + '\n';
  }
}

export interface MetricsServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics, and GET /healthz (200 while `healthy()` says so, 503
 * otherwise) for container health checks.
 */
export async function startMetricsServer(options: {
  metrics: JobMetrics;
  host: string;
  port: number;
  healthy: () => boolean;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(options.metrics.render());
    } else if (req.method === 'GET' && url === '/healthz') {
      const ok = options.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'ok\n' : 'not running\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  // Scrapes must not keep a stopping worker alive.
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
