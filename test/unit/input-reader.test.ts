import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detectFormat,
  formatInputErrors,
  IDENTIFIER_COLUMNS,
  MAX_INPUT_BYTES,
  parsePairs,
  readInputFile,
  saveStandardInput,
  scanInputFile,
  USER_POOL_ID_COLUMNS,
  type InputError,
} from '../../common/input-reader';

const FIXTURES = path.join(__dirname, '../fixtures/inputs');
const POOL = 'us-east-1_AbC123';

let tempDir: string;
let fileCount = 0;
const sockets: net.Server[] = [];

beforeAll(async () => {
  tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-input-'));
});
afterAll(async () => {
  await Promise.all(sockets.map((server) => new Promise((resolve) => server.close(resolve))));
  await fs.rm(tempDir, { recursive: true, force: true });
});

function listenOn(file: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.end());
    server.once('error', reject);
    server.listen(file, () => resolve(server));
  });
}

async function writeInput(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(tempDir, `${++fileCount}-${name}`);
  await fs.writeFile(file, content);
  return file;
}

/** errors without the file name, for compact assertions */
function errorsOf(errors: InputError[]): { row: number; column?: string; reason: string }[] {
  return errors.map(({ file: _file, ...rest }) => rest);
}

describe('detectFormat', () => {
  it('uses the extension first, whatever the content', () => {
    expect(detectFormat('in.csv', '[')).toBe('csv');
    expect(detectFormat('IN.CSV', '{')).toBe('csv');
    expect(detectFormat('in.json', 'a,b')).toBe('json');
    expect(detectFormat('in.jsonl', '[')).toBe('jsonl');
    expect(detectFormat('in.ndjson', '[')).toBe('jsonl');
  });

  it('looks at the first non-blank character otherwise, past a byte order mark', () => {
    expect(detectFormat('input.txt', '\uFEFF  \n[{"a":1}]')).toBe('json');
    expect(detectFormat('input', '\n{"a":1}\n')).toBe('jsonl');
    expect(detectFormat('input', 'userPoolId,identifier\n')).toBe('csv');
    expect(detectFormat('input', '')).toBe('csv');
  });
});

