/**
 * Reads the operator's list of resource servers to delete (CSV, JSON or JSON
 * Lines, or `--pair` arguments), validates every row against Cognito's rules
 * and reports every problem at once, each with its file, row and column.
 *
 * Row numbers:
 * - CSV: the 1-based physical line in the file where the record starts (the
 *   header is line 1 when nothing precedes it). Comment lines, blank lines and
 *   line breaks inside quoted values all count, so an editor's "go to line"
 *   lands on the record.
 * - JSON: the 1-based index of the element in the top-level array.
 * - JSON Lines: the 1-based line number.
 * - `--pair`: the 1-based index of the pair among the `--pair` arguments.
 * Row 0 means the file as a whole (for example "the file is empty").
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as parseCsv, type CsvError, type Info, type InfoRecord } from 'csv-parse';
import type { CleanupItem } from './types';
import { validateIdentifier, validateUserPoolId } from './cognito-rules';

export type InputFormat = 'csv' | 'json' | 'jsonl';

export interface InputError {
  file: string;
  /** See the row numbering at the top of this file; 0 means the whole file. */
  row: number;
  /** The column as written in the CSV header, or the key as written in the JSON object. */
  column?: string;
  reason: string;
}

export interface DuplicateRow {
  file: string;
  row: number;
  /** The row of the first occurrence, the one that is kept. */
  firstRow: number;
  userPoolId: string;
  identifier: string;
}

export interface ParsedInput {
  file: string;
  format: InputFormat;
  /** Valid, deduplicated items in input order. */
  items: CleanupItem[];
  errors: InputError[];
  duplicates: DuplicateRow[];
  /** Data records read (CSV records after the header, JSON elements, JSON Lines objects, pairs), valid or not. */
  rowsRead: number;
}

/** Accepted column names (CSV header) and keys (JSON), compared case-insensitively. */
export const USER_POOL_ID_COLUMNS: readonly string[] = ['userPoolId', 'user_pool_id', 'UserPoolId', 'user-pool-id', 'pool', 'pool_id'];
export const IDENTIFIER_COLUMNS: readonly string[] = ['identifier', 'Identifier', 'resource_server', 'resource_server_identifier', 'resourceServer', 'rs'];

const USER_POOL_ID_NAMES = new Set(USER_POOL_ID_COLUMNS.map((name) => name.toLowerCase()));
const IDENTIFIER_NAMES = new Set(IDENTIFIER_COLUMNS.map((name) => name.toLowerCase()));
const PAIR_SOURCE = '--pair';
const BYTE_ORDER_MARK = '\uFEFF';
const FIRST_BYTES_FOR_DETECTION = 4096;
const READ_FAILURE_PREFIX = 'cannot read input file';

// ---------------------------------------------------------------------------
// Entry points

/**
 * The input format: from the file extension (.csv, .json, .jsonl, .ndjson),
 * otherwise from the first non-blank character ('[' JSON, '{' JSON Lines, anything else CSV).
 */
export function detectFormat(file: string, firstBytes: string): InputFormat {
  const lowerName = file.toLowerCase();
  if (lowerName.endsWith('.csv')) return 'csv';
  if (lowerName.endsWith('.json')) return 'json';
  if (lowerName.endsWith('.jsonl') || lowerName.endsWith('.ndjson')) return 'jsonl';
  const firstCharacter = stripByteOrderMark(firstBytes).trimStart().charAt(0);
  if (firstCharacter === '[') return 'json';
  if (firstCharacter === '{') return 'jsonl';
  return 'csv';
}

/**
 * Reads, validates and deduplicates one input file. Problems in the content
 * are returned in `errors`; a file that cannot be read at all throws.
 */
export async function readInputFile(file: string, options: { format?: InputFormat } = {}): Promise<ParsedInput> {
  const firstBytes = await readFirstBytes(file);
  const format = options.format ?? detectFormat(file, firstBytes);
  if (stripByteOrderMark(firstBytes).trim() === '' && (await isBlankFile(file))) {
    const collector = new InputCollector(file);
    collector.fileError('the file is empty');
    return collector.result(format, 0);
  }
  try {
    switch (format) {
      case 'csv':
        return await readCsvFile(file);
      case 'json':
        return await readJsonFile(file);
      case 'jsonl':
        return await readJsonLinesFile(file);
    }
  } catch (error) {
    throw explainReadFailure(file, error);
  }
}

