/**
 * Reads the operator's list of resource servers to delete (CSV, JSON or JSON
 * Lines, or `--pair` arguments), validates every row against Cognito's rules
 * and reports every problem, each with its file, row and column, in one pass
 * over the file and without holding its rows (scanInputFile); readInputFile
 * collects the result in memory for small inputs.
 *
 * Row numbers:
 * - CSV: the 1-based physical line in the file where the record starts (the
 *   header is line 1 when nothing precedes it). Comment lines, blank lines and
 *   line breaks inside quoted values all count, so an editor's "go to line"
 *   lands on the record.
 * - JSON: the 1-based index of the element in the top-level array; errors in
 *   the JSON itself give the line (row) and column where they are.
 * - JSON Lines: the 1-based line number.
 * - `--pair`: the 1-based index of the pair among the `--pair` arguments.
 * Row 0 means the file as a whole (for example "the file is empty").
 *
 * What is refused, and why (operators trust this file not to delete the wrong thing):
 * - a JSON object with the same key twice, or two keys that differ only in
 *   case: JSON.parse would silently keep the last one;
 * - a CSV line starting with '#' after the header: it was meant as a comment,
 *   or a row whose pool ID starts with '#'; either way it is reported, not dropped;
 * - files that are not regular files, larger than MAX_INPUT_BYTES, not text
 *   (NUL bytes, UTF-16 without a byte order mark), or not UTF-8 (by row).
 */
import { isUtf8 } from 'node:buffer';
import type { CleanupItem } from './types';
import { validateAccountId, validateIdentifier, validateUserPoolId } from './cognito-rules';
import { CsvRecordReader, MAX_RECORD_BYTES, type CsvEvents, type CsvRecord } from './csv-records';
import { DigestSet } from './digest-set';
import { displayName, escapeControlCharacters, oneLine, showName, showNames, showValue } from './display-text';
import { InputByteReader, InputContentError, explainReadFailure, MAX_INPUT_BYTES, openInputFile, type TextEncoding } from './input-file';
import {
  JsonArraySplitter,
  JsonLinesSplitter,
  JsonNumber,
  JsonObject,
  JsonSyntaxError,
  TopLevelNotArrayError,
  parseJsonText,
  positionIn,
  type JsonValue,
  type Position,
} from './json-records';

export { InputFileError, MAX_INPUT_BYTES, saveStandardInput } from './input-file';

export type InputFormat = 'csv' | 'json' | 'jsonl';

export interface InputError {
  file: string;
  /** See the row numbering at the top of this file; 0 means the whole file. */
  row: number;
  /** The column as written in the CSV header, or the key as written in the JSON object (escaped, shortened). */
  column?: string;
  /** One line, control characters escaped. */
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
  /** Valid, deduplicated items in input order; empty when `unusable`. */
  items: CleanupItem[];
  errors: InputError[];
  duplicates: DuplicateRow[];
  /** Data records read (CSV records after the header, JSON elements, JSON Lines objects, pairs), valid or not. */
  rowsRead: number;
  /** The file as a whole cannot be used (not text, no header, not a JSON array, ...): no row runs, even with --skip-invalid. */
  unusable: boolean;
}

/** Accepted column names (CSV header) and keys (JSON), compared case-insensitively. */
export const USER_POOL_ID_COLUMNS: readonly string[] = ['userPoolId', 'user_pool_id', 'UserPoolId', 'user-pool-id', 'pool', 'pool_id'];
export const IDENTIFIER_COLUMNS: readonly string[] = ['identifier', 'Identifier', 'resource_server', 'resource_server_identifier', 'resourceServer', 'rs'];
/** The optional account column: the AWS account of the row's pool (12 digits); an empty value means the run's --account. */
export const ACCOUNT_ID_COLUMNS: readonly string[] = ['accountId', 'account_id', 'account', 'awsAccountId', 'aws_account_id'];

/**
 * The extra columns of one row (a tenant, a ticket) may hold at most this many
 * characters, names included: they travel with the item through every plan
 * page, and a page of items must stay far below Temporal's 2 MB payload limit.
 */
export const MAX_EXTRA_CHARACTERS = 4096;

