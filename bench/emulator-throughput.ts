/**
 * Emulator throughput benchmark.
 *
 *   npx tsx bench/emulator-throughput.ts [--seconds 10] [--concurrency 64]
 *
 * Starts the emulator in its own process (quotas and latency off) so the load
 * generator does not share its event loop, times seeding 100,000 resource
 * servers through the generator, then drives keep-alive HTTP requests (a mix of
 * DescribeResourceServer, ListResourceServers and DeleteResourceServer over the
 * seeded data) for a bounded time and prints requests/s and latency percentiles.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { EmulatorControl } from '../emulator/control-client';
import { DEFAULT_TEST_CREDENTIALS } from '../emulator/config';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '64' } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const POOLS = 4000;
const SERVERS_PER_POOL = 25;

async function startEmulatorProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const repoRoot = path.resolve(__dirname, '..');
  const child = spawn(path.join(repoRoot, 'node_modules/.bin/tsx'), ['emulator/main.ts', '--port', '0', '--no-quotas'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      if (parsed.msg === 'emulator listening' && parsed.url) resolve(parsed.url);
    });
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, stop };
}

function amzDate(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const emulator = await startEmulatorProcess();
  const control = new EmulatorControl(emulator.url);
  try {
    const seedStarted = performance.now();
    const seeded = await control.seed({ generate: { pools: POOLS, serversPerPool: SERVERS_PER_POOL, scopesPerServer: 1, region: 'us-east-1' } });
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const poolIds = seeded.userPools.map((pool) => pool.id);
    console.log(`seeded ${seeded.resourceServers} resource servers in ${POOLS} pools in ${seedSeconds.toFixed(2)} s`);

    const { hostname, port } = new URL(emulator.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    let date = amzDate();
    let authorization = '';
    const refreshAuth = () => {
      date = amzDate();
      authorization = `AWS4-HMAC-SHA256 Credential=${DEFAULT_TEST_CREDENTIALS.accessKeyId}/${date.slice(0, 8)}/us-east-1/cognito-idp/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`;
    };
    refreshAuth();
    const authTimer = setInterval(refreshAuth, 1000);

    let nextDelete = 0;
    const identifier = (p: number, s: number) => `https://api.example.com/pool-${p + 1}/server-${s + 1}`;
    const randomServer = () => ({ p: Math.floor(Math.random() * POOLS), s: Math.floor(Math.random() * SERVERS_PER_POOL) });

    function nextRequest(): { operation: string; body: string } {
      const r = Math.random();
      if (r < 0.5) {
        const { p, s } = randomServer();
        return { operation: 'DescribeResourceServer', body: JSON.stringify({ UserPoolId: poolIds[p], Identifier: identifier(p, s) }) };
      }
      if (r < 0.8) {
        const { p } = randomServer();
        return { operation: 'ListResourceServers', body: JSON.stringify({ UserPoolId: poolIds[p], MaxResults: 10 }) };
      }
      // Each server is deleted once, walking pools round-robin.
      const n = nextDelete++ % (POOLS * SERVERS_PER_POOL);
      const p = n % POOLS;
      const s = Math.floor(n / POOLS);
      return { operation: 'DeleteResourceServer', body: JSON.stringify({ UserPoolId: poolIds[p], Identifier: identifier(p, s) }) };
    }

    function send(): Promise<{ ms: number; outcome: string }> {
      const { operation, body } = nextRequest();
      const started = performance.now();
      return new Promise((resolve) => {
        const request = http.request(
          {
            agent,
            hostname,
            port,
            method: 'POST',
            path: '/',
            headers: {
              'content-type': 'application/x-amz-json-1.1',
              'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
              'x-amz-date': date,
              authorization,
              'content-length': Buffer.byteLength(body),
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const type = response.headers['x-amzn-errortype'];
              resolve({ ms: performance.now() - started, outcome: `${operation} ${typeof type === 'string' ? type : 'ok'}` });
            });
          },
        );
        request.on('error', (error) => resolve({ ms: performance.now() - started, outcome: `${operation} network:${error.message}` }));
        request.end(body);
      });
    }

    const latencies: number[] = [];
    const outcomes = new Map<string, number>();
    const deadline = performance.now() + seconds * 1000;
    const loadStarted = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const { ms, outcome } = await send();
          latencies.push(ms);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      }),
    );
    const elapsed = (performance.now() - loadStarted) / 1000;
    clearInterval(authTimer);
    agent.destroy();

    latencies.sort((a, b) => a - b);
    const stats = await control.stats();
    const served = Object.values(stats.operations).reduce((n, o) => n + Object.values(o).reduce((m, c) => m + c, 0), 0);
    console.log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}`);
    console.log(`load: ${concurrency} concurrent keep-alive connections for ${elapsed.toFixed(1)} s`);
    console.log(`requests: ${latencies.length} (emulator counted ${served}), ${(latencies.length / elapsed).toFixed(0)} requests/s`);
    console.log(
      `latency ms: p50 ${percentile(latencies, 50).toFixed(2)}, p90 ${percentile(latencies, 90).toFixed(2)}, p99 ${percentile(latencies, 99).toFixed(2)}, max ${(latencies[latencies.length - 1] ?? NaN).toFixed(2)}`,
    );
    console.log('outcomes:');
    for (const [outcome, count] of [...outcomes].sort()) console.log(`  ${outcome}: ${count}`);
    console.log(`deletes recorded: ${stats.deletes.length}`);
  } finally {
    await emulator.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
