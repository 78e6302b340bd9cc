/**
 * The cached workflow bundle (worker/workflow-bundle.ts): built once, then
 * read from the cache; rebuilt whenever anything it was made of changes (a
 * source file, a new file that an import now resolves to, the bundle file
 * itself); never cached from a build that may have read a file mid-change;
 * safe with two builds at once; and what it returns runs as a real worker's
 * workflow code against the suite's server.
 *
 * The fixture workflows live inside the project (in .vitest-temporal/, which
 * git ignores), so that webpack finds @temporalio/workflow as it does for the
 * real ones; not under node_modules, which the bundler does not compile.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadWorkflowBundle, WORKFLOWS_PATH } from '../../worker/workflow-bundle';
import { connectClient, quietRuntime, temporalAddress, uniqueTaskQueue } from '../helpers/temporal';

const root = path.join(__dirname, '..', '..', '.vitest-temporal', `bundle-${randomUUID()}`);

describe('the cached workflow bundle', () => {
  let dir: string;
  let workflows: string;
  let cacheDir: string;
  const load = () => loadWorkflowBundle({ workflowsPath: workflows, cacheDir });

  beforeEach(async () => {
    dir = path.join(root, randomUUID());
    workflows = path.join(dir, 'workflows');
    cacheDir = path.join(dir, 'cache');
    await mkdir(workflows, { recursive: true });
    await mkdir(path.join(dir, 'shared', 'greeting'), { recursive: true });
    await writeFile(path.join(workflows, 'index.ts'), "export * from './hello';\n");
    await writeFile(
      path.join(workflows, 'hello.ts'),
      "import { GREETING } from '../shared/greeting';\nexport async function hello(): Promise<string> {\n  return GREETING;\n}\n",
    );
    // '../shared/greeting' resolves to the directory's index.ts until a greeting.ts appears next to it.
    await writeFile(path.join(dir, 'shared', 'greeting', 'index.ts'), "export const GREETING = 'greeting-one';\n");
    // Sources written "just now" would count as changing during the build: date them back.
    await backdate(dir);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  async function backdate(folder: string): Promise<void> {
    const past = new Date(Date.now() - 60_000);
    for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) await utimes(path.join(entry.parentPath, entry.name), past, past);
    }
  }

  it('is built once, then read from the cache: one bundle and one manifest on disk', async () => {
    const first = await load();
    expect(first.source).toBe('built');
    expect(first.note).toBe('no cached bundle yet');
    expect(first.bundle.code).toContain('greeting-one');
    const second = await load();
    expect(second.source).toBe('cache');
    expect(second.bundle.code).toBe(first.bundle.code);
    const files = (await readdir(cacheDir)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^bundle-[0-9a-f]{32}\.js$/);
    expect(files[1]).toMatch(/^workflows-[0-9a-f]{16}\.json$/);
    // The manifest names every source the bundle was made of, the SDK's among them.
    const manifest = JSON.parse(await readFile(path.join(cacheDir, files[1]!), 'utf8')) as { inputs: Record<string, string> };
    expect(Object.keys(manifest.inputs)).toEqual(
      expect.arrayContaining([path.join(workflows, 'hello.ts'), path.join(dir, 'shared', 'greeting', 'index.ts')]),
    );
    expect(Object.keys(manifest.inputs).some((file) => file.includes(path.join('@temporalio', 'workflow', 'package.json')))).toBe(true);
  });

  it('is rebuilt when a file it imports changes', async () => {
    await load();
    await writeFile(path.join(dir, 'shared', 'greeting', 'index.ts'), "export const GREETING = 'greeting-two';\n");
    await backdate(dir);
    const changed = await load();
    expect(changed.source).toBe('built');
    expect(changed.note).toMatch(/greeting\/index\.ts changed/);
    expect(changed.bundle.code).toContain('greeting-two');
    expect(changed.bundle.code).not.toContain('greeting-one');
    expect((await load()).source).toBe('cache');
  });

  it('is rebuilt when a new file changes what an import resolves to', async () => {
    await load();
    await writeFile(path.join(dir, 'shared', 'greeting.ts'), "export const GREETING = 'greeting-shadow';\n");
    await backdate(dir);
    const shadowed = await load();
    expect(shadowed.source).toBe('built');
    expect(shadowed.note).toMatch(/greeting\.ts is new/);
    expect(shadowed.bundle.code).toContain('greeting-shadow');
  });

  it('is rebuilt when the cached bundle file is damaged', async () => {
    const first = await load();
    await writeFile(first.file!, first.bundle.code.slice(0, 1000));
    const again = await load();
    expect(again.source).toBe('built');
    expect(again.note).toBe('the cached bundle file is damaged');
    expect(again.bundle.code).toBe(first.bundle.code);
    expect((await load()).source).toBe('cache');
  });

  it('is not cached from a build during which a source file changed', async () => {
    // A modification time after the build started: the build may have read the file half-written.
    const future = new Date(Date.now() + 60_000);
    await utimes(path.join(workflows, 'hello.ts'), future, future);
    const built = await load();
    expect(built.source).toBe('built');
    expect(built.note).toMatch(/not cached: a source file changed while it was bundled/);
    expect(await readdir(cacheDir).catch(() => [])).toEqual([]);
  });

  it('two builds at once both succeed and leave one valid cache', async () => {
    const [a, b] = await Promise.all([load(), load()]);
    expect(a.bundle.code).toBe(b.bundle.code);
    const cached = await load();
    expect(cached.source).toBe('cache');
    expect(cached.bundle.code).toBe(a.bundle.code);
    expect((await readdir(cacheDir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('a cache directory that cannot be written costs the cache, not the bundle', async () => {
    await writeFile(path.join(dir, 'not-a-directory'), '');
    const built = await loadWorkflowBundle({ workflowsPath: workflows, cacheDir: path.join(dir, 'not-a-directory', 'cache') });
    expect(built.source).toBe('built');
    expect(built.note).toMatch(/not cached: .*(ENOTDIR|EEXIST)/);
    expect(built.bundle.code).toContain('greeting-one');
  });

  it('a cached bundle runs as a worker\'s workflow code', async () => {
    await load();
    const cached = await load();
    expect(cached.source).toBe('cache');
    quietRuntime();
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    const client = await connectClient();
    try {
      const taskQueue = uniqueTaskQueue('bundle');
      const worker = await Worker.create({ connection, namespace: 'default', taskQueue, workflowBundle: cached.bundle });
      const result = await worker.runUntil(client.workflow.execute('hello', { taskQueue, workflowId: `bundle-${randomUUID()}` }));
      expect(result).toBe('greeting-one');
    } finally {
      await client.connection.close();
      await connection.close();
    }
  });

  it("the project's own workflows bundle and cache the same way", async () => {
    const projectCache = path.join(dir, 'project-cache');
    const first = await loadWorkflowBundle({ workflowsPath: WORKFLOWS_PATH, cacheDir: projectCache });
    const second = await loadWorkflowBundle({ workflowsPath: WORKFLOWS_PATH, cacheDir: projectCache });
    expect(first.source).toBe('built');
    expect(second.source).toBe('cache');
    expect(second.bundle.code).toContain('cleanupWorkflow');
  });
});
