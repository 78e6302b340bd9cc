import { describe, expect, it } from 'vitest';
import { DigestSet } from '../../common/digest-set';

describe('DigestSet', () => {
  it('adds keys and returns the first value of a key seen again, across many growths', () => {
    const set = new DigestSet();
    for (let index = 0; index < 50_000; index++) expect(set.addOrGet(`us-east-1_P${index % 97} https://api.example.com/${index}`, index + 1)).toBe(0);
    expect(set.size).toBe(50_000);
    for (let index = 0; index < 50_000; index += 997) {
      expect(set.addOrGet(`us-east-1_P${index % 97} https://api.example.com/${index}`, 999_999)).toBe(index + 1);
    }
    expect(set.size).toBe(50_000);
    // Keys that differ in one character, or only in where the separator falls, are different keys.
    expect(set.addOrGet('us-east-1_P0 https://api.example.com/00', 7)).toBe(0);
    expect(set.addOrGet('us-east-1_P0 https://api.example.com/0', 7)).toBe(1);
    expect(set.addOrGet('us-east-1_P0https://api.example.com/ 0', 7)).toBe(0);
  });

  it('refuses a value it could not tell from an empty slot', () => {
    const set = new DigestSet();
    expect(() => set.addOrGet('a', 0)).toThrow(RangeError);
    expect(() => set.addOrGet('a', 2 ** 32)).toThrow(RangeError);
    expect(set.addOrGet('a', 2 ** 32 - 1)).toBe(0);
    expect(set.addOrGet('a', 1)).toBe(2 ** 32 - 1);
  });
});