/**
 * Items from `--pair POOL,IDENTIFIER` arguments. Splits at the first comma only,
 * because identifiers may themselves contain commas (and colons), pool IDs never do.
 */
export function parsePairs(pairs: string[]): ParsedInput {
  const collector = new InputCollector(PAIR_SOURCE);
  pairs.forEach((pair, index) => {
    const row = index + 1;
    const comma = pair.indexOf(',');
    if (comma === -1) {
      collector.rowError(row, `${showValue(pair)} has no comma; expected POOL,IDENTIFIER, for example us-east-1_AbC123,https://api.example.com`);
      return;
    }
    collector.addRecord({
      row,
      userPoolId: { value: pair.slice(0, comma), column: 'userPoolId' },
      identifier: { value: pair.slice(comma + 1), column: 'identifier' },
    });
  });
  return collector.result('csv', pairs.length);
}

/**
 * One line per error, "file:row: column 'identifier': reason", at most `max`
 * of them followed by "... and N more" so a terminal is not flooded.
 */
export function formatInputErrors(errors: InputError[], max = 20): string {
  const lines = errors.slice(0, max).map(formatInputError);
  if (errors.length > max) lines.push(`... and ${errors.length - max} more`);
  return lines.join('\n');
}

function formatInputError(error: InputError): string {
  const where = error.row > 0 ? `${error.file}:${error.row}` : error.file;
  const column = error.column !== undefined ? ` column '${error.column}':` : '';
  return `${where}:${column} ${error.reason}`;
}

// ---------------------------------------------------------------------------
// Validation and deduplication, shared by every format

interface FieldValue {
  value: string;
  /** The name the operator wrote (CSV header or JSON key), used in error messages. */
  column: string;
}

interface InputRecord {
  row: number;
  userPoolId: FieldValue;
  identifier: FieldValue;
  extra?: Record<string, string>;
}

/** Collects valid items, errors and duplicates while a file is read. */
class InputCollector {
  readonly items: CleanupItem[] = [];
  readonly errors: InputError[] = [];
  readonly duplicates: DuplicateRow[] = [];
  private readonly firstRowByKey = new Map<string, number>();

  constructor(readonly file: string) {}

  fileError(reason: string): void {
    this.errors.push({ file: this.file, row: 0, reason });
  }

  rowError(row: number, reason: string, column?: string): void {
    this.errors.push(column === undefined ? { file: this.file, row, reason } : { file: this.file, row, column, reason });
  }

  /** Validates a record; keeps it if valid and not a repeat of an earlier one. */
  addRecord(record: InputRecord): void {
    const poolReason = validateUserPoolId(record.userPoolId.value);
    const identifierReason = validateIdentifier(record.identifier.value);
    if (poolReason) this.rowError(record.row, describeInvalidValue(record.userPoolId.value, poolReason), record.userPoolId.column);
    if (identifierReason) this.rowError(record.row, describeInvalidValue(record.identifier.value, identifierReason), record.identifier.column);
    if (poolReason || identifierReason) return;

    const userPoolId = record.userPoolId.value;
    const identifier = record.identifier.value;
    // Neither value can contain a space, so it separates them unambiguously.
    const key = `${userPoolId} ${identifier}`;
    const firstRow = this.firstRowByKey.get(key);
    if (firstRow !== undefined) {
      this.duplicates.push({ file: this.file, row: record.row, firstRow, userPoolId, identifier });
      return;
    }
    this.firstRowByKey.set(key, record.row);
    const item: CleanupItem = { userPoolId, identifier, row: record.row };
    if (record.extra !== undefined) item.extra = record.extra;
    this.items.push(item);
  }

  result(format: InputFormat, rowsRead: number): ParsedInput {
    return { file: this.file, format, items: this.items, errors: this.errors, duplicates: this.duplicates, rowsRead };
  }
}

function describeInvalidValue(value: string, reason: string): string {
  return value === '' ? reason : `${showValue(value)} ${reason}`;
}