describe('readInputFile: CSV', () => {
  it('reads the fixture: aliases, comments, blank lines, quoted commas, quotes and newlines, extra columns', async () => {
    const file = path.join(FIXTURES, 'valid.csv');
    const parsed = await readInputFile(file);
    expect(parsed.errors).toEqual([]);
    expect(parsed.format).toBe('csv');
    expect(parsed.file).toBe(file);
    expect(parsed.rowsRead).toBe(4);
    expect(parsed.items).toEqual([
      { userPoolId: POOL, identifier: 'https://api.example.com/orders', row: 4, extra: { tenant: 'acme', ticket: 'OPS-1234' } },
      { userPoolId: POOL, identifier: 'https://api.example.com/search?q=a,b', row: 5, extra: { tenant: 'acme', ticket: 'OPS-1234' } },
      { userPoolId: 'eu-west-1_Zz9', identifier: 'urn:example:billing', row: 7, extra: { tenant: 'Initech\n(EU)', ticket: 'OPS-1235' } },
      // '#' inside a value is not a comment
      { userPoolId: POOL, identifier: 'https://api.example.com/#fragment', row: 9, extra: { tenant: 'say "hi"', ticket: 'OPS-1236' } },
    ]);
  });

  it.each([
    ...USER_POOL_ID_COLUMNS.map((pool) => [pool, 'identifier']),
    ...IDENTIFIER_COLUMNS.map((identifier) => ['userPoolId', identifier]),
    ['USERPOOLID', 'IDENTIFIER'],
    ['Pool_Id', 'RS'],
    [' user-pool-id ', 'Resource_Server_Identifier'],
  ])('accepts the header %s,%s and names errors by the column as written', async (poolColumn, identifierColumn) => {
    const file = await writeInput('aliases.csv', `${poolColumn},${identifierColumn}\n${POOL},https://a.example.com\n${POOL},bad id\n`);
    const parsed = await readInputFile(file);
    expect(parsed.items).toEqual([{ userPoolId: POOL, identifier: 'https://a.example.com', row: 2 }]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 3, column: identifierColumn, reason: '"bad id" contains a space at position 4, which Cognito does not allow' },
    ]);
  });

  it('strips a UTF-8 byte order mark and handles CRLF line endings', async () => {
    const text = '# comment\r\nuserPoolId,identifier,tenant\r\n\r\nus-east-1_AbC123,https://a.example.com,acme\r\nus-east-1_AbC123,https://b.example.com,"two\r\nlines"\r\nus-east-1_AbC123,https://c.example.com,last\r\n';
    const file = await writeInput('bom-crlf.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    const parsed = await readInputFile(file);
    expect(parsed.errors).toEqual([]);
    expect(parsed.items.map((item) => [item.identifier, item.row, item.extra?.tenant])).toEqual([
      ['https://a.example.com', 4, 'acme'],
      ['https://b.example.com', 5, 'two\nlines'],
      // line numbers do not drift after a multi-line value in a CRLF file
      ['https://c.example.com', 7, 'last'],
    ]);
  });

  it('handles a file without a final newline and an old-Mac CR-only file', async () => {
    const noFinalNewline = await readInputFile(await writeInput('no-eol.csv', `userPoolId,identifier\n${POOL},a\n${POOL},b`));
    expect(noFinalNewline.items.map((item) => [item.identifier, item.row])).toEqual([['a', 2], ['b', 3]]);
    const crOnly = await readInputFile(await writeInput('cr.csv', `userPoolId,identifier\r${POOL},a\r${POOL},b\r`));
    expect(crOnly.errors).toEqual([]);
    expect(crOnly.items.map((item) => [item.identifier, item.row])).toEqual([['a', 2], ['b', 3]]);
  });

  it('gives each record the line where it starts, after comments, blank lines and multi-line values', async () => {
    const file = await writeInput(
      'lines.csv',
      [
        '# line 1 is a comment',
        '',
        'userPoolId,identifier,note', // 3
        `${POOL},a,"one`,
        'two',
        'three"', // 4-6
        '',
        '   ', // whitespace only: a blank line to the operator
        '',
        `${POOL},b,x`, // 10
        `${POOL},"c`,
        'd",x', // 11-12: a line break inside an identifier is an error on line 11
        `${POOL},e,x`, // 13
      ].join('\n'),
    );
    const parsed = await readInputFile(file);
    expect(parsed.items.map((item) => [item.identifier, item.row])).toEqual([['a', 4], ['b', 10], ['e', 13]]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 11, column: 'identifier', reason: '"c\\nd" contains a line break at position 2, which Cognito does not allow' },
    ]);
  });

  it('keeps extra columns under their header names as written, and omits extra when there are none', async () => {
    const withExtra = await readInputFile(await writeInput('extra.csv', `Tenant,userPoolId,Ticket #,identifier\nacme,${POOL},T-1,a\n`));
    expect(withExtra.items).toEqual([{ userPoolId: POOL, identifier: 'a', row: 2, extra: { Tenant: 'acme', 'Ticket #': 'T-1' } }]);
    const withoutExtra = await readInputFile(await writeInput('no-extra.csv', `userPoolId,identifier\n${POOL},a\n`));
    expect(withoutExtra.items[0]).not.toHaveProperty('extra');
  });

  it('reads an optional account column into each item (not into extra), and names a bad account by row and column', async () => {
    const parsed = await readInputFile(
      await writeInput('accounts.csv', `account_id,userPoolId,identifier,ticket\n111122223333,${POOL},a,T-1\n,${POOL},b,T-2\n12345,${POOL},c,T-3\n444455556666,${POOL},a,T-4\n`),
    );
    expect(errorsOf(parsed.errors)).toEqual([{ row: 4, column: 'account_id', reason: '"12345" is not an AWS account ID (12 digits, such as 111122223333)' }]);
    // An empty value is the run's --account; the same server in two accounts is two items, not a duplicate.
    expect(parsed.items).toEqual([
      { userPoolId: POOL, identifier: 'a', row: 2, accountId: '111122223333', extra: { ticket: 'T-1' } },
      { userPoolId: POOL, identifier: 'b', row: 3, extra: { ticket: 'T-2' } },
      { userPoolId: POOL, identifier: 'a', row: 5, accountId: '444455556666', extra: { ticket: 'T-4' } },
    ]);
    const json = await readInputFile(await writeInput('accounts.json', `[{"accountId":"111122223333","userPoolId":"${POOL}","identifier":"a"},{"accountId":true,"userPoolId":"${POOL}","identifier":"b"}]`));
    expect(json.items).toEqual([{ userPoolId: POOL, identifier: 'a', row: 1, accountId: '111122223333' }]);
    expect(errorsOf(json.errors)).toEqual([{ row: 2, column: 'accountId', reason: expect.stringContaining('must be a string of 12 digits') }]);
  });

  it('ignores columns with an empty header name (a trailing comma)', async () => {
    const parsed = await readInputFile(await writeInput('trailing-comma.csv', `userPoolId,identifier,\n${POOL},a,\n`));
    expect(parsed.errors).toEqual([]);
    expect(parsed.items).toEqual([{ userPoolId: POOL, identifier: 'a', row: 2 }]);
  });

  it('reports a missing column once, on the header line, with the columns found and the accepted names', async () => {
    const file = await writeInput('missing.csv', `pool,identfier,tenant\n${POOL},a,x\n${POOL},b,y\n`);
    const parsed = await readInputFile(file);
    expect(parsed.items).toEqual([]);
    expect(parsed.errors).toHaveLength(1);
    const [error] = parsed.errors;
    expect(error).toMatchObject({ file, row: 1 });
    expect(error?.reason).toBe(
      "the header has no identifier column; found 'pool', 'identfier', 'tenant' (accepted, in any case: identifier, resource_server, resource_server_identifier, resourceServer, rs)",
    );
  });

  it('names both missing columns in the one error', async () => {
    const parsed = await readInputFile(await writeInput('missing-both.csv', 'a,b\n1,2\n'));
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.reason).toBe(
      "the header has no user pool ID column and no identifier column; found 'a', 'b' (accepted, in any case: userPoolId, user_pool_id, user-pool-id, pool, pool_id; identifier, resource_server, resource_server_identifier, resourceServer, rs)",
    );
  });

  it('reports the header line when a comment precedes it', async () => {
    const parsed = await readInputFile(await writeInput('missing-late.csv', '# export\n\nfoo,bar\n'));
    expect(parsed.errors.map((error) => error.row)).toEqual([3]);
  });

  it('rejects a header with two columns for the same field', async () => {
    const parsed = await readInputFile(await writeInput('ambiguous.csv', `pool,userPoolId,identifier\n${POOL},${POOL},a\n`));
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 1, reason: "the header has 2 columns that could be the same field ('pool', 'userPoolId'); keep only one" },
    ]);
    expect(parsed.items).toEqual([]);
  });

  it('reports a row with the wrong number of fields and keeps reading', async () => {
    const file = await writeInput(
      'field-count.csv',
      ['userPoolId,identifier', `${POOL},a,extra`, `${POOL}`, `${POOL},b`, `${POOL},"x`, 'y",1', `${POOL},c`].join('\n'),
    );
    const parsed = await readInputFile(file);
    expect(parsed.items.map((item) => [item.identifier, item.row])).toEqual([['b', 4], ['c', 7]]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 2, reason: 'has 3 fields but the header has 2 (userPoolId, identifier); a value that contains a comma must be in double quotes' },
      { row: 3, reason: 'has 1 field but the header has 2 (userPoolId, identifier); a value that contains a comma must be in double quotes' },
      { row: 5, reason: 'has 3 fields but the header has 2 (userPoolId, identifier); a value that contains a comma must be in double quotes' },
    ]);
    expect(parsed.rowsRead).toBe(5);
  });

  it('reports stray quotes as invalid values, a comment after the header, and an unclosed quote on the line where it opens', async () => {
    const file = await writeInput(
      'quotes.csv',
      ['userPoolId,identifier', `${POOL},ab"c`, `${POOL},"ok"x`, `${POOL},fine`, '  ', '# comment', `${POOL},"never closed`, `${POOL},swallowed`].join('\n'),
    );
    const parsed = await readInputFile(file);
    expect(parsed.items.map((item) => [item.identifier, item.row])).toEqual([['fine', 4]]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 2, column: 'identifier', reason: '"ab\\"c" contains \'"\' at position 3, which Cognito does not allow' },
      { row: 3, column: 'identifier', reason: '"\\"ok\\"x" contains \'"\' at position 1, which Cognito does not allow' },
      { row: 6, reason: expect.stringMatching(/^starts with '#': a comment line after the header is not allowed/) },
      { row: 7, reason: expect.stringContaining('a quoted value starting on this line is never closed') },
    ]);
  });

  it("keeps a quote followed by '#' in the value, counts a CRLF inside quotes as one line, and ends a last line on a lone CR", async () => {
    // '"#' is where csv-parse's comment option would close a quote silently ("a"#b read as a#b).
    const file = await writeInput(
      'quote-hash.csv',
      ['userPoolId,identifier,note', `${POOL},"https://a.example.com"#frag,x`, `"""#x",b,y`, `${POOL},c,"two\r\nlines"`, `# after`, `${POOL},d,z\r`].join('\n'),
    );
    const parsed = await readInputFile(file);
    expect(parsed.items.map((item) => [item.identifier, item.row, item.extra])).toEqual([
      ['c', 4, { note: 'two\nlines' }],
      ['d', 7, { note: 'z' }],
    ]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 2, column: 'identifier', reason: '"\\"https://a.example.com\\"#frag" contains \'"\' at position 1, which Cognito does not allow' },
      { row: 3, column: 'userPoolId', reason: expect.stringContaining('contains \'"\' at position 1') },
      { row: 6, reason: expect.stringMatching(/^starts with '#': a comment line after the header is not allowed .*: "# after"/) },
    ]);
  });

  it('reports every validation failure with its row and column, and reads on', async () => {
    const file = path.join(FIXTURES, 'messy.csv');
    const parsed = await readInputFile(file);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 3, column: 'identifier', reason: '"has space" contains a space at position 4, which Cognito does not allow' },
      { row: 4, column: 'identifier', reason: '"back\\\\slash" contains \'\\\' at position 5, which Cognito does not allow' },
      { row: 5, column: 'userPoolId', reason: '"foo_Abc" its Region prefix \'foo\' is not an AWS Region name (expected a name like us-east-1)' },
      { row: 6, column: 'userPoolId', reason: '"useast1" has no \'_\' between the Region and the pool\'s own ID (a user pool ID looks like us-east-1_AbC123)' },
      { row: 8, reason: 'has 2 fields but the header has 3 (userPoolId, identifier, note); a value that contains a comma must be in double quotes' },
      { row: 9, column: 'userPoolId', reason: 'is empty' },
      { row: 9, column: 'identifier', reason: 'is empty' },
    ]);
    expect(parsed.items.map((item) => item.row)).toEqual([2, 10]);
    expect(parsed.duplicates).toEqual([{ file, row: 7, firstRow: 2, userPoolId: 'us-east-1_Good1', identifier: 'https://ok.example.com' }]);
    expect(parsed.rowsRead).toBe(9);
  });

  it.each([
    ['a pool ID that is too long', `us-east-1_${'a'.repeat(50)}`, 'ok', 'userPoolId', 'is 60 characters long; Cognito allows at most 55'],
    ['a pool ID with a bad character after the underscore', 'us-east-1_ab-c', 'ok', 'userPoolId', "has '-' in 'ab-c'"],
    ['a pool ID with a leading space', ` ${POOL}`, 'ok', 'userPoolId', 'contains a space at position 1'],
    ['an identifier with a space', POOL, 'a b', 'identifier', 'contains a space at position 2'],
    ['an identifier with a double quote', POOL, '"a""b"', 'identifier', 'contains \'"\' at position 2'],
    ['an identifier with a backslash', POOL, 'a\\b', 'identifier', "contains '\\' at position 2"],
    ['an identifier that is too long', POOL, 'x'.repeat(300), 'identifier', 'is 300 characters long; Cognito allows at most 256'],
    ['an empty identifier', POOL, '', 'identifier', 'is empty'],
    ['an identifier with a trailing space', POOL, 'abc ', 'identifier', 'stray whitespace'],
  ])('rejects %s', async (_name, pool, identifier, column, reason) => {
    const parsed = await readInputFile(await writeInput('invalid.csv', `userPoolId,identifier\n${pool},${identifier}\n`));
    expect(parsed.items).toEqual([]);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toMatchObject({ row: 2, column });
    expect(parsed.errors[0]?.reason).toContain(reason);
  });

  it('shortens very long values in error messages', async () => {
    const parsed = await readInputFile(await writeInput('long.csv', `userPoolId,identifier\n${POOL},${'x'.repeat(300)}\n`));
    expect(parsed.errors[0]?.reason).toBe(`"${'x'.repeat(80)}"... (300 characters) is 300 characters long; Cognito allows at most 256`);
  });

  it('keeps the first of exact duplicates and lists the others', async () => {
    const file = await writeInput(
      'dups.csv',
      ['userPoolId,identifier,ticket', `${POOL},a,T1`, `${POOL},b,T2`, `${POOL},a,T3`, `eu-west-1_X,a,T4`, `${POOL},A,T5`, `${POOL},a,T6`].join('\n'),
    );
    const parsed = await readInputFile(file);
    expect(parsed.items.map((item) => item.extra?.ticket)).toEqual(['T1', 'T2', 'T4', 'T5']);
    expect(parsed.duplicates).toEqual([
      { file, row: 4, firstRow: 2, userPoolId: POOL, identifier: 'a' },
      { file, row: 7, firstRow: 2, userPoolId: POOL, identifier: 'a' },
    ]);
  });

  it('reads a header-only file as zero items and no error', async () => {
    const parsed = await readInputFile(await writeInput('header-only.csv', 'userPoolId,identifier\n'));
    expect(parsed).toMatchObject({ items: [], errors: [], duplicates: [], rowsRead: 0 });
  });

  it.each([
    ['zero bytes', ''],
    ['a byte order mark only', '\uFEFF'],
    ['blank lines only', '\n  \n\r\n'],
  ])('reports a file of %s as empty', async (_name, content) => {
    const file = await writeInput('empty.csv', content);
    const parsed = await readInputFile(file);
    expect(parsed.items).toEqual([]);
    expect(parsed.errors).toEqual([{ file, row: 0, reason: 'the file is empty' }]);
  });

  it('reports a file of comments only as having no header', async () => {
    const parsed = await readInputFile(await writeInput('comments.csv', '# nothing here\n\n# really\n'));
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.reason).toMatch(/^the file has no header row/);
  });

  it('parses 100,000 rows across many pools with the right counts', async () => {
    const lines = ['userPoolId,identifier,tenant'];
    for (let index = 0; index < 100_000; index++) {
      lines.push(`us-east-1_Pool${index % 50},https://api.example.com/rs/${index},tenant-${index % 7}`);
    }
    // 100 duplicates and 10 invalid rows at the end
    for (let index = 0; index < 100; index++) lines.push(`us-east-1_Pool${index % 50},https://api.example.com/rs/${index},dup`);
    for (let index = 0; index < 10; index++) lines.push(`us-east-1_Pool1,bad id ${index},x`);
    const file = await writeInput('big.csv', `${lines.join('\n')}\n`);

    const parsed = await readInputFile(file);
    expect(parsed.rowsRead).toBe(100_110);
    expect(parsed.items).toHaveLength(100_000);
    expect(parsed.duplicates).toHaveLength(100);
    expect(parsed.errors).toHaveLength(10);
    expect(parsed.items[99_999]).toEqual({
      userPoolId: 'us-east-1_Pool49',
      identifier: 'https://api.example.com/rs/99999',
      row: 100_001,
      extra: { tenant: `tenant-${99_999 % 7}` },
    });
    expect(parsed.duplicates[99]).toMatchObject({ row: 100_101, firstRow: 101 });
    expect(parsed.errors[9]?.row).toBe(100_111);
  });

  it('throws a clear error naming the path for a missing file or a directory', async () => {
    const missing = path.join(tempDir, 'no-such-file.csv');
    await expect(readInputFile(missing)).rejects.toThrow(`cannot read input file '${missing}': no such file`);
    await expect(readInputFile(tempDir)).rejects.toThrow(`cannot read input file '${tempDir}': it is a directory, not a regular file`);
  });

  it.skipIf(process.getuid?.() === 0)('throws a clear error naming the path for a file it may not read', async () => {
    const file = await writeInput('secret.csv', 'userPoolId,identifier\n');
    await fs.chmod(file, 0o000);
    await expect(readInputFile(file)).rejects.toThrow(`cannot read input file '${file}': permission denied`);
  });

  it('reads a file as the format it is told, whatever its name', async () => {
    const file = await writeInput('list.txt', `{"userPoolId": "${POOL}", "identifier": "a"}\n`);
    expect((await readInputFile(file)).format).toBe('jsonl');
    const asCsv = await readInputFile(file, { format: 'csv' });
    expect(asCsv.format).toBe('csv');
    expect(asCsv.errors).toHaveLength(1);
  });
});

