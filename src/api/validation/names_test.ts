// Tests for the string-format validators, with upstream's good/bad tables (util/validation tests)
// and exact message checks.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorBody, newPath } from '../field_errors.ts';
import {
  isCIdentifier,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDomainPrefixedPath,
  isEnvVarName,
  isFullyQualifiedDomainName,
  isFullyQualifiedName,
  isHTTPHeaderName,
  isInRange,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidCIDR,
  isValidGroupID,
  isValidIP,
  isValidIPv4Address,
  isValidIPv6Address,
  isValidLabelValue,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isValidUserID,
  isWildcardDNS1123Subdomain,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  parseIPSloppy,
  validatePathSegmentName,
} from './names.ts';

const r = (c: string, n: number) => c.repeat(n);

function table(name: string, fn: (v: string) => string[], good: string[], bad: string[]): void {
  describe(name, () => {
    for (const v of good) test(`accepts ${JSON.stringify(v.length > 40 ? v.slice(0, 20) + '…' + v.length : v)}`, () => assert.deepEqual(fn(v), []));
    for (const v of bad) test(`rejects ${JSON.stringify(v.length > 40 ? v.slice(0, 20) + '…' + v.length : v)}`, () => assert.notDeepEqual(fn(v), []));
  });
}

table(
  'isDNS1123Label',
  isDNS1123Label,
  ['a', 'ab', 'abc', 'a1', 'a-1', 'a--1--2--b', '0', '01', '012', '1a', '1-a', '1--a--b--2', r('a', 63)],
  ['', 'A', 'ABC', 'aBc', 'A1', 'A-1', '1-A', '-', 'a-', '-a', '1-', '-1', '_', 'a_', '_a', 'a_b', '1_', '_1', '1_2', '.', 'a.', '.a', 'a.b', '1.', '.1', '1.2', ' ', 'a ', ' a', 'a b', '1 ', ' 1', '1 2', r('a', 64)],
);

table(
  'isDNS1123Subdomain',
  isDNS1123Subdomain,
  ['a', 'ab', 'abc', 'a1', 'a-1', 'a--1--2--b', '0', '01', '012', '1a', '1-a', '1--a--b--2', 'a.a', 'ab.a', 'abc.a', 'a1.a', 'a-1.a', 'a--1--2--b.a', 'a.1', 'ab.1', 'abc.1', 'a1.1', 'a-1.1', 'a--1--2--b.1', '0.a', '01.a', '012.a', '1a.a', '1-a.a', '0.1', '01.1', '012.1', '1a.1', '1-a.1', '1--a--b--2.1', 'a.b.c.d.e', 'aa.bb.cc.dd.ee', '1.2.3.4.5', '11.22.33.44.55', r('a', 253)],
  ['', 'A', 'ABC', 'aBc', 'A1', 'A-1', '1-A', '-', 'a-', '-a', '1-', '-1', '_', 'a_', '_a', 'a_b', '1_', '_1', '1_2', '.', 'a.', '.a', 'a..b', '1.', '.1', '1..2', ' ', 'a ', ' a', 'a b', '1 ', ' 1', '1 2', 'A.a', 'aB.a', 'ab.A', 'A1.a', 'a1.A', 'A.1', 'aB.1', 'A1.1', '1A.1', '0.A', '01.A', '012.A', '1A.a', '1a.A', 'A.B.C.D.E', 'AA.BB.CC.DD.EE', 'a.B.c.d.e', 'aa.bB.cc.dd.ee', 'a@b', 'a,b', 'a_b', 'a;b', 'a:b', 'a%b', 'a?b', 'a$b', r('a', 254)],
);

table(
  'isDNS1035Label',
  isDNS1035Label,
  ['a', 'ab', 'abc', 'a1', 'a-1', 'a--1--2--b', r('a', 63)],
  ['0', '01', '012', '1a', '1-a', '1--a--b--2', '', 'A', 'ABC', 'aBc', 'A1', 'A-1', '1-A', '-', 'a-', '-a', '1-', '-1', '_', 'a_', '_a', 'a_b', '1_', '_1', '1_2', '.', 'a.', '.a', 'a.b', '1.', '.1', '1.2', ' ', 'a ', ' a', 'a b', '1 ', ' 1', '1 2', r('a', 64)],
);

