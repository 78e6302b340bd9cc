/**
 * JSON for the input reader: a strict parser that keeps every key of an object
 * (JSON.parse keeps only the last of two equal keys, so {"identifier": "a",
 * "identifier": "b"} would silently delete b), positions for every error as
 * line and column, and two streaming splitters that cut a file into elements
 * of its top-level array, or into JSON Lines, without holding the file.
 *
 * Why not JSON.parse: besides duplicate keys, V8's messages name a position
 * only sometimes ("Unexpected token" says nothing; newer versions say "line L
 * column C" in their own format), and it needs the whole text in memory.
 */
import { InputContentError } from './input-file';
import { MAX_RECORD_BYTES, isLineBreak, lineEndsInCr } from './csv-records';

export interface Position {
  line: number;
  column: number;
}

/** A number as written, so a ticket number like 12345678901234567890 is carried without rounding. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export interface JsonMember {
  key: string;
  value: JsonValue;
  /** Offset of the key's opening quote in the parsed text. */
  offset: number;
}

/** An object with every member as written, duplicates included, in order. */
export class JsonObject {
  constructor(readonly members: JsonMember[]) {}
}

export type JsonValue = string | boolean | null | JsonNumber | JsonObject | JsonValue[];

export class JsonSyntaxError extends Error {
  constructor(
    readonly position: Position,
    readonly reason: string,
  ) {
    super(`${reason} (line ${position.line}, column ${position.column})`);
    this.name = 'JsonSyntaxError';
  }
}

/** Deeper nesting is refused: no input needs it, and it would only exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses text that must hold exactly one JSON value. `origin` is where the
 * text starts in the file, so that errors name the file's line and column.
 */
export function parseJsonText(text: string, origin: Position = { line: 1, column: 1 }): JsonValue {
  return new JsonTextParser(text, origin).parseDocument();
}

/** The line and column of `offset` in `text`, which starts at `origin`. Columns count characters. */
export function positionIn(text: string, origin: Position, offset: number): Position {
  let line = origin.line;
  let column = origin.column;
  for (let index = 0; index < offset && index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x0a) {
      if (index === 0 || text.charCodeAt(index - 1) !== 0x0d) line++;
      column = 1;
    } else if (code === 0x0d) {
      line++;
      column = 1;
    } else if (code < 0xdc00 || code > 0xdfff) {
      // the second half of a surrogate pair is the same character
      column++;
    }
  }
  return { line, column };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_$][\w$]*/y;

