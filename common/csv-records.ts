/**
 * CSV records from UTF-8 bytes, read by csv-parse (the project's CSV reader):
 * comma-separated fields, double quotes around values that hold commas, quotes
 * ("") or line breaks, and records ending in LF or CRLF, or in a lone CR in an
 * old Mac file. The first line break decides: in a file whose first line ends
 * in LF or CRLF, a lone CR is part of a value (validation then names it), never
 * a silent line break that would cut "abc\rdef" into a valid-looking "abc".
 *
 * csv-parse tokenizes; this module adds what an operator needs around it: the
 * physical line where each record starts (csv-parse counts every CR and LF, so
 * a CRLF inside a quoted value would count twice), the text of '#' lines
 * (csv-parse skips comments silently; after the header they are errors), the
 * fields as bytes so that bytes which are not UTF-8 are reported by field, NUL
 * bytes refused by line, and a quote left open stopped after MAX_RECORD_BYTES
 * instead of reading the rest of the file into one value. (A long unquoted line
 * is held until its line break, then reported as too long.)
 *
 * Lenient where a mistake cannot change which server is deleted
 * (csv-parse's relax_quotes): a quote in the middle of a value (ab"c) and text
 * after a closing quote ("ok"x) stay in the value, where validation then names
 * them (Cognito allows '"' in neither ID).
 */
import { isUtf8 } from 'node:buffer';
import { parse, type CsvError, type Info, type Options, type Parser } from 'csv-parse';
import { parse as parseRecords } from 'csv-parse/sync';
import { InputContentError } from './input-file';

/** One record (its line breaks included) may take at most this many bytes; longer ones are reported, not used. */
export const MAX_RECORD_BYTES = 1024 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const QUOTE_HASH = Buffer.from('"#');
const LINE_FEED = Buffer.from('\n');
const NUL_FILLER = Buffer.from('xxxx');

export interface CsvRecord {
  fields: string[];
  /** The 1-based physical line where the record starts. */
  line: number;
  /** Indexes of fields whose bytes are not valid UTF-8 (their text holds U+FFFD). */
  invalidUtf8?: number[];
}

export interface CsvEvents {
  /** A record; blank lines (nothing, or only spaces and tabs) are not records. */
  record(record: CsvRecord): void;
  /** A line that starts with '#', as text without its line break; never tokenized. */
  hashLine(line: number, text: string): void;
  /** A record that cannot be read, on the line where it starts. */
  problem(line: number, reason: string): void;
}

/** csv-parse's parser state; not in its type definitions, read only to tell an open quote from a long line. */
interface ParserState {
  state?: { quoting?: boolean };
}

export class CsvRecordReader {
  private parser: Parser | undefined;
  /** Bytes held until the first line break says whether a lone CR ends lines. */
  private undecided: Buffer | undefined;
  private crBreaks = false;
  /**
   * The bytes given to the parser from `windowStart` on; `windowStart` is the
   * end of the last record, so this is what csv-parse has not finished: the
   * '#' lines it skipped (their text is taken from here) and the record in progress.
   */
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  /** File offset where the next record or '#' line starts. */
  private recordEnd = 0;
  /** The line where the next record or '#' line starts. */
  private line = 1;
  /** csv-parse's counters (every CR and LF; skipped '#' lines) as of `recordEnd`. */
  private parserLines = 0;
  private parserComments = 0;
  /** After an unclosed quote or a NUL byte: nothing more can be read reliably. */
  private stopped = false;
  /** An error thrown while handling a record; csv-parse would make it a stream error, so push or end rethrows it. */
  private failure: unknown;
  /** A CR that ended the last chunk of a file whose lines end in LF: a line break if the file ends there. */
  private heldCr = false;
  /** Where the window holds '"#' (absolute offset, -1 for none), and how far that was searched. */
  private quoteHashAt = -1;
  private quoteHashSearchedTo = 0;

  constructor(private readonly events: CsvEvents) {}

  push(chunk: Buffer): void {
    this.feed(chunk, false);
  }

  end(): void {
    this.feed(Buffer.alloc(0), true);
  }