describe('readInputFile: JSON', () => {
  it('reads an array of objects with key aliases; extra scalars become strings, null is left out', async () => {
    const parsed = await readInputFile(path.join(FIXTURES, 'valid.json'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.format).toBe('json');
    expect(parsed.rowsRead).toBe(3);
    expect(parsed.items).toEqual([
      { userPoolId: POOL, identifier: 'https://api.example.com/orders', row: 1, extra: { tenant: 'acme' } },
      { userPoolId: POOL, identifier: 'urn:example:billing', row: 2, extra: { ticket: '1234', urgent: 'true' } },
      { userPoolId: 'eu-west-1_Zz9', identifier: 'https://api.example.com/orders', row: 3 },
    ]);
  });

  it('reports each bad element by its 1-based index and key, and keeps the good ones', async () => {
    const file = path.join(FIXTURES, 'invalid-elements.json');
    const parsed = await readInputFile(file);
    expect(parsed.rowsRead).toBe(8);
    expect(parsed.items.map((item) => item.row)).toEqual([1]);
    expect(parsed.duplicates).toEqual([{ file, row: 8, firstRow: 1, userPoolId: POOL, identifier: 'https://api.example.com/orders' }]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 2, reason: expect.stringMatching(/^is a string "us-east-1_AbC123,https:\/\/api.example.com\/x", not an object like/) },
      { row: 3, column: 'identifier', reason: 'must be a string, found a number 42' },
      { row: 4, reason: expect.stringMatching(/^has no identifier key \(accepted keys: identifier, .*\); found keys 'userPoolId'$/) },
      { row: 5, column: 'labels', reason: 'must be a string, number or boolean, found an array' },
      { row: 6, reason: expect.stringMatching(/^is null, not an object/) },
      { row: 7, reason: "has 2 keys that could be the user pool ID ('pool', 'userPoolId'); keep only one" },
    ]);
  });

  it('reports invalid JSON once, with its line and column', async () => {
    const parsed = await readInputFile(path.join(FIXTURES, 'syntax-error.json'));
    expect(parsed.items).toEqual([]);
    expect(errorsOf(parsed.errors)).toEqual([{ row: 3, reason: expect.stringMatching(/^the file is not valid JSON at line 3, column 18: /) }]);
  });

  it('reports invalid JSON without a position as one error', async () => {
    const parsed = await readInputFile(await writeInput('trailing-comma.json', `[{"userPoolId": "${POOL}", "identifier": "a"},]`));
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]?.reason).toMatch(/^the file is not valid JSON/);
  });

  it('rejects a top-level object with a hint about JSON Lines', async () => {
    const parsed = await readInputFile(await writeInput('object.json', `{"userPoolId": "${POOL}", "identifier": "a"}`));
    expect(errorsOf(parsed.errors)).toEqual([{ row: 0, reason: expect.stringContaining('found an object; for one object per line, name the file .jsonl') }]);
  });

  it('strips a byte order mark and reports an empty file', async () => {
    const withBom = await readInputFile(await writeInput('bom.json', `\uFEFF[{"userPoolId": "${POOL}", "identifier": "a"}]`));
    expect(withBom.items).toHaveLength(1);
    const empty = await readInputFile(await writeInput('empty.json', '  \n'));
    expect(errorsOf(empty.errors)).toEqual([{ row: 0, reason: 'the file is empty' }]);
  });

  it('validates values and names the key as written', async () => {
    const parsed = await readInputFile(await writeInput('keys.json', `[{"USER_POOL_ID": "foo_1", "RS": "a b"}]`));
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 1, column: 'USER_POOL_ID', reason: expect.stringContaining("its Region prefix 'foo' is not an AWS Region name") },
      { row: 1, column: 'RS', reason: expect.stringContaining('contains a space at position 2') },
    ]);
  });
});