class JsonTextParser {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly origin: Position,
  ) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    if (this.index >= this.text.length) this.fail('expected a JSON value, found nothing');
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.index < this.text.length) this.fail(`unexpected ${this.describeHere()} after the end of the value`);
    return value;
  }

  private parseValue(depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.fail(`values are nested more than ${MAX_JSON_DEPTH} levels deep`);
    const character = this.text[this.index];
    switch (character) {
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case '"':
        return this.parseString();
      case undefined:
        return this.fail('expected a value, found the end of the text');
      default:
        break;
    }
    if (character === '-' || (character >= '0' && character <= '9')) return this.parseNumber();
    WORD.lastIndex = this.index;
    const word = WORD.exec(this.text)?.[0];
    if (word === 'true') return this.advance(4, true);
    if (word === 'false') return this.advance(5, false);
    if (word === 'null') return this.advance(4, null);
    if (word === 'NaN' || word === 'Infinity' || word === 'undefined') {
      this.fail(`${word} is not a JSON value (write it as a string, or leave the key out)`);
    }
    if (word !== undefined) this.fail(`unexpected word '${word.slice(0, 20)}': strings must be in double quotes`);
    if (character === "'") this.fail('strings must be in double quotes, not single quotes');
    if (character === '/') this.fail('comments are not allowed in JSON');
    return this.fail(`expected a value, found ${this.describeHere()}`);
  }

  private parseObject(depth: number): JsonObject {
    this.index++; // {
    const members: JsonMember[] = [];
    this.skipWhitespace();
    if (this.text[this.index] === '}') {
      this.index++;
      return new JsonObject(members);
    }
    for (;;) {
      this.skipWhitespace();
      const character = this.text[this.index];
      if (character !== '"') {
        if (character === '}' && members.length > 0) this.fail("a ',' must be followed by another key, not '}' (trailing commas are not allowed in JSON)");
        if (character === "'") this.fail('keys must be in double quotes, not single quotes');
        if (character === '/') this.fail('comments are not allowed in JSON');
        this.fail(`expected a key in double quotes, found ${this.describeHere()}`);
      }
      const offset = this.index;
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.index] !== ':') this.fail(`expected ':' after the key ${JSON.stringify(key.slice(0, 40))}, found ${this.describeHere()}`);
      this.index++;
      this.skipWhitespace();
      const value = this.parseValue(depth + 1);
      members.push({ key, value, offset });
      this.skipWhitespace();
      const next = this.text[this.index];
      if (next === ',') {
        this.index++;
        continue;
      }
      if (next === '}') {
        this.index++;
        return new JsonObject(members);
      }
      if (next === '/') this.fail('comments are not allowed in JSON');
      this.fail(`expected ',' or '}' after the value of ${JSON.stringify(key.slice(0, 40))}, found ${this.describeHere()}`);
    }
  }

  private parseArray(depth: number): JsonValue[] {
    this.index++; // [
    const elements: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.index] === ']') {
      this.index++;
      return elements;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.index] === ']') this.fail("a ',' must be followed by another value, not ']' (trailing commas are not allowed in JSON)");
      elements.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const next = this.text[this.index];
      if (next === ',') {
        this.index++;
        continue;
      }
      if (next === ']') {
        this.index++;
        return elements;
      }
      if (next === '/') this.fail('comments are not allowed in JSON');
      this.fail(`expected ',' or ']' after an array element, found ${this.describeHere()}`);
    }
  }

  private parseString(): string {
    const start = this.index;
    this.index++; // "
    let result = '';
    let chunkStart = this.index;
    const text = this.text;
    for (;;) {
      if (this.index >= text.length) this.fail('this string is never closed (a missing \'"\')', start);
      const code = text.charCodeAt(this.index);
      if (code === 0x22) {
        result += text.slice(chunkStart, this.index);
        this.index++;
        return result;
      }
      if (code === 0x5c) {
        result += text.slice(chunkStart, this.index);
        result += this.parseEscape();
        chunkStart = this.index;
        continue;
      }
      if (code < 0x20) {
        this.fail(`a raw control character (U+${code.toString(16).toUpperCase().padStart(4, '0')}) is not allowed inside a JSON string; write it as an escape such as \\n, or check for a missing '"'`);
      }
      this.index++;
    }
  }

  private parseEscape(): string {
    const escape = this.text[this.index + 1];
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (escape !== undefined && simple[escape] !== undefined) {
      this.index += 2;
      return simple[escape]!;
    }
    if (escape === 'u') {
      const hex = this.text.slice(this.index + 2, this.index + 6);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) {
        this.index += 6;
        return String.fromCharCode(parseInt(hex, 16));
      }
      this.fail('\\u must be followed by four hexadecimal digits');
    }
    return this.fail(`'\\${escape ?? ''}' is not a JSON escape (a backslash in a string is written \\\\)`);
  }

  private parseNumber(): JsonNumber {
    NUMBER.lastIndex = this.index;
    const match = NUMBER.exec(this.text)?.[0];
    const after = this.text[this.index + (match?.length ?? 0)];
    if (match === undefined || match === '-' || (after !== undefined && /[\w.+-]/.test(after))) {
      WORD.lastIndex = this.index + 1;
      if (this.text[this.index] === '-' && WORD.exec(this.text)?.[0] === 'Infinity') this.fail('-Infinity is not a JSON value (write it as a string, or leave the key out)');
      const written = /^[^\s,\]}]*/.exec(this.text.slice(this.index, this.index + 40))?.[0] ?? '';
      this.fail(`'${written}' is not a JSON number`);
    }
    this.index += match.length;
    return new JsonNumber(match);
  }

  private advance<T>(length: number, value: T): T {
    this.index += length;
    return value;
  }

  private skipWhitespace(): void {
    const text = this.text;
    while (this.index < text.length) {
      const code = text.charCodeAt(this.index);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return;
      this.index++;
    }
  }

  private describeHere(): string {
    if (this.index >= this.text.length) return 'the end of the text';
    return describeCharacterAt(this.text, this.index);
  }

  private fail(reason: string, at = this.index): never {
    throw new JsonSyntaxError(positionIn(this.text, this.origin, at), reason);
  }
}

function describeCharacterAt(text: string, index: number): string {
  const code = text.codePointAt(index) ?? 0;
  if (code < 0x20 || code === 0x7f) return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return `'${String.fromCodePoint(code)}'`;
}

// ---------------------------------------------------------------------------
// Streaming splitters

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

function isWhitespaceByte(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === LF || byte === CR;
}