/** A value quoted for an error message, shortened so one bad row cannot flood the terminal. */
function showValue(value: string): string {
  const maxShown = 80;
  if (value.length <= maxShown) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, maxShown))}... (${value.length} characters)`;
}

// ---------------------------------------------------------------------------
// CSV

/** Which column holds what, decided from the header record. */
interface CsvLayout {
  names: string[];
  userPoolIdIndex: number;
  identifierIndex: number;
}

async function readCsvFile(file: string): Promise<ParsedInput> {
  const reader = new CsvReader(file);
  const parser = parseCsv({
    bom: true,
    comment: '#',
    // Only whole lines are comments: '#' is legal inside identifiers (URL fragments).
    comment_no_infix: true,
    skip_empty_lines: true,
    relax_column_count: false,
    // Report a malformed record and keep going, so every error is reported in one run.
    skip_records_with_error: true,
    // A stray quote (ab"c, "ok"x) stays in the value instead of derailing the parser
    // for the rest of the file; validation then names it, as Cognito forbids '"' in both IDs.
    relax_quotes: true,
    // Both callbacks run while parsing, in file order, with csv-parse's line counters
    // of that moment; records are handled there rather than through the stream so
    // that errors stay in file order and line numbers stay exact.
    on_record: (record: string[], context: InfoRecord) => {
      reader.onRecord(record, context);
      return null;
    },
    on_skip: (error: CsvError | undefined) => {
      if (error) reader.onMalformedRecord(error as MalformedRecordError);
      return undefined;
    },
  });
  await pipeline(fs.createReadStream(file), new CrlfToLf(), parser, discardEverything());
  return reader.finish(parser.info);
}

type MalformedRecordError = CsvError & Partial<Info> & { record?: string[]; column?: unknown };

/** Where a record ended, to place the next malformed record whose own start csv-parse cannot tell. */
interface RecordEnd {
  line: number;
  /** Comment and blank lines skipped so far. */
  skippedLines: number;
}

/** Turns csv-parse records into validated items, one record at a time. */
class CsvReader {
  private readonly collector: InputCollector;
  private layout: CsvLayout | undefined;
  /** Set once the header is unusable: the data rows cannot be interpreted, so they are ignored. */
  private headerFailed = false;
  private rowsRead = 0;
  private previousEnd: RecordEnd = { line: 0, skippedLines: 0 };

  constructor(file: string) {
    this.collector = new InputCollector(file);
  }

  onRecord(record: string[], context: Info): void {
    const row = startLineOfRecord(record, context.lines);
    this.previousEnd = { line: context.lines, skippedLines: skippedLineCount(context) };
    if (this.headerFailed || isWhitespaceOnlyRecord(record)) return;
    if (this.layout === undefined) {
      this.layout = readCsvHeader(record, row, this.collector);
      if (this.layout === undefined) this.headerFailed = true;
      return;
    }
    this.rowsRead++;
    this.collector.addRecord(csvRecordToInput(record, row, this.layout));
  }

  onMalformedRecord(error: MalformedRecordError): void {
    const row = lineOfMalformedRecord(error, this.previousEnd);
    if (error.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && error.lines !== undefined) {
      this.previousEnd = { line: error.lines, skippedLines: skippedLineCount(error) };
    }
    if (this.headerFailed || isWhitespaceOnlyRecord(error.record)) return;
    if (this.layout === undefined) {
      this.headerFailed = true;
      this.collector.rowError(row, `the header cannot be read as CSV: ${error.message}`);
      return;
    }
    this.rowsRead++;
    this.collector.rowError(row, describeMalformedRecord(error, this.layout));
  }

  finish(info: Info): ParsedInput {
    if (this.layout === undefined && !this.headerFailed) {
      if (info.comment_lines > 0) {
        this.collector.fileError('the file has no header row, only comments and blank lines; the first line must name the columns, for example: userPoolId,identifier');
      } else {
        this.collector.fileError('the file is empty');
      }
    }
    return this.collector.result('csv', this.rowsRead);
  }
}

function discardEverything(): Writable {
  return new Writable({ objectMode: true, write: (_chunk, _encoding, callback) => callback() });
}

/**
 * csv-parse counts each of CR and LF as a line break inside quoted values, so
 * line numbers drift in Windows files with multi-line values. Turning CRLF into
 * LF first keeps its line count equal to what an editor shows.
 */
class CrlfToLf extends Transform {
  private pendingCarriageReturn = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let bytes = chunk;
    if (this.pendingCarriageReturn) {
      bytes = Buffer.concat([Buffer.from('\r'), bytes]);
      this.pendingCarriageReturn = false;
    }
    // A CR at the very end may be the first half of a CRLF split across chunks.
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) {
      this.pendingCarriageReturn = true;
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    callback(null, removeCarriageReturnsBeforeLineFeeds(bytes));
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.pendingCarriageReturn ? Buffer.from('\r') : undefined);
  }
}

function removeCarriageReturnsBeforeLineFeeds(bytes: Buffer): Buffer {
  if (bytes.indexOf('\r\n') === -1) return bytes;
  const output = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index]!;
    if (byte === 0x0d && bytes[index + 1] === 0x0a) continue;
    output[length++] = byte;
  }
  return output.subarray(0, length);
}

/** csv-parse reports the line where a record ends; line breaks can only sit inside its quoted values. */
function startLineOfRecord(record: string[], endLine: number): number {
  let lineBreaks = 0;
  for (const field of record) lineBreaks += countLineBreaks(field);
  return endLine - lineBreaks;
}

function countLineBreaks(text: string): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) count++;
  for (let index = text.indexOf('\r'); index !== -1; index = text.indexOf('\r', index + 1)) {
    if (text[index + 1] !== '\n') count++;
  }
  return count;
}

function skippedLineCount(info: Partial<Info>): number {
  return (info.comment_lines ?? 0) + (info.empty_lines ?? 0);
}

function lineOfMalformedRecord(error: MalformedRecordError, previousEnd: RecordEnd): number {
  const reportedLine = error.lines ?? previousEnd.line + 1;
  switch (error.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return startLineOfRecord(error.record ?? [], reportedLine);
    case 'CSV_QUOTE_NOT_CLOSED':
      // csv-parse reports the end of the file here; the record began after the previous one.
      return previousEnd.line + 1 + (skippedLineCount(error) - previousEnd.skippedLines);
    default:
      return reportedLine;
  }
}

function describeMalformedRecord(error: MalformedRecordError, layout: CsvLayout): string {
  switch (error.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
      const found = error.record?.length ?? 0;
      return `has ${found} field${found === 1 ? '' : 's'} but the header has ${layout.names.length} (${layout.names.join(', ')}); a value that contains a comma must be in double quotes`;
    }
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted value starting on this line is never closed: the rest of the file was read into it (look for a missing closing \'"\')';
    default:
      return `cannot be read as CSV: ${error.message}`;
  }
}

/** A line of spaces is a blank line to the operator, not a one-field record. */
function isWhitespaceOnlyRecord(record: string[] | undefined): boolean {
  return record !== undefined && record.length === 1 && record[0]!.trim() === '';
}

/** Finds the two required columns; records one clear error and returns undefined when it cannot. */
function readCsvHeader(names: string[], line: number, collector: InputCollector): CsvLayout | undefined {
  const found = `found ${names.map((name) => `'${name}'`).join(', ')}`;
  const poolColumns = findColumns(names, USER_POOL_ID_NAMES);
  const identifierColumns = findColumns(names, IDENTIFIER_NAMES);
  const missing: string[] = [];
  if (poolColumns.length === 0) missing.push(`user pool ID column (accepted names: ${USER_POOL_ID_COLUMNS.join(', ')})`);
  if (identifierColumns.length === 0) missing.push(`identifier column (accepted names: ${IDENTIFIER_COLUMNS.join(', ')})`);
  if (missing.length > 0) {
    collector.rowError(line, `the header has no ${missing.join(' and no ')}; ${found}. Column names are not case-sensitive.`);
    return undefined;
  }
  for (const columns of [poolColumns, identifierColumns]) {
    if (columns.length > 1) {
      collector.rowError(line, `the header has ${columns.length} columns that could be the same field (${columns.map((index) => `'${names[index]}'`).join(', ')}); keep only one`);
      return undefined;
    }
  }
  const repeated = findRepeatedName(names);
  if (repeated !== undefined) {
    collector.rowError(line, `the header names column '${repeated}' more than once; ${found}`);
    return undefined;
  }
  return { names, userPoolIdIndex: poolColumns[0]!, identifierIndex: identifierColumns[0]! };
}

/** Header names match case-insensitively and ignoring surrounding spaces; values are never trimmed. */
function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

function findColumns(names: string[], accepted: Set<string>): number[] {
  const indexes: number[] = [];
  names.forEach((name, index) => {
    if (accepted.has(normalizeName(name))) indexes.push(index);
  });
  return indexes;
}

function findRepeatedName(names: string[]): string | undefined {
  const seen = new Set<string>();
  for (const name of names) {
    const normalized = normalizeName(name);
    if (normalized === '') continue;
    if (seen.has(normalized)) return name;
    seen.add(normalized);
  }
  return undefined;
}

function csvRecordToInput(record: string[], row: number, layout: CsvLayout): InputRecord {
  const input: InputRecord = {
    row,
    userPoolId: { value: record[layout.userPoolIdIndex] ?? '', column: layout.names[layout.userPoolIdIndex]! },
    identifier: { value: record[layout.identifierIndex] ?? '', column: layout.names[layout.identifierIndex]! },
  };
  const extra: Record<string, string> = {};
  let hasExtra = false;
  layout.names.forEach((name, index) => {
    // Columns without a name (a trailing comma in the header) carry nothing worth auditing.
    if (index === layout.userPoolIdIndex || index === layout.identifierIndex || name.trim() === '') return;
    extra[name] = record[index] ?? '';
    hasExtra = true;
  });
  if (hasExtra) input.extra = extra;
  return input;
}

// ---------------------------------------------------------------------------
// JSON and JSON Lines

async function readJsonFile(file: string): Promise<ParsedInput> {
  const collector = new InputCollector(file);
  const text = stripByteOrderMark(await fs.promises.readFile(file, 'utf8'));
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const { line, reason } = describeJsonSyntaxError(text, error);
    collector.rowError(line, reason);
    return collector.result('json', 0);
  }
  if (!Array.isArray(document)) {
    const hint = isPlainObject(document) ? '; for one object per line, name the file .jsonl' : '';
    collector.fileError(`expected a JSON array of objects like [{"userPoolId": "us-east-1_AbC123", "identifier": "https://api.example.com"}], found ${describeJsonType(document)}${hint}`);
    return collector.result('json', 0);
  }
  document.forEach((element, index) => addJsonObject(collector, element, index + 1));
  return collector.result('json', document.length);
}

async function readJsonLinesFile(file: string): Promise<ParsedInput> {
  const collector = new InputCollector(file);
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  let rowsRead = 0;
  for await (const rawLine of lines) {
    lineNumber++;
    const line = lineNumber === 1 ? stripByteOrderMark(rawLine) : rawLine;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    rowsRead++;
    let element: unknown;
    try {
      element = JSON.parse(line);
    } catch (error) {
      collector.rowError(lineNumber, `is not valid JSON: ${errorMessage(error)}`);
      continue;
    }
    addJsonObject(collector, element, lineNumber);
  }
  return collector.result('jsonl', rowsRead);
}

function addJsonObject(collector: InputCollector, element: unknown, row: number): void {
  if (!isPlainObject(element)) {
    collector.rowError(row, `is ${describeJsonType(element)}, not an object like {"userPoolId": "us-east-1_AbC123", "identifier": "https://api.example.com"}`);
    return;
  }
  const keys = Object.keys(element);
  const poolKey = findJsonKey(collector, row, keys, USER_POOL_ID_NAMES, 'user pool ID', USER_POOL_ID_COLUMNS);
  const identifierKey = findJsonKey(collector, row, keys, IDENTIFIER_NAMES, 'identifier', IDENTIFIER_COLUMNS);
  if (poolKey === undefined || identifierKey === undefined) return;

  const userPoolId = element[poolKey];
  const identifier = element[identifierKey];
  let valid = true;
  for (const [key, value] of [[poolKey, userPoolId], [identifierKey, identifier]] as const) {
    if (typeof value !== 'string') {
      collector.rowError(row, `must be a string, found ${describeJsonType(value)}`, key);
      valid = false;
    }
  }
  const extra = readJsonExtra(collector, row, element, [poolKey, identifierKey]);
  if (!valid || extra === false || typeof userPoolId !== 'string' || typeof identifier !== 'string') return;

  const record: InputRecord = {
    row,
    userPoolId: { value: userPoolId, column: poolKey },
    identifier: { value: identifier, column: identifierKey },
  };
  if (extra !== undefined) record.extra = extra;
  collector.addRecord(record);
}

/** The one key among `keys` that names the field; records an error when there is none or more than one. */
function findJsonKey(collector: InputCollector, row: number, keys: string[], accepted: Set<string>, what: string, names: readonly string[]): string | undefined {
  const matching = keys.filter((key) => accepted.has(normalizeName(key)));
  if (matching.length === 1) return matching[0];
  if (matching.length === 0) {
    collector.rowError(row, `has no ${what} key (accepted keys: ${names.join(', ')}); found keys ${keys.map((key) => `'${key}'`).join(', ') || 'none'}`);
  } else {
    collector.rowError(row, `has ${matching.length} keys that could be the ${what} (${matching.map((key) => `'${key}'`).join(', ')}); keep only one`);
  }
  return undefined;
}

/**
 * Extra keys as strings for the audit. Numbers and booleans are written as text
 * (a ticket number is often a number); null is left out; nested values are an
 * error because the audit has no place for them. Returns false after an error.
 */
function readJsonExtra(collector: InputCollector, row: number, element: Record<string, unknown>, requiredKeys: string[]): Record<string, string> | undefined | false {
  const extra: Record<string, string> = {};
  let hasExtra = false;
  let valid = true;
  for (const [key, value] of Object.entries(element)) {
    if (requiredKeys.includes(key) || value === null) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      extra[key] = String(value);
      hasExtra = true;
    } else {
      collector.rowError(row, `must be a string, number or boolean, found ${describeJsonType(value)}`, key);
      valid = false;
    }
  }
  if (!valid) return false;
  return hasExtra ? extra : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return `a string ${showValue(value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value === 'number' ? 'a number' : 'a boolean'} ${String(value)}`;
    default:
      return typeof value;
  }
}

/** The line of a JSON syntax error (1 when V8 does not say where) and a reason naming line and column when known. */
function describeJsonSyntaxError(text: string, error: unknown): { line: number; reason: string } {
  const message = errorMessage(error);
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return { line: 1, reason: `the file is not valid JSON: ${message}` };
  const { line, column } = lineAndColumnAt(text, Number(position));
  return { line, reason: `the file is not valid JSON at line ${line}, column ${column}: ${message}` };
}

function lineAndColumnAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

// ---------------------------------------------------------------------------
// File access

function stripByteOrderMark(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
}

/** The start of the file, for format detection; throws a clear error when the file cannot be read. */
async function readFirstBytes(file: string): Promise<string> {
  try {
    const stats = await fs.promises.stat(file);
    if (stats.isDirectory()) throw new Error(`${READ_FAILURE_PREFIX} '${file}': it is a directory, not a file`);
    const handle = await fs.promises.open(file, 'r');
    try {
      const buffer = Buffer.alloc(FIRST_BYTES_FOR_DETECTION);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw explainReadFailure(file, error);
  }
}

/** True when the file holds nothing but a byte order mark and whitespace. */
async function isBlankFile(file: string): Promise<boolean> {
  const stats = await fs.promises.stat(file);
  if (stats.size <= FIRST_BYTES_FOR_DETECTION) return true;
  // Only a large file of whitespace gets here, which is rare enough to read whole.
  return stripByteOrderMark(await fs.promises.readFile(file, 'utf8')).trim() === '';
}

function explainReadFailure(file: string, error: unknown): Error {
  if (error instanceof Error && error.message.startsWith(READ_FAILURE_PREFIX)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT' ? `no such file (relative paths are resolved from ${process.cwd()})`
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'EISDIR' ? 'it is a directory, not a file'
    : errorMessage(error);
  return new Error(`${READ_FAILURE_PREFIX} '${file}': ${why}`, { cause: error });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
