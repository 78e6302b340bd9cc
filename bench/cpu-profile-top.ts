/**
 * The top entries of a V8 CPU profile (`node --cpu-prof`): self time by
 * function and by package or project file, and total (inclusive) time of the
 * project's own functions. docs/performance.md quotes its output.
 *
 *   npx tsx bench/cpu-profile-top.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(values.top);

/** Where a function lives: a package under node_modules, a project file, or V8/Node itself. */
function placeOf(url: string): string {
  if (url === '') return '(V8 / native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const project = /\/(activities|common|cognito|workflows|worker|bench|emulator)\/[^/]+$/.exec(url);
  if (project) return project[0].slice(1);
  return url.replace(/^file:\/\//, '');
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((n, [, us]) => n + us, 0);
  const busy = totalUs - idle;

  const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  const inclusiveProject = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    add(byFunction, `${functionName || '(anonymous)'} ${placeOf(url)}:${lineNumber + 1}`, us);
    add(byPlace, placeOf(url), us);
    // Inclusive time of the project's own functions: each counted once per sample.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      const place = placeOf(frame.url);
      if (!/^(activities|common|cognito|worker)\//.test(place)) continue;
      const key = `${frame.functionName || '(anonymous)'} ${place}:${frame.lineNumber + 1}`;
      if (!seen.has(key)) add(inclusiveProject, key, us), seen.add(key);
    }
  }
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1)}%`;
  const rows = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `| ${k} | ${(us / 1000).toFixed(0)} | ${pct(us)} |`).join('\n');
  console.log(`## ${file}\n`);
  console.log(`profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s\n`);
  console.log(`### Self time by package or file\n\n| where | ms | of busy |\n|---|---|---|\n${rows(byPlace)}\n`);
  console.log(`### Self time by function\n\n| function | ms | of busy |\n|---|---|---|\n${rows(byFunction)}\n`);
  console.log(`### Total time of the project's functions\n\n| function | ms | of busy |\n|---|---|---|\n${rows(inclusiveProject)}\n`);
}