function nulError(line: number): InputContentError {
  return new InputContentError(line, 'contains a NUL byte: this is binary data or UTF-16 text, not a UTF-8 text file; save it as UTF-8');
}

/** Tracks the line and column of each byte of a UTF-8 stream; columns count characters. */
class BytePosition {
  line = 1;
  column = 1;
  private previousCr = false;

  advance(byte: number): void {
    if (byte === LF) {
      if (!this.previousCr) this.line++;
      this.column = 1;
      this.previousCr = false;
    } else if (byte === CR) {
      this.line++;
      this.column = 1;
      this.previousCr = true;
    } else {
      this.previousCr = false;
      if ((byte & 0xc0) !== 0x80) this.column++;
    }
  }

  here(): Position {
    return { line: this.line, column: this.column };
  }
}

export interface JsonArrayEvents {
  /** One element's bytes (its surrounding whitespace included); `index` is 1-based; `origin` is where it starts. */
  element(bytes: Buffer, index: number, origin: Position): void;
  /** An element larger than MAX_RECORD_BYTES: not held, only reported. */
  oversized(index: number, origin: Position): void;
}

type ArrayState = 'start' | 'first' | 'next' | 'element' | 'done';

/**
 * Cuts a top-level JSON array into its elements as bytes arrive, keeping only
 * the current element. Knows just enough JSON to find where an element ends
 * (strings, escapes, nesting); each element is then parsed by parseJsonText.
 * Throws JsonSyntaxError for a file that is not one array, and
 * InputContentError for NUL bytes.
 */
export class JsonArraySplitter {
  private state: ArrayState = 'start';
  private readonly position = new BytePosition();
  private parts: Buffer[] = [];
  private partBytes = 0;
  private oversized = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private elementIndex = 0;
  private elementOrigin: Position = { line: 1, column: 1 };

  constructor(private readonly events: JsonArrayEvents) {}

  /** The elements seen so far. */
  get elements(): number {
    return this.elementIndex;
  }

  push(chunk: Buffer): void {
    let elementStart = this.state === 'element' ? 0 : -1;
    for (let index = 0; index < chunk.length; index++) {
      const byte = chunk[index]!;
      if (byte === NUL) throw nulError(this.position.line);
      switch (this.state) {
        case 'start':
          if (isWhitespaceByte(byte)) break;
          if (byte !== 0x5b) throw this.notAnArray(byte);
          this.state = 'first';
          break;
        case 'first':
        case 'next':
          if (isWhitespaceByte(byte)) break;
          if (byte === 0x5d) {
            if (this.state === 'next') {
              throw new JsonSyntaxError(this.position.here(), "a ',' must be followed by another element, not ']' (trailing commas are not allowed in JSON)");
            }
            this.state = 'done';
            break;
          }
          if (byte === 0x2c) throw new JsonSyntaxError(this.position.here(), "expected an element, found ','");
          this.state = 'element';
          this.elementIndex++;
          this.elementOrigin = this.position.here();
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          elementStart = index;
          this.scanElementByte(byte);
          break;
        case 'element':
          if (!this.inString && this.depth === 0 && (byte === 0x2c || byte === 0x5d)) {
            this.finishElement(chunk.subarray(elementStart, index));
            elementStart = -1;
            this.state = byte === 0x2c ? 'next' : 'done';
            break;
          }
          this.scanElementByte(byte);
          break;
        case 'done':
          if (isWhitespaceByte(byte)) break;
          throw new JsonSyntaxError(this.position.here(), "unexpected text after the closing ']' of the array");
      }
      this.position.advance(byte);
    }
    if (this.state === 'element') this.keepPart(chunk.subarray(elementStart));
  }

  /** After the last chunk: 'empty' when the file held only whitespace. */
  end(): 'empty' | 'done' {
    if (this.state === 'start') return 'empty';
    if (this.state !== 'done') {
      throw new JsonSyntaxError(this.position.here(), "the file ends before the array is closed (a missing ']' or '\"'?)");
    }
    return 'done';
  }