  private feed(chunk: Buffer, final: boolean): void {
    if (this.stopped) return;
    let data = chunk;
    if (this.parser === undefined) {
      data = this.undecided === undefined ? chunk : Buffer.concat([this.undecided, chunk]);
      const crBreaks = lineEndsInCr(data, final);
      if (crBreaks === undefined) {
        this.undecided = data;
        return;
      }
      this.undecided = undefined;
      this.crBreaks = crBreaks;
      this.parser = this.createParser(crBreaks);
    }
    const parser = this.parser;
    if (this.heldCr) {
      this.heldCr = false;
      data = final && data.length === 0 ? LINE_FEED : Buffer.concat([Buffer.from([CR]), data]);
    }
    const nul = data.indexOf(NUL);
    let text = nul === -1 ? data : data.subarray(0, nul);
    if (!final && !this.crBreaks && nul === -1 && text.length > 0 && text[text.length - 1] === CR) {
      // The old-Mac rule of a file ending in a CR: held until the next chunk says whether more follows.
      this.heldCr = true;
      text = text.subarray(0, text.length - 1);
    }
    if (text.length > 0) {
      this.window = this.window.length === 0 ? text : Buffer.concat([this.window, text]);
      parser.write(text);
      this.rethrow();
      if (this.stopped) return;
    }
    if (nul !== -1) {
      // Filler in place of the NUL lets csv-parse finish the records and '#' lines
      // before it (it looks a few bytes ahead); the record with the NUL never ends.
      parser.write(NUL_FILLER);
      this.rethrow();
      if (this.stopped) return;
      this.catchUpComments(parser.info.comment_lines);
      this.stopped = true;
      throw nulError(this.line + countLineBreaks(this.window, this.recordEnd - this.windowStart, this.window.length, this.crBreaks));
    }
    if (final) {
      parser.end();
      this.rethrow();
      if (!this.stopped) this.catchUpComments(parser.info.comment_lines);
      return;
    }
    this.window = this.window.subarray(this.recordEnd - this.windowStart);
    this.windowStart = this.recordEnd;
    this.checkUnfinishedRecord(parser);
  }

  private createParser(crBreaks: boolean): Parser {
    const parser = parse({
      ...tokenizing(crBreaks),
      comment: '#',
      comment_no_infix: true,
      // Errors (a quote never closed) come to on_skip while parsing, not later as a stream error.
      skip_records_with_error: true,
      on_skip: (error) => {
        this.guard(() => this.onParseError(error));
        return undefined;
      },
      on_record: (fields, info) => {
        this.guard(() => this.onRecord(fields, info));
        return null; // handled here: nothing is queued in the stream
      },
    });
    parser.on('error', (error) => {
      this.failure ??= error;
    });
    return parser;
  }

  private guard(handle: () => void): void {
    if (this.stopped) return;
    try {
      handle();
    } catch (error) {
      this.failure ??= error;
      this.stopped = true;
    }
  }

  private rethrow(): void {
    if (this.failure === undefined) return;
    this.stopped = true;
    throw this.failure;
  }

  private onRecord(parsed: string[], info: Info): void {
    this.catchUpComments(info.comment_lines);
    const line = this.line;
    const bytes = info.bytes - this.recordEnd;
    const fields = bytes <= MAX_RECORD_BYTES && this.holdsQuoteHash(this.recordEnd, info.bytes) ? this.readAsWritten(parsed, info.bytes) : parsed;
    // csv-parse counts a line for every CR and LF (a '#' line's count is already added); one line means no value holds a line break.
    const lineBreaks = info.lines - this.parserLines === 1 ? 0 : countLineBreaksInFields(fields, this.crBreaks);
    this.line += lineBreaks + 1;
    this.recordEnd = info.bytes;
    this.parserLines = info.lines;
    if (bytes > MAX_RECORD_BYTES) {
      this.events.problem(line, `the record is longer than ${MAX_RECORD_BYTES} bytes; it was not read`);
      return;
    }
    if (isBlankRecord(fields)) return;
    const texts: string[] = new Array<string>(fields.length);
    let invalidUtf8: number[] | undefined;
    for (let index = 0; index < fields.length; index++) {
      const field = fieldText(fields[index]!);
      if (!field.valid) (invalidUtf8 ??= []).push(index);
      texts[index] = field.text;
    }
    const record: CsvRecord = { fields: texts, line };
    if (invalidUtf8 !== undefined) record.invalidUtf8 = invalidUtf8;
    this.events.record(record);
  }