table(
  'isCIdentifier',
  isCIdentifier,
  ['a', 'ab', 'abc', 'a1', '_a', 'a_', 'a_b', 'a_1', 'a__1__2__b', '__abc_123', 'A', 'AB', 'AbC', 'A1', '_A', 'A_', 'A_B', 'A_1', 'A__1__2__B', '__123_ABC'],
  ['', '1', '123', '1a', '-', 'a-', '-a', '1-', '-1', '1_', '1_2', '.', 'a.', '.a', 'a.b', '1.', '.1', '1.2', ' ', 'a ', ' a', 'a b', '1 ', ' 1', '1 2', '#a#'],
);

table(
  'isValidPortName',
  isValidPortName,
  ['telnet', 're-mail-ck', 'pop3', 'a', 'a-1', '1-a', 'a-1-b-2-c', '1-a-2-b-3'],
  ['longerthan15characters', '', r('a', 16), '12345', '1-2-3-4', '-begin', 'end-', 'two--hyphens', 'whois++'],
);

table(
  'isQualifiedName',
  isQualifiedName,
  ['simple', 'now-with-dashes', '1-starts-with-num', '1234', 'simple/simple', 'now-with-dashes/simple', 'now-with-dashes/now-with-dashes', 'now.with.dots/simple', 'now-with.dashes-and.dots/simple', '1-num.2-num/3-num', '1234/5678', '1.2.3.4/5678', 'Uppercase_Is_OK_123', 'example.com/Uppercase_Is_OK_123', 'requests.storage-foo', r('a', 63), r('a', 253) + '/' + r('b', 63)],
  ['nospecialchars%^=@', 'cantendwithadash-', '-cantstartwithadash-', 'only/one/slash', 'Example.com/abc', 'example_com/abc', 'example.com/', '/simple', r('a', 64), r('a', 254) + '/abc'],
);

table(
  'isValidLabelValue',
  isValidLabelValue,
  ['simple', 'now-with-dashes', '1-starts-with-num', 'end-with-num-1', '1234', r('a', 63), ''],
  ['nospecialchars%^=@', 'Tama-nui-te-rā.is.Māori.sun', '\\backslashes\\are\\bad', '-starts-with-dash', 'ends-with-dash-', '.starts.with.dot', 'ends.with.dot.', r('a', 64)],
);

