/**
 * The audit log: pino JSON lines in <runDir>/audit.jsonl, one record per
 * attempt (`event: "attempt"`) and one per final outcome (`event: "outcome"`).
 *
 * Writes are synchronous appends so a record is on disk before the activity
 * reports back, and a crashed worker loses nothing it already reported. Several
 * workers sharing the directory each append whole lines (O_APPEND).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { runFiles } from '../common/run-files';

/** Anything that looks like a secret is censored, whatever record it ends up in. */
export const SECRET_PATHS = [
  'credentials', '*.credentials', 'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken',
  'authorization', '*.authorization', 'headers.authorization', 'apiKey', '*.apiKey',
];

export interface RunIdentity {
  workflowId: string;
  runId: string;
}

const loggers = new Map<string, Logger>();

/** One logger per run directory, opened once per worker process. */
export function auditLogger(runDir: string): Logger {
  let logger = loggers.get(runDir);
  if (!logger) {
    const file = runFiles(runDir).audit;
    mkdirSync(path.dirname(file), { recursive: true });
    logger = pino(
      {
        base: undefined,
        messageKey: 'msg',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: SECRET_PATHS, censor: '[redacted]' },
      },
      pino.destination({ dest: file, append: true, sync: true, mkdir: true }),
    );
    loggers.set(runDir, logger);
  }
  return logger;
}