  /**
   * Whether the bytes from `start` to `end` (absolute offsets) hold '"#'. csv-parse's
   * comment option changes two readings there: a quote followed by '#' closes a
   * quoted value ("ab"#c reads as ab#c, hiding the quote validation must see) and
   * '""#' at the start of a record makes the rest of the line a comment.
   */
  private holdsQuoteHash(start: number, end: number): boolean {
    if (this.quoteHashAt < start) {
      const windowEnd = this.windowStart + this.window.length;
      const from = Math.max(start, this.quoteHashSearchedTo);
      if (this.quoteHashAt === -1 && from >= end - 1) return false;
      const index = this.window.indexOf(QUOTE_HASH, from - this.windowStart);
      if (index === -1) {
        this.quoteHashAt = -1;
        this.quoteHashSearchedTo = Math.max(from, windowEnd - 1);
        return false;
      }
      this.quoteHashAt = this.windowStart + index;
      this.quoteHashSearchedTo = this.quoteHashAt;
    }
    return this.quoteHashAt + 2 <= end;
  }

  /** The record read again without the comment option, from its bytes; as csv-parse gave it when that is not one record. */
  private readAsWritten(parsed: string[], end: number): string[] {
    const bytes = this.window.subarray(this.recordEnd - this.windowStart, end - this.windowStart);
    try {
      const records = parseRecords(bytes, tokenizing(this.crBreaks)) as string[][];
      return records.length === 1 ? records[0]! : parsed;
    } catch {
      return parsed; // '""#' then a quote opened later on the line: the line reads as csv-parse gave it
    }
  }

  private onParseError(error: CsvError | undefined): void {
    this.catchUpComments(this.parser!.info.comment_lines);
    this.stopped = true;
    if (error?.code === 'CSV_QUOTE_NOT_CLOSED') {
      this.events.problem(this.line, 'a quoted value starting on this line is never closed: the rest of the file was read into it (look for a missing closing \'"\')');
      return;
    }
    this.events.problem(this.line, `cannot be read as CSV: ${error?.message ?? 'unknown error'}`);
  }

  /** Hands on the '#' lines csv-parse skipped since the last record, with their text, taken from the window. */
  private catchUpComments(parserComments: number): void {
    let position = this.recordEnd - this.windowStart;
    for (; this.parserComments < parserComments; this.parserComments++) {
      const lineEnd = findLineEnd(this.window, position, this.crBreaks);
      if (lineEnd - position > MAX_RECORD_BYTES) {
        this.events.problem(this.line, `the line is longer than ${MAX_RECORD_BYTES} bytes; it was not read`);
      } else {
        this.events.hashLine(this.line, this.window.toString('utf8', position, lineEnd));
      }
      position = afterLineBreak(this.window, lineEnd);
      this.line++;
      this.parserLines++;
    }
    this.recordEnd = this.windowStart + position;
  }

  /**
   * A record still unfinished after more than MAX_RECORD_BYTES: inside quotes it
   * is a quote never closed, and reading on would take the rest of the file into
   * one value; a long unquoted line ends at its line break and is reported then.
   */
  private checkUnfinishedRecord(parser: Parser): void {
    if (this.window.length <= MAX_RECORD_BYTES) return;
    this.catchUpComments(parser.info.comment_lines);
    const unfinished = this.window.length - (this.recordEnd - this.windowStart);
    if (unfinished <= MAX_RECORD_BYTES || (parser as ParserState).state?.quoting !== true) return;
    this.stopped = true;
    this.events.problem(
      this.line,
      `a quoted value starting on this line is not closed within ${MAX_RECORD_BYTES} bytes; the rest of the file was not read (look for a missing closing '"')`,
    );
  }
}

