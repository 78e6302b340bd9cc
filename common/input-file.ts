/**
 * The operator's input file as bytes: opened only when it is a regular file
 * (a FIFO would block the CLI for ever, /dev/zero would never end), no larger
 * than MAX_INPUT_BYTES, hashed as it is read, and decoded to UTF-8 (a UTF-8
 * byte order mark is dropped; UTF-16 with a byte order mark, either byte order,
 * is transcoded chunk by chunk; UTF-16 without one is refused with a hint).
 *
 * Problems with the file itself (missing, a device, too large) throw
 * InputFileError; problems with its content as a whole (not text) throw
 * InputContentError, which the reader reports as an error of the whole file.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TextDecoder } from 'node:util';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { escapeControlCharacters } from './display-text';

/** The largest input read: 1 GiB, about 15 million CSV rows; larger lists are split into several runs. */
export const MAX_INPUT_BYTES = 1024 ** 3;

const READ_CHUNK_BYTES = 1024 * 1024;
const READ_FAILURE_PREFIX = 'cannot read input file';
/** Bytes looked at to tell UTF-16 without a byte order mark from binary data. */
const ENCODING_SAMPLE_BYTES = 1024;

/** The file cannot be read as an input at all; the message is one line naming the file. */
export class InputFileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InputFileError';
  }
}

/** The content is not text the reader can use; `row` is the line where that shows (0: the whole file). */
export class InputContentError extends Error {
  constructor(
    readonly row: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'InputContentError';
  }
}

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface OpenedInput {
  handle: fs.promises.FileHandle;
  size: number;
}

/**
 * Opens a regular file for reading, or throws InputFileError naming what it is
 * instead. The type is checked on the path first (so a FIFO is never opened:
 * opening one blocks until a writer comes), then again with fstat on the opened
 * descriptor (the path may have been swapped in between). O_NONBLOCK keeps even
 * that second case from blocking. Symbolic links to regular files are fine.
 */
export async function openInputFile(file: string, maxBytes = MAX_INPUT_BYTES): Promise<OpenedInput> {
  try {
    await checkPathIsRegularFile(file);
    const handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw cannotRead(file, `it is ${describeFileType(stats)}`);
      checkSize(file, stats.size, maxBytes);
      return { handle, size: stats.size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  } catch (error) {
    throw explainReadFailure(file, error);
  }
}

async function checkPathIsRegularFile(file: string): Promise<void> {
  const link = await fs.promises.lstat(file);
  if (link.isFile()) return;
  if (!link.isSymbolicLink()) throw cannotRead(file, `it is ${describeFileType(link)}`);
  const target = await fs.promises.readlink(file).catch(() => '?');
  let stats: fs.Stats;
  try {
    stats = await fs.promises.stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'which does not exist' : code === 'ELOOP' ? 'which is a loop of links' : `which cannot be followed (${code ?? String(error)})`;
    throw cannotRead(file, `it is a symbolic link to '${escapeControlCharacters(target)}', ${why}`);
  }
  if (!stats.isFile()) {
    throw cannotRead(file, `it is a symbolic link to '${escapeControlCharacters(target)}', which is ${describeFileType(stats)}`);
  }
}

/** What a file that is not a regular one is, for "it is ...": 'a directory, not a regular file'. */
function describeFileType(stats: fs.Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe), not a regular file; to read a stream, use --input - and pipe it in';
  const kind =
    stats.isDirectory() ? 'a directory'
    : stats.isCharacterDevice() ? 'a character device'
    : stats.isBlockDevice() ? 'a block device'
    : stats.isSocket() ? 'a socket'
    : stats.isSymbolicLink() ? 'a symbolic link'
    : 'something else';
  return `${kind}, not a regular file`;
}

function checkSize(file: string, size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw cannotRead(file, `it is ${describeBytes(size)}, more than the ${describeBytes(maxBytes)} an input may be; split it into smaller files`);
  }
}

