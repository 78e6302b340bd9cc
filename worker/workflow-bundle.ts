/**
 * The workflow code, bundled once per version of it instead of at every
 * worker start (webpack takes seconds; reading a cached bundle, milliseconds).
 * Used by every rs-cleanup worker: worker/main.ts and the CLI's embedded one,
 * both through createCleanupWorker.
 *
 * The cache is safe because it is keyed by what the bundle was made of, as
 * webpack itself tracks it for its watch mode: every file the build read (the
 * workflows, what they import from common/, the @temporalio/workflow sources,
 * the package.json files on the way) with its sha256, and every path the build
 * looked for and did not find (a new file there could change what an import
 * resolves to). A cached bundle is used only when all of those are as they
 * were, the bundler (@temporalio/worker) is the same version, and the bundle
 * file's own sha256 matches; otherwise it is rebuilt and replaces the cache.
 * Files are written aside and renamed into place, so a reader never sees half
 * a bundle, and two processes building at once both end with a valid cache.
 * A file changed while the bundle was being built leaves the cache as it was.
 *
 * Location: RS_CLEANUP_BUNDLE_CACHE, default node_modules/.cache/rs-cleanup/
 * workflow-bundle (the project's own dependencies directory: whoever can write
 * there can change the code anyway, and `npm ci` starts it afresh);
 * RS_CLEANUP_BUNDLE_CACHE=off bundles in memory at each start, as the SDK does.
 * A directory that cannot be written (a read-only image) costs the cache, not
 * the start: the bundle is then built in memory.
 */
import { createHash } from 'node:crypto';
import { writeFileAtomicallySync } from '../common/files';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows');
const REPO_ROOT = path.resolve(__dirname, '..');

/** Changes when the manifest's layout or meaning does: older manifests are then ignored. */
const MANIFEST_FORMAT = 1;
/** Files a build left behind (an older version, a crashed write) are removed after this long. */
const STALE_FILE_MS = 60 * 60 * 1000;
/** A file changed this soon before the build started may have been read half-written (coarse timestamps). */
const CHANGE_SLACK_MS = 2_000;

export interface WorkflowBundle {
  code: string;
}

export interface LoadedWorkflowBundle {
  bundle: WorkflowBundle;
  /** `cache`: read from the cache; `built`: bundled now (and cached, unless `note` says why not). */
  source: 'cache' | 'built';
  /** Why the cache was not used, or not written. */
  note?: string;
  /** The cached bundle file, when there is one. */
  file?: string;
}

export interface WorkflowBundleOptions {
  workflowsPath?: string;
  /** The cache directory; `false`: no cache. Default: from `env` (see bundleCacheDir). */
  cacheDir?: string | false;
  env?: NodeJS.ProcessEnv;
}

interface Manifest {
  format: number;
  bundler: string;
  workflowsPath: string;
  /** The bundle file's name in the cache directory, and its sha256. */
  bundle: string;
  bundleSha256: string;
  /** Every path the build read: a file's sha256, or 'dir'. */
  inputs: Record<string, string>;
  /** Every path the build looked for and did not find. */
  absent: string[];
}

/** Where bundles are cached, or false when RS_CLEANUP_BUNDLE_CACHE=off. */
function bundleCacheDir(env: NodeJS.ProcessEnv = process.env): string | false {
  const setting = env.RS_CLEANUP_BUNDLE_CACHE?.trim();
  if (setting === 'off') return false;
  return path.resolve(setting || path.join(REPO_ROOT, 'node_modules', '.cache', 'rs-cleanup', 'workflow-bundle'));
}

/** The bundle of `workflowsPath`: from the cache when it is current, else built (and cached). */
export async function loadWorkflowBundle(options: WorkflowBundleOptions = {}): Promise<LoadedWorkflowBundle> {
  const workflowsPath = path.resolve(options.workflowsPath ?? WORKFLOWS_PATH);
  const cacheDir = options.cacheDir ?? bundleCacheDir(options.env);
  if (cacheDir === false) return { bundle: (await build(workflowsPath)).bundle, source: 'built', note: 'cache off (RS_CLEANUP_BUNDLE_CACHE=off)' };

  const bundler = bundlerVersion();
  const manifestFile = path.join(cacheDir, `${cacheKey(workflowsPath, bundler)}.json`);
  const cached = readCached(manifestFile, cacheDir, workflowsPath, bundler);
  if (cached.bundle) return { bundle: cached.bundle, source: 'cache', file: cached.file! };

  const built = await build(workflowsPath);
  let note = cached.why;
  let file: string | undefined;
  try {
    file = writeCache(cacheDir, manifestFile, workflowsPath, bundler, built);
    if (!file) note += '; not cached: a source file changed while it was bundled';
  } catch (err) {
    note += `; not cached: ${(err as Error).message}`;
  }
  return { bundle: built.bundle, source: 'built', note, ...(file ? { file } : {}) };
}

function bundlerVersion(): string {
  return (createRequire(__filename)('@temporalio/worker/package.json') as { version: string }).version;
}

