/** Shared setup of the operator-command tests: a cleanup env plus the CLI's environment. */
import path from 'node:path';
import { DEFAULT_TEST_CREDENTIALS } from '../../emulator';
import type { CleanupEnv } from '../helpers/cleanup-env';
import { temporalAddress } from '../helpers/temporal';

/** The environment of a CLI process that talks to the suite's server, the test's worker and the emulator. */
export function cliEnvironment(env: CleanupEnv): NodeJS.ProcessEnv {
  return {
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_TASK_QUEUE: env.worker.taskQueue,
    COGNITO_ENDPOINT: env.emulator.url,
    AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
    RS_CLEANUP_DATA_DIR: path.join(env.tmpDir, 'data'),
    RS_CLEANUP_PROTECTED: '',
    RS_CLEANUP_PROTECTED_FILE: '',
  };
}

/** The emulator's state without dates, servers sorted: what a restore must bring back. */
export function comparableState(state: { userPools: { id: string; resourceServers: { identifier: string }[]; clients: { clientId: string; allowedOAuthScopes: string[] }[] }[] }) {
  return state.userPools.map((pool) => ({
    id: pool.id,
    resourceServers: [...pool.resourceServers].sort((a, b) => a.identifier.localeCompare(b.identifier)),
    clients: pool.clients.map((c) => ({ clientId: c.clientId, allowedOAuthScopes: c.allowedOAuthScopes })),
  }));
}
