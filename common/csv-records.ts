/**
 * A streaming CSV tokenizer over UTF-8 bytes: comma-separated fields, double
 * quotes around values that hold commas, quotes ("") or line breaks, and
 * records ending in LF or CRLF, or in a lone CR in an old Mac file. The first
 * line break decides: in a file whose first line ends in LF or CRLF, a lone CR
 * is part of a value (validation then names it), never a silent line break
 * that would cut "abc\rdef" into a valid-looking "abc".
 *
 * Why not a library: the reader must know the physical line where each record
 * starts (operators jump to it), decide itself what a '#' line means (a comment
 * before the header, an error after it), report bytes that are not UTF-8 by
 * field, refuse NUL bytes by line, and bound the memory one record may take.
 *
 * Lenient where a mistake cannot change which server is deleted: a quote in
 * the middle of a value (ab"c) and text after a closing quote ("ok"x) stay in
 * the value as written, where validation then names them (Cognito allows '"'
 * in neither ID).
 */
import { isUtf8 } from 'node:buffer';
import { InputContentError } from './input-file';

/** One record (its line breaks included) may take at most this many bytes; longer ones are reported, not held. */
export const MAX_RECORD_BYTES = 1024 * 1024;

const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const HASH = 0x23;
const NUL = 0x00;

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

type RecordParse =
  | { kind: 'record'; fields: string[]; invalidUtf8: number[] | undefined; end: number; lineBreaks: number }
  | { kind: 'incomplete'; inQuotes: boolean; lineBreaks: number }
  | { kind: 'unclosed' };

export class CsvRecordReader {
  /** Bytes of a record (or '#' line) that continues in the next chunk. */
  private carry: Buffer | undefined;
  /** The line where the next record starts. */
  private line = 1;
  /** After an over-long line: skip to its end. */
  private skippingLine = false;
  /** After an unclosed quote: nothing more can be read reliably. */
  private stopped = false;
  /** Whether a lone CR ends a line: decided by the file's first line break. */
  private crBreaks: boolean | undefined;

  constructor(private readonly events: CsvEvents) {}

  push(chunk: Buffer): void {
    this.parse(chunk, false);
  }

  end(): void {
    this.parse(Buffer.alloc(0), true);
  }

  private parse(chunk: Buffer, final: boolean): void {
    if (this.stopped) return;
    const data = this.carry === undefined ? chunk : chunk.length === 0 ? this.carry : Buffer.concat([this.carry, chunk]);
    this.carry = undefined;
    const length = data.length;
    this.crBreaks ??= lineEndsInCr(data, final);
    if (this.crBreaks === undefined) {
      this.carry = data;
      return;
    }
    const crBreaks = this.crBreaks;
    let position = 0;
    while (position < length) {
      if (this.skippingLine) {
        const lineEnd = findLineEnd(data, position, this.line, crBreaks);
        if (lineEnd === length) {
          position = length;
          break;
        }
        const next = afterLineBreak(data, lineEnd, final);
        if (next === -1) break;
        this.line++;
        this.skippingLine = false;
        position = next;
        continue;
      }
      const byte = data[position]!;
      if (byte === LF || (byte === CR && isLineBreak(data, position, crBreaks))) {
        const next = afterLineBreak(data, position, final);
        if (next === -1) break;
        this.line++;
        position = next;
        continue;
      }
      if (byte === HASH) {
        const lineEnd = findLineEnd(data, position, this.line, crBreaks);
        if (lineEnd - position > MAX_RECORD_BYTES) {
          this.events.problem(this.line, `the line is longer than ${MAX_RECORD_BYTES} bytes; it was not read`);
          this.skippingLine = true;
          position = lineEnd;
          continue;
        }
        if (lineEnd === length && !final) break;
        const next = lineEnd === length ? length : afterLineBreak(data, lineEnd, final);
        if (next === -1) break;
        this.events.hashLine(this.line, data.toString('utf8', position, lineEnd));
        this.line++;
        position = next;
        continue;
      }

      const parsed = this.parseRecord(data, position, final, crBreaks);
      if (parsed.kind === 'unclosed') {
        this.events.problem(this.line, 'a quoted value starting on this line is never closed: the rest of the file was read into it (look for a missing closing \'"\')');
        this.stopped = true;
        return;
      }
      if (parsed.kind === 'incomplete') {
        if (length - position <= MAX_RECORD_BYTES) break;
        if (parsed.inQuotes) {
          this.events.problem(
            this.line,
            `a quoted value starting on this line is not closed within ${MAX_RECORD_BYTES} bytes; the rest of the file was not read (look for a missing closing '"')`,
          );
          this.stopped = true;
          return;
        }
        this.events.problem(this.line, `the record is longer than ${MAX_RECORD_BYTES} bytes; it was not read`);
        this.line += parsed.lineBreaks;
        this.skippingLine = true;
        position = length;
        break;
      }
      if (parsed.end - position > MAX_RECORD_BYTES) {
        this.events.problem(this.line, `the record is longer than ${MAX_RECORD_BYTES} bytes; it was not read`);
      } else if (!isBlankRecord(parsed.fields)) {
        const record: CsvRecord = { fields: parsed.fields, line: this.line };
        if (parsed.invalidUtf8 !== undefined) record.invalidUtf8 = parsed.invalidUtf8;
        this.events.record(record);
      }
      this.line += parsed.lineBreaks;
      position = parsed.end;
    }
    if (position < length) this.carry = data.subarray(position);
  }