/** One manifest per workflows directory and bundler version. */
function cacheKey(workflowsPath: string, bundler: string): string {
  return `workflows-${sha256(JSON.stringify({ format: MANIFEST_FORMAT, workflowsPath, bundler })).slice(0, 16)}`;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The cached bundle when every input is as it was; else why not. */
function readCached(
  manifestFile: string,
  cacheDir: string,
  workflowsPath: string,
  bundler: string,
): { bundle?: WorkflowBundle; file?: string; why: string } {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch (err) {
    return { why: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no cached bundle yet' : `unreadable cache manifest (${(err as Error).message})` };
  }
  try {
    if (manifest.format !== MANIFEST_FORMAT || manifest.bundler !== bundler || manifest.workflowsPath !== workflowsPath) {
      return { why: 'the cached bundle is of another bundler version' };
    }
    for (const [file, recorded] of Object.entries(manifest.inputs)) {
      const stats = statOrUndefined(file);
      const now = !stats ? 'absent' : stats.isDirectory() ? 'dir' : sha256(readFileSync(file));
      if (now !== recorded) return { why: `${path.relative(REPO_ROOT, file) || file} changed` };
    }
    for (const file of manifest.absent) {
      if (statOrUndefined(file)) return { why: `${path.relative(REPO_ROOT, file) || file} is new` };
    }
    const file = path.join(cacheDir, path.basename(manifest.bundle));
    const code = readFileSync(file);
    if (sha256(code) !== manifest.bundleSha256) return { why: 'the cached bundle file is damaged' };
    return { bundle: { code: code.toString('utf8') }, file, why: '' };
  } catch (err) {
    return { why: `the cache could not be read (${(err as Error).message})` };
  }
}

interface Built {
  bundle: WorkflowBundle;
  startedAt: number;
  fileDependencies: string[];
  missingDependencies: string[];
}

/** Bundles with the SDK's bundler, recording what webpack read and looked for. */
async function build(workflowsPath: string): Promise<Built> {
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const startedAt = Date.now();
  let fileDependencies: string[] = [];
  let missingDependencies: string[] = [];
  const bundle = await bundleWorkflowCode({
    workflowsPath,
    logger: new DefaultLogger('WARN'),
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        {
          apply(compiler) {
            compiler.hooks.done.tap('rs-cleanup-bundle-inputs', (stats) => {
              fileDependencies = [...stats.compilation.fileDependencies];
              missingDependencies = [...stats.compilation.missingDependencies];
            });
          },
        },
      ],
    }),
  });
  if (fileDependencies.length === 0) throw new Error('the workflow bundler reported no input files; cannot key the bundle cache');
  return { bundle, startedAt, fileDependencies, missingDependencies };
}

/** Writes the bundle and then its manifest, each aside and renamed into place. Undefined: not cached (an input changed meanwhile). */
function writeCache(cacheDir: string, manifestFile: string, workflowsPath: string, bundler: string, built: Built): string | undefined {
  const inputs: Record<string, string> = {};
  const absent = new Set(built.missingDependencies.filter((file) => !statOrUndefined(file)));
  for (const file of built.fileDependencies) {
    const stats = statOrUndefined(file);
    if (!stats) {
      absent.add(file); // the bundler's generated entry point lives only in memory
      continue;
    }
    if (stats.isDirectory()) {
      inputs[file] = 'dir';
      continue;
    }
    if (stats.mtimeMs >= built.startedAt - CHANGE_SLACK_MS) return undefined;
    inputs[file] = sha256(readFileSync(file));
  }
  mkdirSync(cacheDir, { recursive: true });
  const code = Buffer.from(built.bundle.code, 'utf8');
  const bundleSha256 = sha256(code);
  const bundleName = `bundle-${bundleSha256.slice(0, 32)}.js`;
  writeFileAtomicallySync(path.join(cacheDir, bundleName), code);
  const manifest: Manifest = { format: MANIFEST_FORMAT, bundler, workflowsPath, bundle: bundleName, bundleSha256, inputs, absent: [...absent].sort() };
  writeFileAtomicallySync(manifestFile, JSON.stringify(manifest, null, 1));
  removeStaleFiles(cacheDir);
  return path.join(cacheDir, bundleName);
}

/** Bundles no manifest names any more, and writes that never finished, once they are old. */
function removeStaleFiles(cacheDir: string): void {
  try {
    const names = readdirSync(cacheDir);
    const named = new Set<string>();
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      try {
        named.add((JSON.parse(readFileSync(path.join(cacheDir, name), 'utf8')) as Manifest).bundle);
      } catch {
        // Not a manifest of ours, or being replaced: its bundle is kept until the next write.
      }
    }
    for (const name of names) {
      const isBundle = name.startsWith('bundle-') && name.endsWith('.js');
      if (!(isBundle && !named.has(name)) && !name.endsWith('.tmp')) continue;
      const file = path.join(cacheDir, name);
      const stats = statOrUndefined(file);
      if (stats && Date.now() - stats.mtimeMs > STALE_FILE_MS) rmSync(file, { force: true });
    }
  } catch {
    // Tidying is best effort; the cache works without it.
  }
}