describe('readInputFile: JSON Lines', () => {
  it('reads one object per line, skipping blank and comment lines; row is the line number', async () => {
    const parsed = await readInputFile(path.join(FIXTURES, 'valid.jsonl'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.format).toBe('jsonl');
    expect(parsed.rowsRead).toBe(2);
    expect(parsed.items).toEqual([
      { userPoolId: POOL, identifier: 'https://api.example.com/orders', row: 2, extra: { tenant: 'acme' } },
      { userPoolId: 'eu-west-1_Zz9', identifier: 'urn:example:billing', row: 4 },
    ]);
  });

  it('reports a bad line and keeps reading', async () => {
    const parsed = await readInputFile(path.join(FIXTURES, 'mixed.jsonl'));
    expect(parsed.items.map((item) => [item.identifier, item.row])).toEqual([
      ['https://api.example.com/orders', 1],
      ['https://api.example.com/last', 6],
    ]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 2, reason: 'is not valid JSON at column 50: expected a value, found the end of the text' },
      { row: 3, reason: expect.stringMatching(/^is an array, not an object/) },
      { row: 5, column: 'identifier', reason: '"has space" contains a space at position 4, which Cognito does not allow' },
    ]);
    expect(parsed.rowsRead).toBe(5);
  });

  it('handles CRLF and a byte order mark', async () => {
    const file = await writeInput('crlf.ndjson', `\uFEFF{"userPoolId": "${POOL}", "identifier": "a"}\r\n\r\n{"userPoolId": "${POOL}", "identifier": "b"}\r\n`);
    const parsed = await readInputFile(file);
    expect(parsed.errors).toEqual([]);
    expect(parsed.items.map((item) => [item.identifier, item.row])).toEqual([['a', 1], ['b', 3]]);
  });
});

