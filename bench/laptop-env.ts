/**
 * The environment of an operator's laptop pointed at the local emulator: the
 * CLI's embedded default (no TEMPORAL_ADDRESS or profile, so it starts its own
 * dev server and worker), the emulator's credentials and nothing protected.
 * For the benchmarks that run the real CLI as a child process.
 */
import { DEFAULT_TEST_CREDENTIALS } from '../emulator';

export function laptopEnvironment(emulatorUrl: string, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COGNITO_ENDPOINT: emulatorUrl,
    AWS_ACCESS_KEY_ID: DEFAULT_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEFAULT_TEST_CREDENTIALS.secretAccessKey,
    RS_CLEANUP_DATA_DIR: dataDir,
    RS_CLEANUP_PROTECTED: '',
    RS_CLEANUP_PROTECTED_FILE: '',
  };
  for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[name];
  return env;
}
