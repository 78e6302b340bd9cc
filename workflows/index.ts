// The worker's workflowsPath: every workflow of rs-cleanup.
export { cleanupWorkflow } from './cleanup';