table('isWildcardDNS1123Subdomain', isWildcardDNS1123Subdomain, ['*.example.com', '*.bar.com', '*.foo.bar.com'], ['*.*.bar.com', '*.foo.*.com', '*bar.com', 'f*.bar.com', '*']);
table('isHTTPHeaderName', isHTTPHeaderName, ['X-Header-Name', 'abc', 'a-1'], ['', 'a b', 'a_b', 'a:b']);
table('isValidPercent', isValidPercent, ['0%', '1%', '100%', '93%'], ['', '0', '%', 'a%', '1.5%', '-1%']);
table('isConfigMapKey', isConfigMapKey, ['a', 'key.name', 'KEY_NAME', 'key-name', '.dotfile', r('a', 253)], ['', 'a b', 'a/b', '.', '..', '..a', r('a', 254)]);
table('isEnvVarName', isEnvVarName, ['A', 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1', '_x'], ['', '1A', 'A B', '..', '..x', 'a=b']);
table('isRelaxedEnvVarName', isRelaxedEnvVarName, ['A', '1A', 'A B', 'a.b', '..'], ['', 'a=b', 'é', '\t']);

describe('numeric ranges', () => {
  test('ports', () => {
    for (const p of [1, 2, 1000, 16384, 32768, 65535]) assert.deepEqual(isValidPortNum(p), []);
    for (const p of [0, -1, 65536, 100000]) assert.deepEqual(isValidPortNum(p), ['must be between 1 and 65535, inclusive']);
  });
  test('ranges', () => {
    assert.deepEqual(isInRange(1, 0, 10), []);
    assert.deepEqual(isInRange(25, 10, 25), []);
    assert.deepEqual(isInRange(5, -4, 2), ['must be between -4 and 2, inclusive']);
  });
  test('user and group IDs', () => {
    for (const id of [0, 1, 1000, 65535, 2147483647]) {
      assert.deepEqual(isValidGroupID(id), []);
      assert.deepEqual(isValidUserID(id), []);
    }
    for (const id of [-1, -1003, 2147483648, 4147483647]) {
      assert.deepEqual(isValidGroupID(id), ['must be between 0 and 2147483647, inclusive']);
      assert.deepEqual(isValidUserID(id), ['must be between 0 and 2147483647, inclusive']);
    }
  });
});

// Upstream's regexError joins examples as "'a',  or 'b', " (comma, two spaces): kept verbatim.
describe('exact messages', () => {
  test('DNS-1123 subdomain', () => {
    assert.deepEqual(isDNS1123Subdomain('Foo'), [
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    assert.deepEqual(isDNS1123Subdomain(r('a', 254)), ['must be no more than 253 characters']);
  });
  test('DNS-1123 label, including the dots special case', () => {
    assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
    assert.deepEqual(isDNS1123Label('A'), [
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });
  test('DNS-1035 label', () => {
    assert.deepEqual(isDNS1035Label('1a'), [
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });
  test('qualified names', () => {
    assert.deepEqual(isQualifiedName('a/b/c'), [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]);
    assert.deepEqual(isQualifiedName('/x'), ['prefix part must be non-empty']);
    assert.deepEqual(isQualifiedName('x/'), [
      'name part must be non-empty',
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    assert.deepEqual(isQualifiedName(r('a', 64)), ['name part must be no more than 63 characters']);
    assert.equal(isQualifiedName('Example.com/abc')[0]?.startsWith('prefix part a lowercase RFC 1123 subdomain'), true);
  });
  test('label values', () => {
    assert.deepEqual(isValidLabelValue('-x'), [
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]);
    assert.deepEqual(isValidLabelValue(r('a', 64)), ['must be no more than 63 characters']);
  });
  test('port names list every broken rule', () => {
    assert.deepEqual(isValidPortName('-1--'), [
      'must contain at least one letter (a-z)',
      'must not contain consecutive hyphens',
      'must not begin or end with a hyphen',
    ]);
  });
});

describe('IP and CIDR', () => {
  const goodIPs = ['1.2.3.4', '0.0.0.0', '255.255.255.255', '1234::abcd', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '0:0:0:0:0:0:0:0', '0001:002:03:4::', '1234::ABCD', '1.1.1.01', '::ffff:1.1.1.1'];
  const badIPs = ['', 'aaaaaaa', 'myhost.mydomain', '1.2.3.0/24', '1.2.3.400', '-1.0.0.0', '2001:db8::10005', '1.2.3.4:80', '[2001:db8::1]', '[2001:db8::1]:80', 'example.com:80', '1234::abcd%eth0', '169.254.0.0%eth0', '1:2:3:4:5:6:7:8:9', '1::2::3', '1.2.3'];
  for (const ip of goodIPs) test(`valid IP ${ip}`, () => assert.deepEqual(isValidIP(newPath('ip'), ip), []));
  for (const ip of badIPs) {
    test(`invalid IP ${JSON.stringify(ip)}`, () => {
      const errs = isValidIP(newPath('ip'), ip);
      assert.equal(errs.length, 1);
      assert.equal(errorBody(errs[0]!), `Invalid value: ${JSON.stringify(ip)}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`);
    });
  }
  test('IPv4-mapped addresses count as IPv4', () => {
    assert.deepEqual(isValidIPv4Address(newPath('x'), '::ffff:1.1.1.1'), []);
    assert.equal(isValidIPv6Address(newPath('x'), '::ffff:1.1.1.1').length, 1);
    assert.deepEqual(isValidIPv6Address(newPath('x'), '2001:db8::1'), []);
    assert.equal(errorBody(isValidIPv4Address(newPath('x'), '::1')[0]!), 'Invalid value: "::1": must be a valid IPv4 address');
  });
  test('parses bytes like Go', () => {
    assert.deepEqual([...parseIPSloppy('::ffff:1.2.3.4')!.bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
    assert.deepEqual([...parseIPSloppy('1::2')!.bytes], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    assert.deepEqual([...parseIPSloppy('010.1.1.1')!.bytes], [10, 1, 1, 1]);
  });
  const goodCIDRs = ['1.0.0.0/8', '0.0.0.0/0', '1.1.1.1/32', '2001:4860:4860::/48', '::/0', '::1/128', '2a00:79e0:2:0::/64', '2001:DB8::/64', '1.1.01.0/24', '::ffff:1.1.1.0/24', '::ffff:1.1.1.0/120', '1.2.3.4/24', '2001:db8::1/64', '192.168.0.0/016'];
  const badCIDRs = ['', 'aaaaaaa', '1.2.3.4', '192.168.0.1/healthz', '192.168.0.1/0/99', '192.168.0.0/-16', '192.168.0.0/+16', '1.2.3.4/33', '::/129'];
  for (const c of goodCIDRs) test(`valid CIDR ${c}`, () => assert.deepEqual(isValidCIDR(newPath('c'), c), []));
  for (const c of badCIDRs) {
    test(`invalid CIDR ${JSON.stringify(c)}`, () => {
      const errs = isValidCIDR(newPath('c'), c);
      assert.equal(errorBody(errs[0]!), `Invalid value: ${JSON.stringify(c)}: must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`);
    });
  }
});

describe('domain names and paths', () => {
  const p = newPath('');
  for (const v of ['a.com', 'k8s.io', 'dev.k8s.io', 'dev.k8s.io.', 'foo.example.com', 'this.is.a.really.long.fqdn', 'bbc.co.uk', '10.0.0.1', 'hyphens-are-good.k8s.io', r('a', 63) + '.k8s.io']) {
    test(`FQDN ok: ${v.slice(0, 30)}`, () => assert.deepEqual(isFullyQualifiedDomainName(p, v), []));
  }
  for (const v of ['.', '...', '.io', 'com', '.com', 'Dev.k8s.io', '.foo.example.com', '*.example.com', 'underscores_are_bad.k8s.io', 'foo@bar.example.com', 'http://foo.example.com', r('a', 64) + '.k8s.io']) {
    test(`FQDN bad: ${v.slice(0, 30)}`, () => assert.notDeepEqual(isFullyQualifiedDomainName(p, v), []));
  }
  test('fully qualified name messages', () => {
    assert.equal(errorBody(isFullyQualifiedName(p, 'k8s.io')[0]!), 'Invalid value: "k8s.io": should be a domain with at least three segments separated by dots');
    assert.equal(errorBody(isFullyQualifiedName(p, '')[0]!), 'Required value');
    assert.deepEqual(isFullyQualifiedName(p, 'dev.k8s.io'), []);
    assert.notDeepEqual(isFullyQualifiedName(p, 'dev.k8s.io.'), []);
  });
  test('domain-prefixed paths', () => {
    for (const v of ['a/b', 'a/b/c/d', 'a.com/foo', 'a.b.c.d/foo', 'k8s.io/foo/bar', 'a/b.markdown', 'a/b-c_d.e~f%g']) assert.deepEqual(isDomainPrefixedPath(p, v), []);
    for (const v of ['.', 'a', 'a/', '/b', 'A/b', 'a/b c', 'a/b#c']) assert.notDeepEqual(isDomainPrefixedPath(p, v), []);
    assert.equal(errorBody(isDomainPrefixedPath(p, 'ab')[0]!), 'Invalid value: "ab": must be a domain-prefixed path (such as "acme.io/foo")');
  });
});

describe('name functions', () => {
  test('generateName may end with a dash (upstream masks the last two characters)', () => {
    assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
    assert.notDeepEqual(nameIsDNSSubdomain('web-', false), []);
    assert.deepEqual(nameIsDNSLabel('x-', true), []);
    // "-" alone is not masked (length 1).
    assert.notDeepEqual(nameIsDNSLabel('-', true), []);
  });
  test('path segment names', () => {
    assert.deepEqual(validatePathSegmentName('..', false), ["may not be '..'"]);
    assert.deepEqual(validatePathSegmentName('..', true), []);
    assert.deepEqual(validatePathSegmentName('a/b%c', false), ["may not contain '/'", "may not contain '%'"]);
    assert.deepEqual(validatePathSegmentName('system:admin', false), []);
  });
});
