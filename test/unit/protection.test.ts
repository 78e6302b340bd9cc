import { describe, expect, it } from 'vitest';
import { compileProtection, parseProtectionPatterns, protectionFor } from '../../common/protection';
import { identifierOfScope } from '../../activities/check-dependencies';

describe('protection patterns', () => {
  const rules = compileProtection(
    parseProtectionPatterns('# prod\nus-east-1_Prod*\n\n*,https://api.example.com/core/*; eu-west-1_Ab?,billing'),
  );
  const item = (userPoolId: string, identifier: string) => ({ userPoolId, identifier });

  it('protects whole pools, identifiers in any pool, and exact pairs, with * and ?', () => {
    expect(protectionFor(rules, item('us-east-1_Prod42', 'anything'))).toBe('us-east-1_Prod*');
    expect(protectionFor(rules, item('us-east-1_Dev1', 'https://api.example.com/core/auth'))).toBe('*,https://api.example.com/core/*');
    expect(protectionFor(rules, item('eu-west-1_Abc', 'billing'))).toBe('eu-west-1_Ab?,billing');
    expect(protectionFor(rules, item('eu-west-1_Abcd', 'billing'))).toBeUndefined();
    expect(protectionFor(rules, item('eu-west-1_Abc', 'billing-v2'))).toBeUndefined();
    expect(protectionFor(rules, item('us-east-1_Dev1', 'https://api.example.com/tenant/1'))).toBeUndefined();
  });

  it('treats regular-expression characters literally', () => {
    const [rule] = compileProtection(['us-east-1_A1,https://x.example.com/a+b(1)']);
    expect(protectionFor([rule!], item('us-east-1_A1', 'https://x.example.com/a+b(1)'))).toBeDefined();
    expect(protectionFor([rule!], item('us-east-1_A1', 'https://xxexample.com/aab1'))).toBeUndefined();
  });

  it('refuses patterns with an empty part', () => {
    expect(() => compileProtection(['us-east-1_A1,'])).toThrow(/empty part/);
    expect(() => compileProtection([',x'])).toThrow(/empty part/);
  });
});

describe('identifierOfScope', () => {
  it('splits a full scope at its last slash (identifiers may hold slashes, scope names may not)', () => {
    expect(identifierOfScope('https://api.example.com/tenant-1/read')).toBe('https://api.example.com/tenant-1');
    expect(identifierOfScope('orders/write')).toBe('orders');
    expect(identifierOfScope('openid')).toBeUndefined();
  });
});
