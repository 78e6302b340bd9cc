/**
 * The worker's one log stream: pino JSON lines on stdout, the Temporal SDK's
 * own messages (its TypeScript side and, forwarded, its Rust core) included,
 * so that a log collector parses every line the same way. Pretty only for a
 * person at a terminal, and only when pino-pretty happens to be installed: it
 * is no dependency of the project.
 */
import pino, { type Logger } from 'pino';
import type { Logger as SdkLogger, LogLevel, LogMetadata } from '@temporalio/common';
import { SECRET_PATHS } from '../activities/audit-log';

export function createWorkerLogger(level: string): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'rs-cleanup-worker' },
    // The SDK passes errors as `error`; pino serializes only `err` by default.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    // Only descriptions are ever logged (temporal-connection's `describe`); redact is the second line of defence.
    redact: {
      paths: [...SECRET_PATHS, 'clientCertPair.key', '*.clientCertPair.key', 'tls.clientCertPair.key', '*.tls.clientCertPair.key'],
      censor: '[redacted]',
    },
  };
  if (process.stdout.isTTY && canResolve('pino-pretty')) return pino(options, pino.transport({ target: 'pino-pretty' }));
  return pino(options);
}

/**
 * SDK messages that are expected here go out at debug level (LOG_LEVEL=debug
 * still shows them): the deletes worker runs activities only, and the SDK
 * warns about every worker without workflows; and the workflow bundler's
 * webpack report (30 lines) comes at info, next to its one-line "Workflow
 * bundle created" that says the same.
 */
const EXPECTED_SDK_WARNINGS = new Set(['No workflows registered, not polling for workflow tasks']);
const isBundlerReport = (message: string) => message.startsWith('asset workflow-bundle-');

const PINO_LEVEL: Record<LogLevel, pino.Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** The SDK's Logger interface on top of a pino logger (Runtime.install({ logger })). */
export function temporalSdkLogger(log: Logger): SdkLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    const expected = (level === 'WARN' && EXPECTED_SDK_WARNINGS.has(message)) || (level === 'INFO' && isBundlerReport(message));
    const target = expected ? 'debug' : PINO_LEVEL[level];
    log[target]({ ...meta }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/**
 * The level of the SDK core's (Rust) messages forwarded to the logger: the
 * worker's level when it is debug or trace, else WARN (core's INFO messages
 * are about its own internals).
 */
export function coreLogLevel(level: string): LogLevel {
  return level === 'trace' ? 'TRACE' : level === 'debug' ? 'DEBUG' : 'WARN';
}

function canResolve(module: string): boolean {
  try {
    require.resolve(module);
    return true;
  } catch {
    return false;
  }
}
