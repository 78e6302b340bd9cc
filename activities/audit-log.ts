/**
 * The audit log: pino JSON lines in <runDir>/audit.jsonl: one `intent` record
 * before each DeleteResourceServer (durable: written and fsync'd first), one
 * `attempt` record per try and one `outcome` record per item.
 *
 * Writes are synchronous appends (O_APPEND, whole lines), so a record is in
 * the file before the activity reports back and several workers sharing the
 * directory interleave whole lines. Unlike pino's own destination, whose
 * write errors become an 'error' event (which the caller never sees), a write
 * that fails here throws to the caller: an intent that could not be written
 * must stop the delete it announces.
 */
import { closeSync, fstatSync, fsync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { runFiles } from '../common/run-files';
import { SharedSync } from '../common/shared-sync';

/** Anything that looks like a secret is censored, whatever record it ends up in. */
export const SECRET_PATHS = [
  'credentials', '*.credentials', 'secretAccessKey', '*.secretAccessKey', 'sessionToken', '*.sessionToken',
  'authorization', '*.authorization', 'headers.authorization', 'apiKey', '*.apiKey',
];

export interface RunIdentity {
  workflowId: string;
  runId: string;
}

/** Append-only file that throws on a failed write (ENOSPC, EIO, ...), opened on first use. */
export class AppendFile {
  private fd: number | undefined;
  private readonly syncs = new SharedSync(() => {
    const fd = this.open();
    return new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  });

  constructor(readonly file: string) {}

  /**
   * pino's destination interface: one whole line per call, or nothing. A full
   * disk can take the first bytes of a line and refuse the rest; the torn line
   * is then cut off again, unless another process appended after it meanwhile
   * (its size no longer ends where this line's bytes do), so the file stays
   * JSON lines for every reader.
   */
  write(line: string): void {
    const buffer = Buffer.from(line);
    const fd = this.open();
    const before = fstatSync(fd).size;
    let offset = 0;
    try {
      while (offset < buffer.length) offset += writeSync(fd, buffer, offset);
    } catch (err) {
      if (offset > 0 && fstatSync(fd).size === before + offset) ftruncateSync(fd, before);
      throw err;
    }
  }

  /**
   * Resolves once every line written before the call is on the disk itself.
   * The fsyncs are shared (group commit): 300 deletes in flight cost a few
   * fsyncs instead of 300, and none goes on before its own line is durable.
   */
  sync(): Promise<void> {
    return this.syncs.request();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number {
    if (this.fd === undefined) {
      mkdirSync(path.dirname(this.file), { recursive: true });
      this.fd = openSync(this.file, 'a');
    }
    return this.fd;
  }
}

interface AuditLog {
  logger: Logger;
  file: AppendFile;
}

const logs = new Map<string, AuditLog>();

function auditLog(runDir: string): AuditLog {
  let log = logs.get(runDir);
  if (!log) {
    const file = new AppendFile(runFiles(runDir).audit);
    const logger = pino(
      {
        base: undefined,
        messageKey: 'msg',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: SECRET_PATHS, censor: '[redacted]' },
      },
      file,
    );
    log = { logger, file };
    logs.set(runDir, log);
  }
  return log;
}

/** One logger per run directory, opened once per worker process. Its calls throw when the write fails. */
export function auditLogger(runDir: string): Logger {
  return auditLog(runDir).logger;
}

/**
 * Writes one record (throwing at once when it cannot be written) and returns a
 * promise that resolves once it is on the disk itself, through an fsync shared
 * with the records written meanwhile: the write-ahead record of a delete. The
 * caller must not act before the promise resolves, nor when it rejects.
 */
export function writeDurably(runDir: string, bindings: Record<string, unknown>, record: Record<string, unknown>, msg: string): Promise<void> {
  const log = auditLog(runDir);
  log.logger.child(bindings).info(record, msg);
  return log.file.sync();
}

/** Errors that mean "the run's files cannot be written here now" (a full or read-only disk, ...). */
export function isWriteUnavailable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && ['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EISDIR', 'ENOTDIR', 'EMFILE', 'ENFILE'].includes(code);
}
