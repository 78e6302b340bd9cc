/**
 * Group commit for fsync: many callers, each needing what it wrote to be on
 * the disk before it goes on, share the fsyncs instead of paying one each.
 * A caller that arrives while a sync runs (which may have started before its
 * write) waits for the next one, which every such caller shares; a caller
 * never resolves on a sync that started before its call.
 */
export class SharedSync {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly sync: () => Promise<void>) {}

  /** No sync is running or waiting to run. */
  get idle(): boolean {
    return this.running === undefined && this.queued === undefined;
  }

  /** Resolves after a sync that started after this call; rejects with that sync's error. */
  request(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    if (this.running === undefined) return this.start();
    const queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    this.queued = queued;
    return queued;
  }

  private start(): Promise<void> {
    const running: Promise<void> = Promise.resolve()
      .then(this.sync)
      .finally(() => {
        if (this.running === running) this.running = undefined;
      });
    this.running = running;
    return running;
  }
}