/** csv-parse's options for this file's records: bytes, lenient quotes, any number of fields. */
function tokenizing(crBreaks: boolean): Options {
  return {
    // One character per byte, so that a field which is not UTF-8 is reported by name
    // instead of read as U+FFFD (Latin-1 maps bytes to characters one to one, and is
    // the fastest way out of csv-parse: its `encoding: null` copies every field twice).
    encoding: 'latin1',
    record_delimiter: crBreaks ? ['\r\n', '\r', '\n'] : ['\r\n', '\n'],
    relax_quotes: true,
    relax_column_count: true,
  };
}

/**
 * Whether a CR at `index` may end a line: always in a CR file; otherwise when
 * an LF follows, or when the data ends there and the next chunk will tell.
 */
export function isLineBreak(data: Buffer, index: number, crBreaks: boolean): boolean {
  return crBreaks || index + 1 >= data.length || data[index + 1] === LF;
}

/**
 * Whether a lone CR ends lines in this file: true when its first line break is
 * a CR without an LF after it; undefined when the data ends on that CR and more may come.
 */
export function lineEndsInCr(data: Buffer, final: boolean): boolean | undefined {
  const lf = data.indexOf(LF);
  const cr = data.indexOf(CR);
  if (cr === -1 && lf === -1) return final || data.length > MAX_RECORD_BYTES ? false : undefined;
  if (cr === -1 || (lf !== -1 && lf < cr)) return false;
  if (cr + 1 < data.length) return data[cr + 1] !== LF;
  return final ? true : undefined;
}

/** The index of the next line break at or after `start`, or the data's length. */
function findLineEnd(data: Buffer, start: number, crBreaks: boolean): number {
  for (let index = start; index < data.length; index++) {
    const byte = data[index]!;
    if (byte === LF || (byte === CR && isLineBreak(data, index, crBreaks))) return index;
  }
  return data.length;
}

/** The index after the line break at `index` (LF, CRLF or CR), or the data's length. */
function afterLineBreak(data: Buffer, index: number): number {
  if (index >= data.length) return data.length;
  return data[index] === CR && data[index + 1] === LF ? index + 2 : index + 1;
}

/** Line breaks in `data` from `start` to `end`: LF, CRLF (one), and a lone CR in a CR file. */
function countLineBreaks(data: Buffer, start: number, end: number, crBreaks: boolean): number {
  let count = 0;
  for (let index = start; index < end; index++) {
    const byte = data[index]!;
    if (byte === LF) count++;
    else if (byte === CR) {
      if (data[index + 1] === LF) {
        count++;
        index++;
      } else if (crBreaks) count++;
    }
  }
  return count;
}

/** The same count over fields read as Latin-1 (one character a byte, so their bytes come back exactly). */
function countLineBreaksInFields(fields: string[], crBreaks: boolean): number {
  let count = 0;
  for (const field of fields) count += countLineBreaks(Buffer.from(field, 'latin1'), 0, field.length, crBreaks);
  return count;
}

const NOT_ASCII = /[\x80-\xff]/;

/**
 * A field's text from its bytes as Latin-1; `valid` is false when the bytes are not
 * UTF-8 (the text then holds U+FFFD for display only). A CRLF inside a quoted value is kept as LF.
 */
function fieldText(latin1: string): { text: string; valid: boolean } {
  let text = latin1;
  let valid = true;
  if (NOT_ASCII.test(latin1)) {
    const bytes = Buffer.from(latin1, 'latin1');
    text = bytes.toString('utf8');
    valid = isUtf8(bytes);
  }
  if (text.includes('\r\n')) text = text.replace(/\r\n/g, '\n');
  return { text, valid };
}

function isBlankRecord(fields: string[]): boolean {
  return fields.length === 1 && /^[ \t]*$/.test(fields[0]!);
}

function nulError(line: number): InputContentError {
  return new InputContentError(
    line,
    'contains a NUL byte: this is binary data or UTF-16 text, not a UTF-8 text file; save it as UTF-8 (CSV UTF-8 in Excel)',
  );
}