const USER_POOL_ID_NAMES = new Set(USER_POOL_ID_COLUMNS.map((name) => name.toLowerCase()));
const IDENTIFIER_NAMES = new Set(IDENTIFIER_COLUMNS.map((name) => name.toLowerCase()));
const ACCOUNT_ID_NAMES = new Set(ACCOUNT_ID_COLUMNS.map((name) => name.toLowerCase()));
const PAIR_SOURCE = '--pair';
const BYTE_ORDER_MARK = '\uFEFF';
const FORMAT_DETECTION_BYTES = 4096;
const EXAMPLE_OBJECT = '{"userPoolId": "us-east-1_AbC123", "identifier": "https://api.example.com"}';
/** A reason's own limit; with the file and row in front, a formatted line stays within MAX_MESSAGE_LENGTH in most cases and is cut there otherwise. */
const MAX_REASON_LENGTH = 260;
const NOT_UTF8 = 'contains bytes that are not valid UTF-8; save the file as UTF-8 (in Excel: "CSV UTF-8")';

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

/** Where the rows of a scan go, as they are read. */
export interface InputSink {
  /** A valid row, the first of its (userPoolId, identifier). */
  item(item: CleanupItem): void;
  error(error: InputError): void;
  duplicate(duplicate: DuplicateRow): void;
  /** Called after each chunk of about 1 MiB: write out what was buffered. */
  flush?(): Promise<void>;
}

export interface InputScan {
  file: string;
  format: InputFormat;
  encoding: TextEncoding;
  /** sha256 of the file's bytes as stored, and their number. */
  sha256: string;
  bytes: number;
  rowsRead: number;
  items: number;
  errors: number;
  /** Rows with at least one error (one row can break two rules). */
  invalidRows: number;
  duplicates: number;
  /** The file as a whole cannot be used: discard the items the sink received. */
  unusable: boolean;
}

/**
 * Reads, validates and deduplicates one input file in a single pass, handing
 * each valid item, error and duplicate to `sink` as it goes; memory stays flat
 * (16-byte digests per distinct row, not the rows). Problems in the content
 * go to the sink; a file that cannot be read at all throws InputFileError.
 */
export async function scanInputFile(
  file: string,
  sink: InputSink,
  options: { format?: InputFormat; maxBytes?: number } = {},
): Promise<InputScan> {
  const opened = await openInputFile(file, options.maxBytes);
  const bytes = new InputByteReader(file, opened, options.maxBytes ?? MAX_INPUT_BYTES);
  try {
    const checker = new RowChecker(file, sink);
    let format = options.format;
    let parser: FormatParser | undefined;
    let unusable = false;
    try {
      let chunk = await bytes.read();
      format ??= detectFormat(file, chunk ? chunk.toString('utf8', 0, Math.min(chunk.length, FORMAT_DETECTION_BYTES)) : '');
      parser = createParser(format, checker);
      while (chunk !== undefined) {
        parser.push(chunk);
        await sink.flush?.();
        chunk = await bytes.read();
      }
      parser.end();
    } catch (error) {
      format ??= detectFormat(file, '');
      if (!reportContentProblem(error, checker)) throw error;
      unusable = true;
      await bytes.drain();
    }
    await sink.flush?.();
    const read = bytes.result();
    return {
      file,
      format,
      encoding: read.encoding,
      sha256: read.sha256,
      bytes: read.bytes,
      rowsRead: parser?.rowsRead ?? 0,
      items: checker.itemCount,
      errors: checker.errorCount,
      invalidRows: checker.invalidRows,
      duplicates: checker.duplicateCount,
      unusable: unusable || (parser?.unusable ?? false),
    };
  } catch (error) {
    throw explainReadFailure(file, error);
  } finally {
    await bytes.settle();
    await opened.handle.close();
  }
}

/** Turns a problem of the whole content into an error of the file; false for anything else. */
function reportContentProblem(error: unknown, checker: RowChecker): boolean {
  if (error instanceof InputContentError) {
    checker.rowError(error.row, error.reason);
    return true;
  }
  if (error instanceof JsonSyntaxError) {
    const { line, column } = error.position;
    checker.rowError(line, `the file is not valid JSON at line ${line}, column ${column}: ${error.reason}`);
    return true;
  }
  if (error instanceof TopLevelNotArrayError) {
    const hint = error.found === 'an object' ? '; for one object per line, name the file .jsonl' : '';
    checker.fileError(`expected a JSON array of objects like [${EXAMPLE_OBJECT}], found ${error.found}${hint}`);
    return true;
  }
  return false;
}