export function describeBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${trimNumber(bytes / 1024 ** 3)} GiB`;
  if (bytes >= 1024 ** 2) return `${trimNumber(bytes / 1024 ** 2)} MiB`;
  if (bytes >= 1024) return `${trimNumber(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

function trimNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function cannotRead(file: string, why: string): InputFileError {
  return new InputFileError(`${READ_FAILURE_PREFIX} '${escapeControlCharacters(file)}': ${why}`);
}

/** A one-line InputFileError for any failure to open or read the file. */
export function explainReadFailure(file: string, error: unknown): Error {
  if (error instanceof InputFileError || error instanceof InputContentError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT' ? `no such file (relative paths are resolved from ${process.cwd()})`
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'it is a directory, not a regular file'
    : code === 'ENXIO' ? 'it is not a regular file'
    : escapeControlCharacters(error instanceof Error ? error.message : String(error));
  return new InputFileError(`${READ_FAILURE_PREFIX} '${escapeControlCharacters(file)}': ${why}`, { cause: error });
}

/**
 * Reads an opened input as UTF-8 chunks of about 1 MiB, hashing the bytes as
 * stored on the way. `read` throws InputContentError for content that is not
 * text in a known encoding; `drain` then reads and hashes the rest, so the
 * checksum always covers the whole file. Throws InputFileError when the file
 * grows past `maxBytes` while being read.
 */
export class InputByteReader {
  private readonly hash: Hash = createHash('sha256');
  private readonly decoder = new InputDecoder();
  private bytes = 0;
  private ended = false;
  /** The next chunk, read while the current one is parsed. */
  private prefetched: Promise<Buffer | undefined> | undefined;

  constructor(
    private readonly file: string,
    private readonly opened: OpenedInput,
    private readonly maxBytes = MAX_INPUT_BYTES,
  ) {}

  /** The next chunk of UTF-8 text (never empty), or undefined at the end of the file. */
  async read(): Promise<Buffer | undefined> {
    for (;;) {
      const raw = await this.nextRaw();
      if (raw === undefined) {
        const rest = this.decoder.end();
        return rest.length > 0 ? rest : undefined;
      }
      const text = this.decoder.push(raw);
      if (text.length > 0) return text;
    }
  }

  /** Reads and hashes the rest of the file without decoding it. */
  async drain(): Promise<void> {
    while ((await this.nextRaw()) !== undefined) {
      // only hashed
    }
  }

  /** Waits for a read still in flight, so the file can be closed; its errors no longer matter. */
  async settle(): Promise<void> {
    await this.prefetched?.catch(() => undefined);
    this.prefetched = undefined;
  }

  private async nextRaw(): Promise<Buffer | undefined> {
    const current = this.prefetched ?? this.readRaw();
    this.prefetched = undefined;
    const raw = await current;
    if (raw !== undefined) {
      this.prefetched = this.readRaw();
      // Handled when awaited; this only keeps an early stop from reporting it as unhandled.
      this.prefetched.catch(() => undefined);
    }
    return raw;
  }

  /** After the last read or drain: what was read. */
  result(): { encoding: TextEncoding; sha256: string; bytes: number } {
    if (!this.ended) throw new Error('InputByteReader: result() before the end of the file');
    return { encoding: this.decoder.encoding ?? 'utf-8', sha256: this.hash.digest('hex'), bytes: this.bytes };
  }

  private async readRaw(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    const { bytesRead } = await this.opened.handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) {
      this.ended = true;
      return undefined;
    }
    this.bytes += bytesRead;
    checkSize(this.file, this.bytes, this.maxBytes);
    const raw = buffer.subarray(0, bytesRead);
    this.hash.update(raw);
    return raw;
  }
}

/** Decodes the input's bytes to UTF-8 by the byte order mark at its start. */
export class InputDecoder {
  encoding: TextEncoding | undefined;
  private utf16: TextDecoder | undefined;
  private swapCarry: number | undefined;
  private lineBreaksSoFar = 0;

  push(raw: Buffer): Buffer {
    if (this.encoding === undefined) return this.start(raw);
    return this.decode(raw, false);
  }

  end(): Buffer {
    if (this.encoding === undefined || this.encoding === 'utf-8') return Buffer.alloc(0);
    return this.decode(Buffer.alloc(0), true);
  }

  private start(raw: Buffer): Buffer {
    if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) {
      this.encoding = 'utf-8';
      return raw.subarray(3);
    }
    if ((raw[0] === 0xff && raw[1] === 0xfe) || (raw[0] === 0xfe && raw[1] === 0xff)) {
      this.encoding = raw[0] === 0xff ? 'utf-16le' : 'utf-16be';
      // UTF-16BE is decoded as UTF-16LE after swapping each pair of bytes: one decoder, both orders.
      this.utf16 = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: false });
      return this.decode(raw, false);
    }
    const guess = guessUtf16WithoutByteOrderMark(raw);
    if (guess) {
      throw new InputContentError(
        1,
        `the file looks like ${guess} text without a byte order mark (every other byte is NUL); save it as UTF-8 (in Excel: Save As, "CSV UTF-8")`,
      );
    }
    this.encoding = 'utf-8';
    return raw;
  }

  private decode(raw: Buffer, final: boolean): Buffer {
    if (this.encoding === 'utf-8') return raw;
    let bytes = raw;
    if (this.encoding === 'utf-16be') bytes = this.swapPairs(raw, final);
    let text: string;
    try {
      text = this.utf16!.decode(bytes, { stream: !final });
    } catch {
      throw new InputContentError(
        this.lineBreaksSoFar + 1,
        `is not valid ${this.encoding === 'utf-16le' ? 'UTF-16LE' : 'UTF-16BE'} at or after this line (an unpaired surrogate or a truncated character); save the file as UTF-8`,
      );
    }
    for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) this.lineBreaksSoFar++;
    return Buffer.from(text, 'utf8');
  }

  /** Swaps bytes 0-1, 2-3, ...; an odd byte at the end waits for the next chunk. */
  private swapPairs(raw: Buffer, final: boolean): Buffer {
    const joined = this.swapCarry === undefined ? raw : Buffer.concat([Buffer.from([this.swapCarry]), raw]);
    this.swapCarry = undefined;
    const even = joined.length - (joined.length % 2);
    const swapped = Buffer.from(joined.subarray(0, even));
    swapped.swap16();
    if (even < joined.length) {
      if (final) return Buffer.concat([swapped, joined.subarray(even)]); // the decoder reports the truncated character
      this.swapCarry = joined[even]!;
    }
    return swapped;
  }
}

