/**
 * Time and peak memory of the one pass from an input file to a plan
 * (validateInputToPlan in common/input-to-plan.ts): reading, validating,
 * dropping duplicates, writing the fairly ordered plan and the reports.
 * Numbers in docs/performance.md ("Reading the input").
 *
 *   npx tsx bench/input-throughput.ts [rows] [name...]     (default 1,000,000 rows, every input)
 *
 * Generates, in a temporary directory, inputs of `rows` rows:
 * - csv:          a CSV (userPoolId,identifier,tenant,ticket) over 50 pools, about 67 bytes a row;
 * - csv-bad-last: the same with one invalid row at the very end (what an operator waits for);
 * - csv-pools:    every row in its own user pool (the fair ordering's worst case);
 * - jsonl:        the first CSV as JSON Lines.
 * Each is measured in a fresh child process, so its peak RSS
 * (process.resourceUsage().maxRSS) is that of the pass alone. The machine is
 * shared: the load average is printed with every line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateInputToPlan } from '../common/input-to-plan';

const POOLS = 50;

interface Measurement {
  seconds: number;
  /** CPU time of the pass (user + system): less sensitive than wall time to what else runs on a shared machine. */
  cpuSeconds: number;
  maxRssMB: number;
  total: number;
  errors: number;
  firstError?: string;
}

async function measure(file: string): Promise<Measurement> {
  const outDir = fs.mkdtempSync(path.join(path.dirname(file), 'plan-'));
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const prepared = await validateInputToPlan({ path: file }, outDir);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const result: Measurement = {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    total: prepared.total,
    errors: prepared.errors,
  };
  if (prepared.firstErrors[0]) result.firstError = `${prepared.firstErrors[0].row}: ${prepared.firstErrors[0].reason}`;
  fs.rmSync(outDir, { recursive: true, force: true });
  return result;
}

async function writeLines(file: string, count: number, line: (index: number) => string, last?: string): Promise<void> {
  const stream = fs.createWriteStream(file);
  const batch = 10_000;
  for (let start = 0; start < count; start += batch) {
    let text = '';
    for (let index = start; index < Math.min(count, start + batch); index++) text += line(index);
    if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
  if (last !== undefined) stream.write(last);
  await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

const csvRow = (index: number) => `us-east-1_Pool${String(index % POOLS).padStart(4, '0')},https://api.example.com/rs/${index},tenant-${index % 997},OPS-${index % 10_000}\n`;

async function main(): Promise<void> {
  if (process.argv[2] === '--measure') {
    process.stdout.write(JSON.stringify(await measure(process.argv[3]!)));
    return;
  }
  const rows = Number(process.argv[2] ?? 1_000_000);
  const only = process.argv.slice(3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-cleanup-input-bench-'));
  try {
    const inputs: { name: string; file: string }[] = [];
    const csv = path.join(dir, 'input.csv');
    await writeLines(csv, rows, (index) => (index === 0 ? 'userPoolId,identifier,tenant,ticket\n' : '') + csvRow(index));
    inputs.push({ name: 'csv', file: csv });
    const badLast = path.join(dir, 'bad-last.csv');
    await writeLines(badLast, rows, (index) => (index === 0 ? 'userPoolId,identifier,tenant,ticket\n' : '') + csvRow(index), 'us-east-1_Pool0001,has a space,x,y\n');
    inputs.push({ name: 'csv-bad-last', file: badLast });
    const manyPools = path.join(dir, 'many-pools.csv');
    await writeLines(manyPools, rows, (index) => `${index === 0 ? 'userPoolId,identifier\n' : ''}us-east-1_P${index},https://api.example.com/rs/${index}\n`);
    inputs.push({ name: 'csv-pools', file: manyPools });
    const jsonl = path.join(dir, 'input.jsonl');
    await writeLines(jsonl, rows, (index) =>
      `${JSON.stringify({ userPoolId: `us-east-1_Pool${String(index % POOLS).padStart(4, '0')}`, identifier: `https://api.example.com/rs/${index}`, tenant: `tenant-${index % 997}` })}\n`,
    );
    inputs.push({ name: 'jsonl', file: jsonl });

    console.log(`node ${process.version}, ${os.cpus().length} cores, ${rows.toLocaleString('en-US')} rows per input`);
    for (const { name, file } of inputs.filter((input) => only.length === 0 || only.includes(input.name))) {
      const sizeMB = fs.statSync(file).size / 1024 ** 2;
      const load = os.loadavg()[0]!.toFixed(2);
      const output = execFileSync(process.execPath, [...process.execArgv, __filename, '--measure', file], { encoding: 'utf8' });
      const result = JSON.parse(output) as Measurement;
      console.log(
        `${name.padEnd(13)} ${sizeMB.toFixed(1).padStart(6)} MB  ${result.seconds.toFixed(2).padStart(6)} s (CPU ${result.cpuSeconds.toFixed(2)} s)  ` +
          `${Math.round(rows / result.seconds).toLocaleString('en-US').padStart(9)} rows/s  peak RSS ${String(result.maxRssMB).padStart(4)} MB  ` +
          `plan ${result.total.toLocaleString('en-US')} items, ${result.errors} error(s)  load ${load}` +
          (result.firstError ? `  first error: row ${result.firstError}` : ''),
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