/**
 * Reads, validates and deduplicates one input file into memory: for small
 * inputs (a schedule's check, tests). A run uses validateInputToPlan
 * (common/input-to-plan.ts), which writes the plan as it reads.
 */
export async function readInputFile(file: string, options: { format?: InputFormat; maxBytes?: number } = {}): Promise<ParsedInput> {
  const items: CleanupItem[] = [];
  const errors: InputError[] = [];
  const duplicates: DuplicateRow[] = [];
  const scan = await scanInputFile(
    file,
    { item: (item) => items.push(item), error: (error) => errors.push(error), duplicate: (duplicate) => duplicates.push(duplicate) },
    options,
  );
  return { file, format: scan.format, items: scan.unusable ? [] : items, errors, duplicates, rowsRead: scan.rowsRead, unusable: scan.unusable };
}

/**
 * Items from `--pair POOL,IDENTIFIER` arguments. Splits at the first comma only,
 * because identifiers may themselves contain commas (and colons), pool IDs never do.
 */
export function parsePairs(pairs: string[]): ParsedInput {
  const result: ParsedInput = { file: PAIR_SOURCE, format: 'csv', items: [], errors: [], duplicates: [], rowsRead: pairs.length, unusable: false };
  const checker = new RowChecker(PAIR_SOURCE, {
    item: (item) => result.items.push(item),
    error: (error) => result.errors.push(error),
    duplicate: (duplicate) => result.duplicates.push(duplicate),
  });
  pairs.forEach((pair, index) => {
    const row = index + 1;
    const comma = pair.indexOf(',');
    if (comma === -1) {
      checker.rowError(row, `${showValue(pair)} has no comma; expected POOL,IDENTIFIER, for example us-east-1_AbC123,https://api.example.com`);
      return;
    }
    checker.addRecord({
      row,
      userPoolId: { value: pair.slice(0, comma), column: 'userPoolId' },
      identifier: { value: pair.slice(comma + 1), column: 'identifier' },
    });
  });
  return result;
}

/**
 * One line per error, "file:row: column 'identifier': reason", at most `max`
 * of them followed by "... and N more" so a terminal is not flooded. `total`
 * is the number of errors when `errors` holds only the first ones.
 */
export function formatInputErrors(errors: InputError[], max = 20, total = errors.length): string {
  const lines = errors.slice(0, max).map(formatInputError);
  const shown = lines.length;
  if (total > shown) lines.push(`... and ${total - shown} more`);
  return lines.join('\n');
}

/**
 * One error as one line for a terminal or a report: control characters and
 * escape sequences escaped, at most MAX_MESSAGE_LENGTH characters.
 */
export function formatInputError(error: InputError): string {
  const where = error.row > 0 ? `${error.file}:${error.row}` : error.file;
  const column = error.column !== undefined ? ` column ${showName(error.column)}:` : '';
  return oneLine(`${where}:${column} ${error.reason}`);
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
  /** The optional account column; an empty value is no account. */
  accountId?: FieldValue;
  extra?: Record<string, string>;
}

/** Validates records, drops repeats and hands the outcome of each row to the sink, counting as it goes. */
class RowChecker {
  itemCount = 0;
  errorCount = 0;
  invalidRows = 0;
  duplicateCount = 0;
  private readonly seen = new DigestSet();
  private lastInvalidRow = -1;

  constructor(
    readonly file: string,
    private readonly sink: InputSink,
  ) {}

  fileError(reason: string): void {
    this.rowError(0, reason);
  }

  rowError(row: number, reason: string, column?: string): void {
    this.errorCount++;
    if (row !== this.lastInvalidRow) {
      this.invalidRows++;
      this.lastInvalidRow = row;
    }
    const error: InputError = { file: this.file, row, reason: oneLine(reason, MAX_REASON_LENGTH) };
    if (column !== undefined) error.column = displayName(column);
    this.sink.error(error);
  }

