/** A command's io for tests that run it in-process: captured output, no terminal, a signal aborted only when asked. */
import { Readable } from 'node:stream';
import type { CommandIo, InputStream, OutputStream } from '../../cli/command-io';

/** Collects what a command writes. */
export class CapturedOutput implements OutputStream {
  text = '';
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

/**
 * An io for a command run in-process: captured output, an empty non-terminal
 * standard input unless one is given, a signal aborted only when asked.
 */
export function capturedIo(options: { env: NodeJS.ProcessEnv; stdin?: InputStream; signal?: AbortSignal }) {
  return {
    stdout: new CapturedOutput(),
    stderr: new CapturedOutput(),
    stdin: options.stdin ?? Readable.from([]),
    env: options.env,
    signal: options.signal ?? new AbortController().signal,
  } satisfies CommandIo;
}
