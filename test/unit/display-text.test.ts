import { describe, expect, it } from 'vitest';
import { displayName, escapeControlCharacters, oneLine, showValue } from '../../common/display-text';

describe('display text', () => {
  it('escapes C0 and C1 controls, DEL, separators, bidi controls and the byte order mark, and nothing else', () => {
    expect(escapeControlCharacters('a\u001b[2Jb\n\t\r\u0000\u007f\u0085\u009b\u2028\u202e\u2067\ufeffé東\\"')).toBe(
      'a\\u001b[2Jb\\n\\t\\r\\u0000\\u007f\\u0085\\u009b\\u2028\\u202e\\u2067\\ufeffé東\\"',
    );
  });

  it('shortens values and names, saying their real length, without cutting an escape in half', () => {
    expect(showValue('x'.repeat(100))).toBe(`"${'x'.repeat(80)}"... (100 characters)`);
    expect(showValue('a\u001bb')).toBe('"a\\u001bb"');
    expect(displayName(`${'a'.repeat(38)}\u001bzzz`)).toBe(`${'a'.repeat(38)}... (42 characters)`);
    expect(displayName('short')).toBe('short');
  });

  it('makes one line of at most 300 characters out of any message', () => {
    const line = oneLine(`first\nsecond ${'\u001b[7m'.repeat(10_000)}`);
    expect(line).not.toMatch(/[\u0000-\u001f]/);
    expect(line.length).toBeLessThanOrEqual(300);
    expect(line).toMatch(/^first\\nsecond \\u001b\[7m.*\.\.\. \(\d+ characters\)$/);
  });
});