  /** Validates a record; passes it on if valid and not a repeat of an earlier one. */
  addRecord(record: InputRecord): void {
    const poolReason = validateUserPoolId(record.userPoolId.value);
    const identifierReason = validateIdentifier(record.identifier.value);
    const accountId = record.accountId?.value === '' ? undefined : record.accountId?.value;
    const accountReason = accountId !== undefined ? validateAccountId(accountId) : undefined;
    if (poolReason) this.rowError(record.row, describeInvalidValue(record.userPoolId.value, poolReason), record.userPoolId.column);
    if (identifierReason) this.rowError(record.row, describeInvalidValue(record.identifier.value, identifierReason), record.identifier.column);
    if (accountReason) this.rowError(record.row, describeInvalidValue(accountId!, accountReason), record.accountId!.column);
    if (poolReason || identifierReason || accountReason) return;
    if (record.extra !== undefined && !this.checkExtraSize(record.row, record.extra)) return;

    const userPoolId = record.userPoolId.value;
    const identifier = record.identifier.value;
    // No value can contain a space, so it separates them unambiguously (without an account, as before accounts existed).
    const firstRow = this.seen.addOrGet(accountId === undefined ? `${userPoolId} ${identifier}` : `${userPoolId} ${identifier} ${accountId}`, record.row);
    if (firstRow !== 0) {
      this.duplicateCount++;
      this.sink.duplicate({ file: this.file, row: record.row, firstRow, userPoolId, identifier });
      return;
    }
    const item: CleanupItem = { userPoolId, identifier, row: record.row };
    if (accountId !== undefined) item.accountId = accountId;
    if (record.extra !== undefined) item.extra = record.extra;
    this.itemCount++;
    this.sink.item(item);
  }

  private checkExtraSize(row: number, extra: Record<string, string>): boolean {
    let characters = 0;
    for (const name in extra) characters += name.length + extra[name]!.length;
    if (characters <= MAX_EXTRA_CHARACTERS) return true;
    let longest: string | undefined;
    for (const name in extra) if (longest === undefined || extra[name]!.length > extra[longest]!.length) longest = name;
    this.rowError(
      row,
      `the extra columns of this row hold ${characters} characters, more than the ${MAX_EXTRA_CHARACTERS} carried into the audit; this value is ${extra[longest!]!.length} characters long`,
      longest,
    );
    return false;
  }
}

function describeInvalidValue(value: string, reason: string): string {
  return value === '' ? reason : `${showValue(value)} ${reason}`;
}

/** Header names and JSON keys match case-insensitively and ignoring surrounding spaces; values are never trimmed. */
function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

interface FormatParser {
  push(chunk: Buffer): void;
  end(): void;
  readonly rowsRead: number;
  readonly unusable: boolean;
}

function createParser(format: InputFormat, checker: RowChecker): FormatParser {
  switch (format) {
    case 'csv':
      return new CsvInput(checker);
    case 'json':
      return new JsonArrayInput(checker);
    case 'jsonl':
      return new JsonLinesInput(checker);
  }
}

function stripByteOrderMark(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
}

// ---------------------------------------------------------------------------
// CSV

/** Which column holds what, decided from the header record. */
interface CsvLayout {
  names: string[];
  userPoolIdIndex: number;
  identifierIndex: number;
  /** -1 when the file has no account column. */
  accountIdIndex: number;
}

/** Turns CSV records into validated items, one record at a time. */
class CsvInput implements FormatParser, CsvEvents {
  rowsRead = 0;
  unusable = false;
  private readonly records = new CsvRecordReader(this);
  private layout: CsvLayout | undefined;
  /** Set once the header is unusable: the data rows cannot be interpreted, so they are ignored. */
  private headerFailed = false;
  private commentsBeforeHeader = 0;

  constructor(private readonly checker: RowChecker) {}

  push(chunk: Buffer): void {
    this.records.push(chunk);
  }

  end(): void {
    this.records.end();
    if (this.layout === undefined && !this.headerFailed) {
      this.unusable = true;
      this.checker.fileError(
        this.commentsBeforeHeader > 0
          ? 'the file has no header row, only comments and blank lines; the first line must name the columns, for example: userPoolId,identifier'
          : 'the file is empty',
      );
    }
  }

  record(record: CsvRecord): void {
    if (this.headerFailed) return;
    if (this.layout === undefined) {
      this.layout = this.readHeader(record);
      if (this.layout === undefined) {
        this.headerFailed = true;
        this.unusable = true;
      }
      return;
    }
    this.rowsRead++;
    const layout = this.layout;
    if (record.fields.length !== layout.names.length) {
      const found = record.fields.length;
      this.checker.rowError(
        record.line,
        `has ${found} field${found === 1 ? '' : 's'} but the header has ${layout.names.length} (${layout.names.map((name) => displayName(name)).join(', ')}); a value that contains a comma must be in double quotes`,
      );
      return;
    }
    if (record.invalidUtf8 !== undefined) {
      for (const index of record.invalidUtf8) this.checker.rowError(record.line, NOT_UTF8, layout.names[index]);
      return;
    }
    this.checker.addRecord(csvRecordToInput(record, layout));
  }

