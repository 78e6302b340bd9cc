/**
 * Starts one Temporal dev server for the whole test suite and hands its address
 * to the tests through vitest's provide/inject.
 */
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../common/temporal-dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startDevServer({ startTimeoutMs: 120_000 });
  project.provide('temporalAddress', server.address);
  return () => server.stop();
}