  /**
   * One record starting at `start`: its fields, where it ends (after its line
   * break) and how many line breaks it spans; or 'incomplete' when the data
   * ends before the record does and more may come.
   */
  private parseRecord(data: Buffer, start: number, final: boolean, crBreaks: boolean): RecordParse {
    const length = data.length;
    const fields: string[] = [];
    let invalidUtf8: number[] | undefined;
    let lineBreaks = 0;
    let index = start;

    for (;;) {
      const fieldStart = index;
      if (index < length && data[index] === QUOTE) {
        // A quoted value: "" is a quote, line breaks are part of the value (CRLF kept as LF).
        const parts: string[] = [];
        let valid = true;
        let segmentStart = index + 1;
        let high = false;
        index++;
        for (;;) {
          if (index >= length) {
            if (!final) return { kind: 'incomplete', inQuotes: true, lineBreaks };
            return { kind: 'unclosed' };
          }
          const byte = data[index]!;
          if (byte === QUOTE) {
            if (index + 1 >= length && !final) return { kind: 'incomplete', inQuotes: true, lineBreaks };
            const segment = decode(data, segmentStart, index, high);
            valid &&= segment.valid;
            parts.push(segment.text);
            high = false;
            if (data[index + 1] === QUOTE) {
              parts.push('"');
              index += 2;
              segmentStart = index;
              continue;
            }
            index++;
            break;
          }
          if (byte === CR) {
            if (index + 1 >= length && !final) return { kind: 'incomplete', inQuotes: true, lineBreaks };
            if (crBreaks || data[index + 1] === LF) lineBreaks++;
            if (data[index + 1] === LF) {
              const segment = decode(data, segmentStart, index, high);
              valid &&= segment.valid;
              parts.push(segment.text);
              high = false;
              segmentStart = index + 1; // keep the LF
              index += 2;
              continue;
            }
          } else if (byte === LF) {
            lineBreaks++;
          } else if (byte === NUL) {
            throw nulError(this.line + lineBreaks);
          } else if (byte >= 0x80) {
            high = true;
          }
          index++;
        }
        // After the closing quote: a separator, a line break or the end; anything else keeps the field as written.
        if (index < length && data[index] !== COMMA && data[index] !== LF && !(data[index] === CR && isLineBreak(data, index, crBreaks))) {
          const end = findFieldEnd(data, index, this.line + lineBreaks, crBreaks);
          if (end === length && !final) return { kind: 'incomplete', inQuotes: false, lineBreaks };
          const raw = decode(data, fieldStart, end, true);
          if (!raw.valid) (invalidUtf8 ??= []).push(fields.length);
          fields.push(raw.text);
          index = end;
        } else {
          if (index >= length && !final) return { kind: 'incomplete', inQuotes: false, lineBreaks };
          if (!valid) (invalidUtf8 ??= []).push(fields.length);
          fields.push(parts.length === 1 ? parts[0]! : parts.join(''));
        }
      } else {
        const end = findFieldEnd(data, index, this.line + lineBreaks, crBreaks);
        if (end === length && !final) return { kind: 'incomplete', inQuotes: false, lineBreaks };
        if (!hasHighByte(data, index, end)) {
          fields.push(data.toString('latin1', index, end));
        } else {
          const field = decode(data, index, end, true);
          if (!field.valid) (invalidUtf8 ??= []).push(fields.length);
          fields.push(field.text);
        }
        index = end;
      }

      if (index >= length) return { kind: 'record', fields, invalidUtf8, end: length, lineBreaks };
      const separator = data[index]!;
      if (separator === COMMA) {
        index++;
        continue;
      }
      const next = afterLineBreak(data, index, final);
      if (next === -1) return { kind: 'incomplete', inQuotes: false, lineBreaks };
      return { kind: 'record', fields, invalidUtf8, end: next, lineBreaks: lineBreaks + 1 };
    }
  }
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

/** The index of the next ',' or line break at or after `start`, or the data's length. Refuses NUL bytes. */
function findFieldEnd(data: Buffer, start: number, line: number, crBreaks: boolean): number {
  let index = start;
  const length = data.length;
  while (index < length) {
    const byte = data[index]!;
    if (byte === COMMA || byte === LF || (byte === CR && isLineBreak(data, index, crBreaks))) return index;
    if (byte === NUL) throw nulError(line);
    index++;
  }
  return length;
}

/** The index of the next line break at or after `start`, or the data's length. Refuses NUL bytes. */
function findLineEnd(data: Buffer, start: number, line: number, crBreaks: boolean): number {
  let index = start;
  const length = data.length;
  while (index < length) {
    const byte = data[index]!;
    if (byte === LF || (byte === CR && isLineBreak(data, index, crBreaks))) return index;
    if (byte === NUL) throw nulError(line);
    index++;
  }
  return length;
}

/** The index after the line break at `index` (LF, CRLF or CR); -1 when a CR ends the data and an LF may follow. */
function afterLineBreak(data: Buffer, index: number, final: boolean): number {
  if (data[index] === LF) return index + 1;
  if (index + 1 >= data.length) return final ? index + 1 : -1;
  return data[index + 1] === LF ? index + 2 : index + 1;
}

function hasHighByte(data: Buffer, start: number, end: number): boolean {
  for (let index = start; index < end; index++) if (data[index]! >= 0x80) return true;
  return false;
}

/** The bytes as text; `valid` is false when they are not UTF-8 (the text then holds U+FFFD for display only). */
function decode(data: Buffer, start: number, end: number, high: boolean): { text: string; valid: boolean } {
  if (!high) return { text: data.toString('latin1', start, end), valid: true };
  return { text: data.toString('utf8', start, end), valid: isUtf8(data.subarray(start, end)) };
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