  private scanElementByte(byte: number): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (byte === 0x5c) this.escaped = true;
      else if (byte === 0x22) this.inString = false;
      return;
    }
    if (byte === 0x22) this.inString = true;
    else if (byte === 0x7b || byte === 0x5b) this.depth++;
    else if ((byte === 0x7d || byte === 0x5d) && this.depth > 0) this.depth--;
  }

  private keepPart(part: Buffer): void {
    if (this.oversized) return;
    this.partBytes += part.length;
    if (this.partBytes > MAX_RECORD_BYTES) {
      this.oversized = true;
      this.parts = [];
      return;
    }
    this.parts.push(part);
  }

  private finishElement(lastPart: Buffer): void {
    this.keepPart(lastPart);
    if (this.oversized) this.events.oversized(this.elementIndex, this.elementOrigin);
    else this.events.element(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts), this.elementIndex, this.elementOrigin);
    this.parts = [];
    this.partBytes = 0;
    this.oversized = false;
  }

  private notAnArray(byte: number): JsonSyntaxError | TopLevelNotArrayError {
    const found =
      byte === 0x7b ? 'an object'
      : byte === 0x22 ? 'a string'
      : byte === 0x2d || (byte >= 0x30 && byte <= 0x39) ? 'a number'
      : byte === 0x74 || byte === 0x66 ? 'a boolean'
      : byte === 0x6e ? 'null'
      : undefined;
    if (found === undefined) {
      const character = byte < 0x20 || byte === 0x7f ? `a control character (U+${byte.toString(16).toUpperCase().padStart(4, '0')})` : `'${String.fromCharCode(byte)}'`;
      return new JsonSyntaxError(this.position.here(), `expected '[' at the start of a JSON array, found ${character}`);
    }
    return new TopLevelNotArrayError(found);
  }
}

/** The file is JSON-looking but its top level is not an array. */
export class TopLevelNotArrayError extends Error {
  constructor(readonly found: string) {
    super(`the top level is ${found}, not an array`);
    this.name = 'TopLevelNotArrayError';
  }
}

export interface JsonLinesEvents {
  /** A line that is neither blank nor a '#' comment, without its line break. */
  line(bytes: Buffer, lineNumber: number): void;
  /** A line that cannot be read (too long); reading goes on after it. */
  problem(lineNumber: number, reason: string): void;
}

/**
 * Cuts JSON Lines into lines (LF or CRLF; a lone CR only in a file whose first
 * line ends that way), skipping blank lines and '#' comments.
 */
export class JsonLinesSplitter {
  private carry: Buffer | undefined;
  private lineNumber = 1;
  private skipping = false;
  private crBreaks: boolean | undefined;
  /** True once a line held anything but whitespace (a comment counts): the file is not empty. */
  sawText = false;

  constructor(private readonly events: JsonLinesEvents) {}

  push(chunk: Buffer): void {
    this.split(chunk, false);
  }

  end(): void {
    this.split(Buffer.alloc(0), true);
  }

  private split(chunk: Buffer, final: boolean): void {
    const data = this.carry === undefined ? chunk : chunk.length === 0 ? this.carry : Buffer.concat([this.carry, chunk]);
    this.carry = undefined;
    this.crBreaks ??= lineEndsInCr(data, final);
    if (this.crBreaks === undefined) {
      this.carry = data;
      return;
    }
    const crBreaks = this.crBreaks;
    let start = 0;
    let index = 0;
    const length = data.length;
    while (index < length) {
      const byte = data[index]!;
      if (byte === NUL) throw nulError(this.lineNumber);
      if (byte !== LF && !(byte === CR && isLineBreak(data, index, crBreaks))) {
        index++;
        continue;
      }
      if (byte === CR && index + 1 >= length && !final) break; // a CRLF may be split across chunks
      this.finishLine(data.subarray(start, index));
      index += byte === CR && data[index + 1] === LF ? 2 : 1;
      start = index;
    }
    if (final) {
      if (start < length) this.finishLine(data.subarray(start));
      return;
    }
    if (start < length) {
      if (length - start > MAX_RECORD_BYTES && !this.skipping) {
        this.sawText = true;
        this.events.problem(this.lineNumber, `the line is longer than ${MAX_RECORD_BYTES} bytes; it was not read`);
        this.skipping = true;
      }
      this.carry = this.skipping ? data.subarray(Math.max(start, length - 1)) : data.subarray(start);
    }
  }

  private finishLine(bytes: Buffer): void {
    const lineNumber = this.lineNumber++;
    if (this.skipping) {
      this.skipping = false;
      this.sawText = true;
      return;
    }
    if (bytes.length > MAX_RECORD_BYTES) {
      this.events.problem(lineNumber, `the line is longer than ${MAX_RECORD_BYTES} bytes; it was not read`);
      return;
    }
    let first = 0;
    while (first < bytes.length && (bytes[first] === 0x20 || bytes[first] === 0x09)) first++;
    if (first === bytes.length) return; // blank
    this.sawText = true;
    if (bytes[first] === 0x23) return; // a '#' comment
    this.events.line(bytes, lineNumber);
  }
}