  hashLine(line: number, text: string): void {
    if (this.headerFailed) return;
    if (this.layout === undefined) {
      this.commentsBeforeHeader++;
      return;
    }
    this.rowsRead++;
    this.checker.rowError(
      line,
      `starts with '#': a comment line after the header is not allowed (comments may only come before the header; if '#' belongs to the value, put the value in double quotes): ${showValue(text, 40)}`,
    );
  }

  problem(line: number, reason: string): void {
    if (this.headerFailed) return;
    if (this.layout === undefined) {
      this.headerFailed = true;
      this.unusable = true;
      this.checker.rowError(line, `the header cannot be read as CSV: ${reason}`);
      return;
    }
    this.rowsRead++;
    this.checker.rowError(line, reason);
  }

  /** Finds the two required columns; records one clear error and returns undefined when it cannot. */
  private readHeader(record: CsvRecord): CsvLayout | undefined {
    const { fields: names, line } = record;
    if (record.invalidUtf8 !== undefined) {
      this.checker.rowError(line, `the header ${NOT_UTF8}`);
      return undefined;
    }
    const found = `found ${showNames(names)}`;
    const poolColumns = findColumns(names, USER_POOL_ID_NAMES);
    const identifierColumns = findColumns(names, IDENTIFIER_NAMES);
    const accountColumns = findColumns(names, ACCOUNT_ID_NAMES);
    const missing: string[] = [];
    const accepted: string[] = [];
    if (poolColumns.length === 0) {
      missing.push('user pool ID column');
      accepted.push(namesInAnyCase(USER_POOL_ID_COLUMNS));
    }
    if (identifierColumns.length === 0) {
      missing.push('identifier column');
      accepted.push(namesInAnyCase(IDENTIFIER_COLUMNS));
    }
    if (missing.length > 0) {
      const delimiterHint = otherDelimiterHint(names);
      if (delimiterHint !== undefined) {
        this.checker.rowError(line, `${delimiterHint}; ${found}`);
      } else {
        // What was found comes before the long list of accepted names, so a cut message still shows it.
        this.checker.rowError(line, `the header has no ${missing.join(' and no ')}; ${found} (accepted, in any case: ${accepted.join('; ')})`);
      }
      return undefined;
    }
    for (const columns of [poolColumns, identifierColumns, accountColumns]) {
      if (columns.length > 1) {
        this.checker.rowError(line, `the header has ${columns.length} columns that could be the same field (${showNames(columns.map((index) => names[index]!))}); keep only one`);
        return undefined;
      }
    }
    const repeated = findRepeatedName(names);
    if (repeated !== undefined) {
      this.checker.rowError(line, `the header names column ${showName(repeated)} more than once; ${found}`);
      return undefined;
    }
    return { names, userPoolIdIndex: poolColumns[0]!, identifierIndex: identifierColumns[0]!, accountIdIndex: accountColumns[0] ?? -1 };
  }
}

/** The accepted names without those that differ only in case. */
function namesInAnyCase(names: readonly string[]): string {
  const seen = new Set<string>();
  return names.filter((name) => !seen.has(name.toLowerCase()) && seen.add(name.toLowerCase())).join(', ');
}

/**
 * A hint when the header was written with another delimiter (Excel writes ';'
 * in many locales): split that way, it names a required column.
 */