describe('parsePairs', () => {
  it('splits at the first comma only, so identifiers keep their commas and colons', () => {
    const parsed = parsePairs([`${POOL},https://api.example.com/a,b:c`, 'eu-west-1_Zz9,urn:x:y']);
    expect(parsed).toEqual({
      file: '--pair',
      format: 'csv',
      items: [
        { userPoolId: POOL, identifier: 'https://api.example.com/a,b:c', row: 1 },
        { userPoolId: 'eu-west-1_Zz9', identifier: 'urn:x:y', row: 2 },
      ],
      errors: [],
      duplicates: [],
      rowsRead: 2,
      unusable: false,
    });
  });

  it('reports a pair without a comma, invalid values and duplicates by the pair index', () => {
    const parsed = parsePairs([`${POOL}:a`, `${POOL},a`, `${POOL} ,a`, `${POOL},a`, `${POOL},`]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 1, reason: `"${POOL}:a" has no comma; expected POOL,IDENTIFIER, for example us-east-1_AbC123,https://api.example.com` },
      { row: 3, column: 'userPoolId', reason: expect.stringContaining('contains a space at position 17') },
      { row: 5, column: 'identifier', reason: 'is empty' },
    ]);
    expect(parsed.items).toEqual([{ userPoolId: POOL, identifier: 'a', row: 2 }]);
    expect(parsed.duplicates).toEqual([{ file: '--pair', row: 4, firstRow: 2, userPoolId: POOL, identifier: 'a' }]);
  });
});

