/**
 * Builds the activities a worker registers, from their dependencies. Tests call
 * this with clients pointed at the emulator; the worker with its configuration.
 */
import { CognitoClients, type CognitoClientOptions } from './cognito-clients';
import { CognitoRateLimiter, type RateSettings } from './rate-limiter';
import { createDeleteResourceServer } from './delete-resource-server';
import { createPrepareInput } from './prepare-input';
import { readPlanPage } from './read-plan-page';
import { recordOutcomes } from './record-outcomes';
import { writeManifest } from './write-manifest';

export interface ActivityConfig {
  cognito: CognitoClientOptions;
  /** DeleteResourceServer limits of this worker (Cognito: 15/s per account, 5/s per pool). */
  deleteRates: RateSettings;
  /** DescribeResourceServer limits (Cognito: 20/s per account, 5/s per pool). */
  readRates: RateSettings;
  /** Where runs write their audit and manifest unless the run names a directory. */
  auditDir: string;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
}

export interface ActivityDeps {
  clients: CognitoClients;
  deleteLimiter: CognitoRateLimiter;
  readLimiter: CognitoRateLimiter;
}

export function createActivityDeps(config: ActivityConfig): ActivityDeps {
  return {
    clients: new CognitoClients(config.cognito),
    deleteLimiter: new CognitoRateLimiter(config.deleteRates),
    readLimiter: new CognitoRateLimiter(config.readRates),
  };
}

export async function closeActivityDeps(deps: ActivityDeps): Promise<void> {
  deps.clients.destroy();
  await deps.deleteLimiter.stop();
  await deps.readLimiter.stop();
}

export function createActivities(config: ActivityConfig, deps: ActivityDeps) {
  return {
    prepareInput: createPrepareInput(config.auditDir),
    readPlanPage,
    deleteResourceServer: createDeleteResourceServer({
      ...deps,
      retryBaseDelayMs: config.retryBaseDelayMs,
      retryMaxDelayMs: config.retryMaxDelayMs,
    }),
    recordOutcomes,
    writeManifest,
  };
}

export type CleanupActivities = ReturnType<typeof createActivities>;