function otherDelimiterHint(names: string[]): string | undefined {
  const namesColumn = (delimiter: string) =>
    names.some((name) => name.includes(delimiter)) &&
    names
      .join(',')
      .split(delimiter)
      .some((name) => USER_POOL_ID_NAMES.has(normalizeName(name)) || IDENTIFIER_NAMES.has(normalizeName(name)));
  if (namesColumn(';')) return "the header looks semicolon-separated (Excel writes ';' in many locales); save the file as comma-separated CSV";
  if (namesColumn('\t')) return 'the header looks tab-separated (TSV); save the file as comma-separated CSV';
  return undefined;
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

function csvRecordToInput(record: CsvRecord, layout: CsvLayout): InputRecord {
  const input: InputRecord = {
    row: record.line,
    userPoolId: { value: record.fields[layout.userPoolIdIndex]!, column: layout.names[layout.userPoolIdIndex]! },
    identifier: { value: record.fields[layout.identifierIndex]!, column: layout.names[layout.identifierIndex]! },
  };
  if (layout.accountIdIndex !== -1) input.accountId = { value: record.fields[layout.accountIdIndex]!, column: layout.names[layout.accountIdIndex]! };
  let extra: Record<string, string> | undefined;
  layout.names.forEach((name, index) => {
    // Columns without a name (a trailing comma in the header) carry nothing worth auditing.
    if (index === layout.userPoolIdIndex || index === layout.identifierIndex || index === layout.accountIdIndex || name.trim() === '') return;
    (extra ??= {})[name] = record.fields[index]!;
  });
  if (extra !== undefined) input.extra = extra;
  return input;
}

// ---------------------------------------------------------------------------
// JSON and JSON Lines

class JsonArrayInput implements FormatParser {
  unusable = false;
  private readonly splitter: JsonArraySplitter;

  constructor(private readonly checker: RowChecker) {
    this.splitter = new JsonArraySplitter({
      element: (bytes, index, origin) => this.element(bytes, index, origin),
      oversized: (index, origin) => checker.rowError(index, `is larger than ${MAX_RECORD_BYTES} bytes (it starts at line ${origin.line}); it was not read`),
    });
  }

  get rowsRead(): number {
    return this.splitter.elements;
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  end(): void {
    if (this.splitter.end() === 'empty') {
      this.unusable = true;
      this.checker.fileError('the file is empty');
    }
  }

  private element(bytes: Buffer, index: number, origin: Position): void {
    if (!isUtf8(bytes)) {
      this.checker.rowError(index, `${NOT_UTF8} (the element starts at line ${origin.line})`);
      return;
    }
    const text = bytes.toString('utf8');
    // A syntax error here makes the whole file invalid JSON: it propagates to scanInputFile.
    addJsonObject(this.checker, parseJsonText(text, origin), index, text, origin);
  }
}

class JsonLinesInput implements FormatParser {
  rowsRead = 0;
  unusable = false;
  private readonly splitter: JsonLinesSplitter;

  constructor(private readonly checker: RowChecker) {
    this.splitter = new JsonLinesSplitter({
      line: (bytes, lineNumber) => this.line(bytes, lineNumber),
      problem: (lineNumber, reason) => {
        this.rowsRead++;
        checker.rowError(lineNumber, reason);
      },
    });
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  end(): void {
    this.splitter.end();
    if (!this.splitter.sawText) {
      this.unusable = true;
      this.checker.fileError('the file is empty');
    }
  }

  private line(bytes: Buffer, lineNumber: number): void {
    this.rowsRead++;
    if (!isUtf8(bytes)) {
      this.checker.rowError(lineNumber, NOT_UTF8);
      return;
    }
    const text = bytes.toString('utf8');
    const origin = { line: lineNumber, column: 1 };
    let value: JsonValue;
    try {
      value = parseJsonText(text, origin);
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      this.checker.rowError(lineNumber, `is not valid JSON at column ${error.position.column}: ${error.reason}`);
      return;
    }
    addJsonObject(this.checker, value, lineNumber, text, origin);
  }
}

function addJsonObject(checker: RowChecker, element: JsonValue, row: number, text: string, origin: Position): void {
  if (!(element instanceof JsonObject)) {
    checker.rowError(row, `is ${describeJsonType(element)}, not an object like ${EXAMPLE_OBJECT}`);
    return;
  }
  if (!checkKeysAreDistinct(checker, element, row, text, origin)) return;
  const keys = element.members.map((member) => member.key);
  const poolKey = findJsonKey(checker, row, keys, USER_POOL_ID_NAMES, 'user pool ID', USER_POOL_ID_COLUMNS);
  const identifierKey = findJsonKey(checker, row, keys, IDENTIFIER_NAMES, 'identifier', IDENTIFIER_COLUMNS);
  const accountKeys = keys.filter((key) => ACCOUNT_ID_NAMES.has(normalizeName(key)));
  if (accountKeys.length > 1) checker.rowError(row, `has ${accountKeys.length} keys that could be the account (${showNames(accountKeys)}); keep only one`);
  if (poolKey === undefined || identifierKey === undefined || accountKeys.length > 1) return;
  const accountKey = accountKeys[0];

  const valueOf = (key: string) => element.members.find((member) => member.key === key)!.value;
  const userPoolId = valueOf(poolKey);
  const identifier = valueOf(identifierKey);
  let valid = true;
  for (const [key, value] of [[poolKey, userPoolId], [identifierKey, identifier]] as const) {
    if (typeof value !== 'string') {
      checker.rowError(row, `must be a string, found ${describeJsonType(value)}`, key);
      valid = false;
    }
  }
  // An account ID is text; a JSON number is taken as written (it has no leading zeros to lose).
  const account = accountKey === undefined ? null : valueOf(accountKey);
  const accountId = typeof account === 'string' ? account : account instanceof JsonNumber ? account.text : undefined;
  if (account !== null && accountId === undefined) {
    checker.rowError(row, `must be a string of 12 digits, found ${describeJsonType(account)}`, accountKey);
    valid = false;
  }
  const extra = readJsonExtra(checker, row, element, accountKey === undefined ? [poolKey, identifierKey] : [poolKey, identifierKey, accountKey]);
  if (!valid || extra === false || typeof userPoolId !== 'string' || typeof identifier !== 'string') return;

  const record: InputRecord = {
    row,
    userPoolId: { value: userPoolId, column: poolKey },
    identifier: { value: identifier, column: identifierKey },
  };
  if (accountId !== undefined) record.accountId = { value: accountId, column: accountKey! };
  if (extra !== undefined) record.extra = extra;
  checker.addRecord(record);
}

/**
 * Refuses an object with the same key twice, or two keys that differ only in
 * case or surrounding spaces (they name the same column): a JSON reader keeps
 * one of them silently, and which one decides what is deleted.
 */
function checkKeysAreDistinct(checker: RowChecker, element: JsonObject, row: number, text: string, origin: Position): boolean {
  const firstByName = new Map<string, { key: string; offset: number }>();
  let distinct = true;
  for (const member of element.members) {
    const name = normalizeName(member.key);
    const first = firstByName.get(name);
    if (first === undefined) {
      firstByName.set(name, member);
      continue;
    }
    distinct = false;
    const at = (offset: number) => {
      const { line, column } = positionIn(text, origin, offset);
      return `line ${line}, column ${column}`;
    };
    const where = `(${at(first.offset)}, and ${at(member.offset)})`;
    if (first.key === member.key) {
      checker.rowError(row, `appears twice in this object ${where}; JSON readers silently keep only one of them, so the row is refused`, member.key);
    } else {
      checker.rowError(row, `${showName(first.key)} and ${showName(member.key)} differ only in case or spaces and name the same field ${where}; keep only one`, member.key);
    }
  }
  return distinct;
}

/** The one key among `keys` that names the field; records an error when there is none or more than one. */
function findJsonKey(checker: RowChecker, row: number, keys: string[], accepted: Set<string>, what: string, names: readonly string[]): string | undefined {
  const matching = keys.filter((key) => accepted.has(normalizeName(key)));
  if (matching.length === 1) return matching[0];
  if (matching.length === 0) {
    checker.rowError(row, `has no ${what} key (accepted keys: ${names.join(', ')}); found keys ${showNames(keys) || 'none'}`);
  } else {
    checker.rowError(row, `has ${matching.length} keys that could be the ${what} (${showNames(matching)}); keep only one`);
  }
  return undefined;
}

/**
 * Extra keys as strings for the audit. Numbers (as written) and booleans are
 * written as text (a ticket number is often a number); null is left out;
 * nested values are an error because the audit has no place for them.
 * Returns false after an error.
 */
function readJsonExtra(checker: RowChecker, row: number, element: JsonObject, requiredKeys: string[]): Record<string, string> | undefined | false {
  let extra: Record<string, string> | undefined;
  let valid = true;
  for (const { key, value } of element.members) {
    if (requiredKeys.includes(key) || value === null) continue;
    if (typeof value === 'string') (extra ??= {})[key] = value;
    else if (typeof value === 'boolean') (extra ??= {})[key] = String(value);
    else if (value instanceof JsonNumber) (extra ??= {})[key] = value.text;
    else {
      checker.rowError(row, `must be a string, number or boolean, found ${describeJsonType(value)}`, key);
      valid = false;
    }
  }
  if (!valid) return false;
  return extra;
}

function describeJsonType(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof JsonObject) return 'an object';
  if (value instanceof JsonNumber) return `a number ${escapeControlCharacters(value.text.slice(0, 40))}`;
  if (typeof value === 'string') return `a string ${showValue(value)}`;
  return `a boolean ${String(value)}`;
}