describe('formatInputErrors', () => {
  const errors: InputError[] = [
    { file: 'in.csv', row: 7, column: 'identifier', reason: 'contains a space at position 3' },
    { file: 'in.csv', row: 9, reason: 'has 3 fields but the header has 2' },
    { file: 'in.csv', row: 0, reason: 'the file is empty' },
  ];

  it('writes one line per error: file:row: column: reason', () => {
    expect(formatInputErrors(errors)).toBe(
      ["in.csv:7: column 'identifier': contains a space at position 3", 'in.csv:9: has 3 fields but the header has 2', 'in.csv: the file is empty'].join('\n'),
    );
  });

  it('stops after max errors and says how many more there are', () => {
    expect(formatInputErrors(errors, 1)).toBe("in.csv:7: column 'identifier': contains a space at position 3\n... and 2 more");
    const many = Array.from({ length: 25 }, (_, index) => ({ file: 'f', row: index + 1, reason: 'bad' }));
    const lines = formatInputErrors(many).split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[19]).toBe('f:20: bad');
    expect(lines[20]).toBe('... and 5 more');
  });

  it('returns an empty string for no errors', () => {
    expect(formatInputErrors([])).toBe('');
  });
});

describe('inputs that would delete the wrong server or hang', () => {
  it('refuses a JSON object with the same key twice, naming the key and where both are, instead of keeping the last', async () => {
    const json = await writeInput('twice.json', `[\n  {"userPoolId": "${POOL}", "identifier": "keep", "identifier": "delete-me"}\n]`);
    const parsed = await readInputFile(json);
    expect(parsed.items).toEqual([]);
    expect(errorsOf(parsed.errors)).toEqual([
      {
        row: 1,
        column: 'identifier',
        reason: 'appears twice in this object (line 2, column 38, and line 2, column 60); JSON readers silently keep only one of them, so the row is refused',
      },
    ]);
    const jsonl = await writeInput('twice.jsonl', `{"userPoolId": "${POOL}", "identifier": "a"}\n{"identifier": "b", "userPoolId": "${POOL}", "userPoolId": "eu-west-1_Zz9"}\n`);
    const lines = await readInputFile(jsonl);
    expect(lines.items.map((item) => item.identifier)).toEqual(['a']);
    expect(errorsOf(lines.errors)).toEqual([{ row: 2, column: 'userPoolId', reason: expect.stringMatching(/^appears twice in this object \(line 2, column 21, and line 2, column 55\)/) }]);
  });

  it('refuses two keys that differ only in case or spaces, and duplicate extra keys', async () => {
    const parsed = await readInputFile(
      await writeInput('case.json', `[{"userPoolId": "${POOL}", "identifier": "a", " IDENTIFIER ": "b"}, {"userPoolId": "${POOL}", "identifier": "c", "tenant": "x", "tenant": "y"}]`),
    );
    expect(parsed.items).toEqual([]);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 1, column: ' IDENTIFIER ', reason: expect.stringMatching(/^'identifier' and ' IDENTIFIER ' differ only in case or spaces and name the same field/) },
      { row: 2, column: 'tenant', reason: expect.stringMatching(/^appears twice in this object/) },
    ]);
  });

  it('never drops a data line that starts with # after the header, and keeps # inside values', async () => {
    const file = await writeInput(
      'hash.csv',
      ['# a comment before the header is fine', 'userPoolId,identifier', `${POOL},https://a.example.com/#frag`, `#${POOL},https://b.example.com`, `# ${POOL},https://c.example.com`].join('\n'),
    );
    const parsed = await readInputFile(file);
    expect(parsed.items.map((item) => item.identifier)).toEqual(['https://a.example.com/#frag']);
    expect(parsed.rowsRead).toBe(3);
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 4, reason: expect.stringMatching(/^starts with '#': a comment line after the header is not allowed .*: "#us-east-1_AbC123,https:\/\/b\.examp/) },
      { row: 5, reason: expect.stringMatching(/^starts with '#': a comment line after the header is not allowed/) },
    ]);
  });

  it('keeps a lone CR inside a value of an LF file (where validation names it) instead of cutting the line there', async () => {
    const parsed = await readInputFile(await writeInput('lone-cr.csv', `userPoolId,identifier\n${POOL},abc\rdef\n${POOL},ok\n`));
    expect(parsed.items.map((item) => [item.identifier, item.row])).toEqual([['ok', 3]]);
    expect(errorsOf(parsed.errors)).toEqual([{ row: 2, column: 'identifier', reason: '"abc\\rdef" contains a carriage return at position 4, which Cognito does not allow' }]);
  });

  it.each([
    ['a FIFO', async (file: string) => execFileSync('mkfifo', [file]), 'it is a FIFO (named pipe), not a regular file; to read a stream, use --input - and pipe it in'],
    ['a directory', async (file: string) => fs.mkdir(file), 'it is a directory, not a regular file'],
    ['a socket', async (file: string) => void sockets.push(await listenOn(file)), 'it is a socket, not a regular file'],
    ['a link to /dev/zero', async (file: string) => fs.symlink('/dev/zero', file), "it is a symbolic link to '/dev/zero', which is a character device, not a regular file"],
    ['a link to a FIFO', async (file: string) => {
      // the link's target is named in the message, so only its end is compared
      execFileSync('mkfifo', [`${file}.fifo`]);
      await fs.symlink(`${file}.fifo`, file);
    }, 'which is a FIFO (named pipe), not a regular file; to read a stream, use --input - and pipe it in'],
    ['a dangling link', async (file: string) => fs.symlink('nowhere.csv', file), "it is a symbolic link to 'nowhere.csv', which does not exist"],
  ])('refuses %s at once, in one line, without blocking', async (_name, make, reason) => {
    const file = path.join(tempDir, `${++fileCount}-special.csv`);
    await make(file);
    // A FIFO without a writer would block an open() for ever: this resolving at all is the check.
    const message = await readInputFile(file).then(() => 'read', (error: Error) => error.message);
    expect(message.startsWith(`cannot read input file '${file}': `)).toBe(true);
    expect(message.endsWith(reason)).toBe(true);
  });

  it('refuses a character device given directly, and reads a symbolic link to a regular file', async () => {
    await expect(readInputFile('/dev/zero')).rejects.toThrow("cannot read input file '/dev/zero': it is a character device, not a regular file");
    const target = await writeInput('target.csv', `userPoolId,identifier\n${POOL},a\n`);
    const link = path.join(tempDir, `${++fileCount}-link.csv`);
    await fs.symlink(target, link);
    expect((await readInputFile(link)).items).toEqual([{ userPoolId: POOL, identifier: 'a', row: 2 }]);
  });

  it('refuses a file over the size limit before reading it', async () => {
    expect(MAX_INPUT_BYTES).toBe(1024 ** 3);
    const file = path.join(tempDir, `${++fileCount}-huge.csv`);
    const handle = await fs.open(file, 'w');
    await handle.truncate(MAX_INPUT_BYTES + 1); // sparse: no disk used
    await handle.close();
    await expect(readInputFile(file)).rejects.toThrow(`cannot read input file '${file}': it is 1 GiB, more than the 1 GiB an input may be; split it into smaller files`);
    const small = await writeInput('small.csv', `userPoolId,identifier\n${POOL},a\n`);
    await expect(readInputFile(small, { maxBytes: 10 })).rejects.toThrow('more than the 10 bytes an input may be');
  });

  it('copies standard input into a file with a size limit, and refuses a terminal', async () => {
    const target = path.join(tempDir, `${++fileCount}-stdin`, 'input');
    const saved = await saveStandardInput(target, { input: Readable.from([Buffer.from(`userPoolId,identifier\n${POOL},`), Buffer.from('a\n')]) });
    expect(saved).toBe(target);
    expect((await readInputFile(saved)).items).toEqual([{ userPoolId: POOL, identifier: 'a', row: 2 }]);

    const tooBig = path.join(tempDir, `${++fileCount}-stdin-big`);
    await expect(saveStandardInput(tooBig, { input: Readable.from([Buffer.alloc(600, 0x61), Buffer.alloc(600, 0x61)]), maxBytes: 1000 })).rejects.toThrow(
      'cannot read standard input: it is more than the 1000 bytes an input may be; split it into smaller files',
    );
    await expect(fs.stat(tooBig)).rejects.toThrow(/ENOENT/);
    const terminal = Object.assign(Readable.from([]), { isTTY: true });
    await expect(saveStandardInput(path.join(tempDir, 'tty'), { input: terminal })).rejects.toThrow('standard input is a terminal');
  });
});

