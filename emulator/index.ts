/**
 * A local Cognito (cognito-idp) emulator, with STS AssumeRole, for tests: the
 * unmodified AWS SDK v3 talks to it through its `endpoint` option. See
 * docs/emulator.md.
 */
export { startEmulator, type RunningEmulator } from './server';
export { EmulatorControl, EmulatorControlError, type ClockView } from './control-client';
export {
  DEFAULT_TEST_CREDENTIALS,
  DEFAULT_ACCOUNT_ID,
  DEFAULT_CATEGORY_LIMITS,
  DEFAULT_PER_POOL_PER_OPERATION,
  QUOTA_CATEGORIES,
} from './config';
export { OPERATION_CATEGORIES, OPERATION_NAMES } from './operations';
export { demoSeed } from './demo-seed';
export type * from './types';
