/**
 * The V8 heap bounds of a worker process, and why.
 *
 * A worker holds little: the SDKs' code, a page of plan items and up to a
 * window of deletes per run, limiter windows of the last 100 s, pool listings
 * of the last 10 s (measured: 50-70 MB live on the main thread, 30-40 MB on the
 * workflow thread, at 300 deletes in flight). But Node sizes V8's heap from the
 * machine's memory (4 GiB on a 24 GiB machine), and V8 then collects lazily,
 * letting garbage grow to several times what is live, and the SDK caches up
 * to (limit - 200 MB) x 0.6 workflows: a worker of the raw benchmark reached
 * 575-1,074 MB RSS (docs/performance.md, "Worker memory"). 256 MB of old space
 * is 4x the live main heap; V8 then collects once garbage reaches about twice
 * what is live. 4 MB semi-spaces (V8's default is 16 MB at this heap size) keep
 * the young generation of each isolate at 12 MB instead of 48.
 *
 * The main isolate's heap is sized when the process starts, so these are node
 * options of the process (WORKER_NODE_OPTIONS: the Dockerfile's CMD, `npm run
 * worker`, the benchmarks' worker). The workflow thread, which Worker.create
 * starts later, gets them from `boundWorkflowThreadHeap` whatever the process
 * was started with (the CLI's embedded worker too). The same places set
 * MALLOC_ARENA_MAX=2 (WORKER_ENV): glibc's per-thread arenas held 70-110 MB.
 */
import v8 from 'node:v8';

export const WORKER_HEAP = {
  maxOldSpaceMb: 256,
  maxSemiSpaceMb: 4,
  /**
   * Workflows kept in the workflow thread's cache: the SDK's own default for
   * this heap, (256 - 200) x 600 / 1024. A run is one cached workflow; a
   * worker serving more runs at once replays the others' histories.
   */
  maxCachedWorkflows: 32,
} as const;

/** Node options that start a worker process with the bounds above. */
export const WORKER_NODE_OPTIONS = [`--max-old-space-size=${WORKER_HEAP.maxOldSpaceMb}`, `--max-semi-space-size=${WORKER_HEAP.maxSemiSpaceMb}`] as const;

/** Environment a worker process is started with: read by glibc when the process starts. */
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/** Bounds every isolate this process starts from now on: the workflow thread that Worker.create starts. */
export function boundWorkflowThreadHeap(): void {
  for (const option of WORKER_NODE_OPTIONS) v8.setFlagsFromString(option);
}

/** The main isolate's heap limit in MB, and whether the process was started within the bound (with a little room for V8's own rounding). */
export function mainHeapLimit(): { limitMb: number; bounded: boolean } {
  const limitMb = Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  return { limitMb, bounded: limitMb <= WORKER_HEAP.maxOldSpaceMb + 4 * WORKER_HEAP.maxSemiSpaceMb + 16 };
}