describe('encodings', () => {
  const csv = `userPoolId,identifier,tenant\n${POOL},https://a.example.com,Zürich\n${POOL},urn:b,東京\n`;
  const expected = [
    { userPoolId: POOL, identifier: 'https://a.example.com', row: 2, extra: { tenant: 'Zürich' } },
    { userPoolId: POOL, identifier: 'urn:b', row: 3, extra: { tenant: '東京' } },
  ];

  it.each([
    ['UTF-16LE', (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
    ['UTF-16BE', (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])],
  ])('reads %s with a byte order mark as CSV, JSON and JSON Lines, across chunk boundaries', async (_name, encode) => {
    expect((await readInputFile(await writeInput('utf16.csv', encode(csv)))).items).toEqual(expected);
    const json = JSON.stringify(expected.map(({ userPoolId, identifier, extra }) => ({ userPoolId, identifier, ...extra })));
    expect((await readInputFile(await writeInput('utf16.json', encode(json)))).items.map((item) => item.extra?.tenant)).toEqual(['Zürich', '東京']);
    expect((await readInputFile(await writeInput('utf16.jsonl', encode(`{"userPoolId": "${POOL}", "identifier": "a"}\n`)))).items).toHaveLength(1);
    // A file far larger than one read chunk, so that characters and byte pairs are split between chunks.
    const rows = Array.from({ length: 40_000 }, (_, index) => `${POOL},https://api.example.com/${index},Zürich-東京-${index}`);
    const big = await readInputFile(await writeInput('utf16-big.csv', encode(`userPoolId,identifier,tenant\n${rows.join('\n')}\n`)));
    expect(big.errors).toEqual([]);
    expect(big.items).toHaveLength(40_000);
    expect(big.items[39_999]).toEqual({ userPoolId: POOL, identifier: 'https://api.example.com/39999', row: 40_001, extra: { tenant: 'Zürich-東京-39999' } });
  });

  it('refuses UTF-16 without a byte order mark and binary content, with a hint to save as UTF-8', async () => {
    const noBom = await readInputFile(await writeInput('no-bom.csv', Buffer.from(csv, 'utf16le')));
    expect(errorsOf(noBom.errors)).toEqual([{ row: 1, reason: expect.stringMatching(/^the file looks like UTF-16LE text without a byte order mark .*save it as UTF-8/) }]);
    expect(noBom).toMatchObject({ items: [], unusable: true });
    const binary = await readInputFile(await writeInput('nul.csv', `userPoolId,identifier\n${POOL},a\n${POOL},b\u0000c\n`));
    expect(errorsOf(binary.errors)).toEqual([{ row: 3, reason: expect.stringMatching(/^contains a NUL byte: .*save it as UTF-8/) }]);
    // The rows before the NUL byte are not run either: the file as a whole is not text.
    expect(binary).toMatchObject({ items: [], unusable: true });
  });

  it('refuses bytes that are not UTF-8 with their row and column, never as a silent U+FFFD', async () => {
    const file = await writeInput('latin1.csv', Buffer.concat([Buffer.from(`userPoolId,identifier,tenant\n${POOL},a,ok\n${POOL},b,Z`), Buffer.from([0xfc]), Buffer.from('rich\n')]));
    const parsed = await readInputFile(file);
    expect(parsed.items.map((item) => item.identifier)).toEqual(['a']);
    expect(errorsOf(parsed.errors)).toEqual([{ row: 3, column: 'tenant', reason: 'contains bytes that are not valid UTF-8; save the file as UTF-8 (in Excel: "CSV UTF-8")' }]);
  });
});

describe('messages a person can read', () => {
  it('names the right line and column of a JSON syntax error deep in the file', async () => {
    const elements = Array.from({ length: 49 }, (_, index) => `  {"userPoolId": "${POOL}", "identifier": "r${index}"},`);
    const file = await writeInput('line-51.json', ['[', ...elements, `  {"userPoolId": "${POOL}", "identifier" "r49"}`, ']'].join('\n'));
    const parsed = await readInputFile(file);
    expect(parsed).toMatchObject({ items: [], unusable: true });
    expect(errorsOf(parsed.errors)).toEqual([
      { row: 51, reason: 'the file is not valid JSON at line 51, column 51: expected \':\' after the key "identifier", found \'"\'' },
    ]);
  });

  it('escapes control characters and escape sequences in every message, and shortens long headers', async () => {
    const header = `userPoolId,\u001b[2J\u001b]8;;https://evil.example\u0007click${'\u001b[7m'.repeat(120_000)}`;
    const parsed = await readInputFile(await writeInput('ansi.csv', `${header}\n${POOL},a\n`));
    expect(parsed.errors).toHaveLength(1);
    const line = formatInputErrors(parsed.errors);
    expect(line).toContain(`the header has no identifier column; found 'userPoolId', '\\u001b[2J\\u001b]8;;https://evil.example... (${header.length - 11} characters)'`);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(line.length).toBeLessThanOrEqual(300);
    expect(line).toMatch(/\.\.\. \(\d+ characters\)/);

    const rowError = await readInputFile(await writeInput('ansi-row.csv', `userPoolId,identifier,\u001b[31mtenant\nus-east-1_A\u009b1,a,x\n`));
    const formatted = formatInputErrors(rowError.errors);
    expect(formatted).toBe(`${rowError.file}:2: column 'userPoolId': "us-east-1_A\\u009b1" contains a control character (U+009B) at position 12, which Cognito does not allow`);
  });

  it('formats at most the given number of errors and counts the rest from the total', () => {
    const errors: InputError[] = [{ file: 'f', row: 1, column: 'a\u001bb', reason: 'bad\u0007' }];
    expect(formatInputErrors(errors, 20, 250)).toBe("f:1: column 'a\\u001bb': bad\\u0007\n... and 249 more");
  });

  it.each([
    ['semicolon', 'userPoolId;identifier', "the header looks semicolon-separated (Excel writes ';' in many locales); save the file as comma-separated CSV"],
    ['tab', 'userPoolId\tidentifier', 'the header looks tab-separated (TSV); save the file as comma-separated CSV'],
  ])('hints at a %s-separated file', async (_name, headerLine, hint) => {
    const parsed = await readInputFile(await writeInput('delimited.csv', `${headerLine}\n${POOL}${headerLine.includes(';') ? ';' : '\t'}a\n`));
    expect(errorsOf(parsed.errors)).toEqual([{ row: 1, reason: expect.stringMatching(new RegExp(`^${hint.replace(/[()]/g, '\\$&')}; found '`)) }]);
  });

  it('reports a pool ID in an unknown Region with its row and column', async () => {
    const parsed = await readInputFile(await writeInput('region.csv', `userPoolId,identifier\nus-east-9_AbC123,a\n`));
    expect(errorsOf(parsed.errors)).toEqual([
      {
        row: 2,
        column: 'userPoolId',
        reason: `"us-east-9_AbC123" its Region prefix 'us-east-9' is not a Region where Cognito user pools exist (a typo?); if it is a new Region, set RS_CLEANUP_EXTRA_REGIONS=us-east-9`,
      },
    ]);
  });
});

describe('scanInputFile', () => {
  it('hands items, errors and duplicates to the sink as it reads, with counts and the checksum of the bytes', async () => {
    const content = `userPoolId,identifier\n${POOL},a\n${POOL},bad id\n${POOL},a\n`;
    const file = await writeInput('scan.csv', content);
    const seen: string[] = [];
    const scan = await scanInputFile(file, {
      item: (item) => seen.push(`item ${item.row}`),
      error: (error) => seen.push(`error ${error.row}`),
      duplicate: (duplicate) => seen.push(`duplicate ${duplicate.row}`),
    });
    expect(seen).toEqual(['item 2', 'error 3', 'duplicate 4']);
    expect(scan).toEqual({
      file,
      format: 'csv',
      encoding: 'utf-8',
      sha256: createHash('sha256').update(content).digest('hex'),
      bytes: Buffer.byteLength(content),
      rowsRead: 3,
      items: 1,
      errors: 1,
      invalidRows: 1,
      duplicates: 1,
      unusable: false,
    });
  });

  it('keeps a big JSON number as written in the extra columns', async () => {
    const parsed = await readInputFile(await writeInput('number.json', `[{"userPoolId": "${POOL}", "identifier": "a", "ticket": 12345678901234567890, "ratio": 1.50e3}]`));
    expect(parsed.items[0]?.extra).toEqual({ ticket: '12345678901234567890', ratio: '1.50e3' });
  });
});
