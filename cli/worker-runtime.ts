/**
 * The Temporal worker runtime of the CLI's embedded worker. Installed only
 * when a command starts a worker, so that every other command skips loading
 * the SDK's native core; and only when the process entry asked for it: a test
 * that runs commands in-process keeps its own runtime.
 */
import type * as WorkerSdk from '@temporalio/worker';

let wanted = false;

/** Called by the process entry (cli/main.ts): the embedded worker then logs errors only. */
export function useQuietWorkerRuntime(): void {
  wanted = true;
}

/** Before the first native connection: installs the quiet runtime once, when the entry asked for it. */
export function installWorkerRuntime(sdk: typeof WorkerSdk): void {
  if (!wanted) return;
  wanted = false;
  // The embedded worker's own logs (each retried attempt is a warning) would
  // bury the progress line; the audit log has every attempt. The CLI handles
  // Ctrl-C itself (shutdownSignals: []).
  sdk.Runtime.install({
    shutdownSignals: [],
    logger: new sdk.DefaultLogger('ERROR'),
    // Core logs straight to the console: forwarding them keeps a timer that holds the process open.
    telemetryOptions: { logging: { filter: sdk.makeTelemetryFilterString({ core: 'ERROR' }), console: {} } },
  });
}