/**
 * 'UTF-16LE' or 'UTF-16BE' when the start of the file has NUL bytes at every
 * odd (or every even) position and none at the others: ASCII text saved as
 * UTF-16 without a byte order mark. Other NUL bytes are reported by the
 * format readers, with their line.
 */
function guessUtf16WithoutByteOrderMark(raw: Buffer): string | undefined {
  const length = Math.min(raw.length, ENCODING_SAMPLE_BYTES) & ~1;
  if (length < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let index = 0; index < length; index += 2) {
    if (raw[index] === 0) evenZeros++;
    if (raw[index + 1] === 0) oddZeros++;
  }
  const pairs = length / 2;
  if (oddZeros >= pairs * 0.3 && evenZeros === 0) return 'UTF-16LE';
  if (evenZeros >= pairs * 0.3 && oddZeros === 0) return 'UTF-16BE';
  return undefined;
}

/**
 * Copies a stream (standard input by default) into `target`, refusing more
 * than `maxBytes`, and returns the absolute path: `--input -` runs from that
 * file, which the workers can read and the run can pin by its checksum.
 */
export async function saveStandardInput(
  target: string,
  options: { input?: Readable & { isTTY?: boolean }; maxBytes?: number } = {},
): Promise<string> {
  const input = options.input ?? process.stdin;
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  if (input.isTTY) {
    throw new InputFileError('standard input is a terminal, not a file: pipe the list in, for example rs-cleanup run --input - < offboarding.csv');
  }
  const file = path.resolve(target);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  let copied = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      copied += chunk.length;
      if (copied > maxBytes) {
        callback(new InputFileError(`cannot read standard input: it is more than the ${describeBytes(maxBytes)} an input may be; split it into smaller files`));
        return;
      }
      callback(null, chunk);
    },
  });
  try {
    await pipeline(input, limit, fs.createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    await fs.promises.rm(file, { force: true });
    if (error instanceof InputFileError) throw error;
    throw new InputFileError(`cannot read standard input into ${escapeControlCharacters(file)}: ${escapeControlCharacters((error as Error).message)}`, { cause: error });
  }
  return file;
}
