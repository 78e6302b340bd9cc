import { afterEach, describe, expect, it } from 'vitest';
import {
  COGNITO_REGIONS,
  describeCharacter,
  EXTRA_REGIONS_VARIABLE,
  regionOfUserPoolId,
  validateCognitoRegion,
  validateIdentifier,
  validateRegionName,
  validateUserPoolId,
} from '../../common/cognito-rules';

afterEach(() => {
  delete process.env[EXTRA_REGIONS_VARIABLE];
});

describe('validateUserPoolId', () => {
  it.each(['us-east-1_AbC123', 'eu-central-1_x', 'us-gov-west-1_Z9', 'ap-southeast-2_abc_DEF1'])('accepts %s', (id) => {
    expect(validateUserPoolId(id)).toBeUndefined();
  });

  it('accepts exactly 55 characters and rejects 56 with the length in the reason', () => {
    const max = `us-east-1_${'a'.repeat(45)}`;
    expect(max).toHaveLength(55);
    expect(validateUserPoolId(max)).toBeUndefined();
    expect(validateUserPoolId(`${max}b`)).toBe('is 56 characters long; Cognito allows at most 55');
  });

  it('rejects an empty value', () => {
    expect(validateUserPoolId('')).toBe('is empty');
  });

  it('names a space and its position', () => {
    expect(validateUserPoolId('us-east-1_ab c')).toBe('contains a space at position 13, which Cognito does not allow');
  });

  it('points out stray whitespace at either end', () => {
    expect(validateUserPoolId(' us-east-1_abc')).toMatch(/^contains a space at position 1, .*stray whitespace/);
    expect(validateUserPoolId('us-east-1_abc\t')).toMatch(/^contains a tab at position 14, .*stray whitespace/);
  });

  it('names non-ASCII look-alikes with their code point', () => {
    expect(validateUserPoolId('us-east-1_abç')).toContain("the non-ASCII character 'ç' (U+00E7) at position 13");
    expect(validateUserPoolId('us-east-1\u00A0_abc')).toContain('a no-break space (U+00A0) at position 10');
  });

  it('requires the underscore between Region and pool ID', () => {
    expect(validateUserPoolId('useast1AbC123')).toMatch(/^has no '_' between the Region and the pool's own ID/);
  });

  it('requires something after the last underscore', () => {
    expect(validateUserPoolId('us-east-1_')).toMatch(/^ends with '_'/);
  });

  it('allows only letters and digits after the last underscore', () => {
    expect(validateUserPoolId('us-east-1_ab-c')).toBe(
      "has '-' in 'ab-c', the part after the last '_', which may only hold letters and digits",
    );
  });

  it('rejects a prefix that is not an AWS Region', () => {
    expect(validateUserPoolId('foo_AbC123')).toBe(
      "its Region prefix 'foo' is not an AWS Region name (expected a name like us-east-1)",
    );
    expect(validateUserPoolId('US-EAST-1_AbC123')).toContain("Region prefix 'US-EAST-1' is not an AWS Region name");
    expect(validateUserPoolId('us-east_AbC123')).toContain("Region prefix 'us-east' is not");
  });
});

describe('the Region of a user pool ID', () => {
  it.each(['us-east-9_AbC123', 'eu-west-7_x', 'us-gov-north-1_Z9', 'ap-southeast-99_abc'])('rejects %s: a well-formed name where Cognito has no user pools', (id) => {
    const region = id.slice(0, id.indexOf('_'));
    expect(validateUserPoolId(id)).toBe(
      `its Region prefix '${region}' is not a Region where Cognito user pools exist (a typo?); if it is a new Region, set RS_CLEANUP_EXTRA_REGIONS=${region}`,
    );
    expect(() => regionOfUserPoolId(id)).toThrow(`its Region prefix '${region}' is not a Region where Cognito user pools exist`);
  });

  it('accepts every Region of the list', () => {
    expect(COGNITO_REGIONS).toHaveLength(35);
    expect(new Set(COGNITO_REGIONS).size).toBe(COGNITO_REGIONS.length);
    for (const region of COGNITO_REGIONS) {
      expect(validateRegionName(region), region).toBeUndefined();
      expect(validateUserPoolId(`${region}_AbC123`), region).toBeUndefined();
    }
  });

  it('accepts Regions added with RS_CLEANUP_EXTRA_REGIONS, read at each call, and ignores entries that are not Region names', () => {
    expect(validateCognitoRegion('us-east-9')).toContain('is not a Region where Cognito user pools exist');
    process.env[EXTRA_REGIONS_VARIABLE] = ' us-east-9 , not a region,eu-west-7';
    expect(validateCognitoRegion('us-east-9')).toBeUndefined();
    expect(validateUserPoolId('eu-west-7_AbC123')).toBeUndefined();
    expect(regionOfUserPoolId('us-east-9_AbC123')).toBe('us-east-9');
    expect(validateCognitoRegion('not a region')).toContain('is not an AWS Region name');
    delete process.env[EXTRA_REGIONS_VARIABLE];
    expect(validateCognitoRegion('us-east-9')).toContain('is not a Region where Cognito user pools exist');
  });
});

describe('validateIdentifier', () => {
  it.each(['https://api.example.com/v1?x=1&y=2#frag', 'urn:example:a,b;c', '!', 'a~[]{}|^`\'$%'])('accepts %s', (identifier) => {
    expect(validateIdentifier(identifier)).toBeUndefined();
  });

  it('accepts 256 characters and rejects longer ones with the length in the reason', () => {
    expect(validateIdentifier('a'.repeat(256))).toBeUndefined();
    expect(validateIdentifier('a'.repeat(257))).toBe('is 257 characters long; Cognito allows at most 256');
    expect(validateIdentifier('a'.repeat(300))).toBe('is 300 characters long; Cognito allows at most 256');
  });

  it('rejects an empty value', () => {
    expect(validateIdentifier('')).toBe('is empty');
  });

  it('names a space and its 1-based position', () => {
    expect(validateIdentifier('abcdef ghi')).toBe('contains a space at position 7, which Cognito does not allow');
  });

  it('rejects a double quote and a backslash by name', () => {
    expect(validateIdentifier('say"hi')).toBe('contains \'"\' at position 4, which Cognito does not allow');
    expect(validateIdentifier('a\\b')).toBe("contains '\\' at position 2, which Cognito does not allow");
  });

  it('names control characters, including a stray carriage return from a Windows file', () => {
    expect(validateIdentifier('abc\r')).toContain('a carriage return at position 4');
    expect(validateIdentifier('a\u007fb')).toContain('a control character (U+007F) at position 2');
    expect(validateIdentifier('a\u0001b')).toContain('a control character (U+0001) at position 2');
  });

  it('counts positions in characters, not UTF-16 units', () => {
    expect(validateIdentifier('\u{1F600}x y')).toContain('at position 1');
    expect(validateIdentifier('ab\u{1F600}')).toContain("non-ASCII character '\u{1F600}' (U+1F600) at position 3");
  });

  it('agrees with Cognito\'s pattern on every ASCII character', () => {
    const pattern = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
    for (let code = 0; code < 128; code++) {
      const value = `a${String.fromCharCode(code)}b`;
      expect(validateIdentifier(value) === undefined, `character ${code}`).toBe(pattern.test(value));
    }
  });
});

describe('regionOfUserPoolId', () => {
  it('returns the part before the first underscore', () => {
    expect(regionOfUserPoolId('us-east-1_AbC123')).toBe('us-east-1');
    expect(regionOfUserPoolId('us-gov-west-1_a_b')).toBe('us-gov-west-1');
  });

  it('throws a clear error when there is no Region prefix', () => {
    expect(() => regionOfUserPoolId('AbC123')).toThrow("user pool ID 'AbC123' has no '_'");
    expect(() => regionOfUserPoolId('foo_AbC123')).toThrow("its Region prefix 'foo' is not an AWS Region name");
  });
});

describe('validateRegionName', () => {
  it('accepts Region names and rejects other strings', () => {
    for (const region of ['us-east-1', 'eu-central-2', 'ap-southeast-4', 'us-gov-west-1', 'cn-northwest-1']) {
      expect(validateRegionName(region), region).toBeUndefined();
    }
    for (const notRegion of ['', 'us-east', 'useast1', 'us_east_1', 'US-EAST-1', 'local']) {
      expect(validateRegionName(notRegion), notRegion).toBe(`'${notRegion}' is not an AWS Region name (expected a name like us-east-1)`);
    }
  });
});

describe('describeCharacter', () => {
  it('names invisible characters and quotes visible ones', () => {
    expect(describeCharacter(' ')).toBe('a space');
    expect(describeCharacter('\u200B')).toBe('a zero-width space (U+200B)');
    expect(describeCharacter('\uFEFF')).toBe('a byte order mark (U+FEFF)');
    expect(describeCharacter('"')).toBe('\'"\'');
  });
});
