// Unit tests of the static token file: Go-compatible CSV parsing, the token table and its errors,
// and authentication of listed tokens.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv, parseTokenFile, StaticTokenAuthenticator } from './token_file.ts';
import { UnionTokenAuthenticator, audienceAgnostic, withAuthenticatedGroup, aggregateErrors } from './authenticator.ts';

describe('parseCsv', () => {
  test('reads quoted fields with commas, escaped quotes and CRLF, skipping empty lines', () => {
    assert.deepEqual(parseCsv('a,b,c,"g1,g2"\r\n\n"x""y",z,\n'), [['a', 'b', 'c', 'g1,g2'], ['x"y', 'z', '']]);
  });

  test('refuses a bare quote in an unquoted field', () => {
    assert.throws(() => parseCsv('ab"c,d,e\n'), /bare " in non-quoted-field/);
  });
});

describe('parseTokenFile', () => {
  test('maps tokens to users with uid and groups; the last duplicate wins, empty tokens are skipped', () => {
    const t = parseTokenFile('t1,alice,1,"devs,ops"\n,nobody,2\nt2,bob,3\nt2,carol,4\n', 'tokens.csv');
    assert.deepEqual(t.get('t1'), { name: 'alice', uid: '1', groups: ['devs', 'ops'] });
    assert.deepEqual(t.get('t2'), { name: 'carol', uid: '4', groups: [] });
    assert.equal(t.size, 2);
  });

  test('a line with fewer than three columns is an error naming the file', () => {
    assert.throws(() => parseTokenFile('t1,alice\n', 'tokens.csv'), /token file 'tokens\.csv' must have at least 3 columns \(token, user name, user uid\), found 2/);
  });
});

describe('StaticTokenAuthenticator', () => {
  const auth = new StaticTokenAuthenticator(parseTokenFile('secret-1,alice,1,devs\n', 'f'));

  test('recognizes listed tokens only', () => {
    const r = auth.authenticateToken('secret-1');
    assert.equal(r.kind, 'authenticated');
    assert.equal(r.kind === 'authenticated' && r.user.name, 'alice');
    assert.equal(auth.authenticateToken('secret-2').kind, 'unrecognized');
    assert.equal(auth.authenticateToken('secret-').kind, 'unrecognized');
  });

  test('audience-agnostic tokens answer only for the API audiences and report them', async () => {
    const wrapped = audienceAgnostic(['https://api'], auth);
    const ok = await wrapped.authenticateToken('secret-1', ['https://api', 'other']);
    assert.deepEqual(ok.kind === 'authenticated' && ok.audiences, ['https://api']);
    assert.equal((await wrapped.authenticateToken('secret-1', ['vault'])).kind, 'unrecognized');
  });
});

describe('the union and the group adder', () => {
  test('the first success wins; errors are aggregated when nothing succeeds', async () => {
    const reject = (error: string) => ({ authenticateToken: () => ({ kind: 'rejected' as const, error }) });
    const union = new UnionTokenAuthenticator([reject('a'), reject('b')]);
    assert.deepEqual(await union.authenticateToken('x', []), { kind: 'rejected', error: '[a, b]' });
    const withUser = new UnionTokenAuthenticator([reject('a'), { authenticateToken: () => ({ kind: 'authenticated', user: { name: 'u', groups: [] }, audiences: [] }) }]);
    assert.equal((await withUser.authenticateToken('x', [])).kind, 'authenticated');
    assert.equal(aggregateErrors(['one', 'one']), 'one');
  });

  test('system:authenticated is added once', () => {
    assert.deepEqual(withAuthenticatedGroup({ name: 'u', groups: ['g'] }).groups, ['g', 'system:authenticated']);
    assert.deepEqual(withAuthenticatedGroup({ name: 'u', groups: ['system:authenticated'] }).groups, ['system:authenticated']);
  });
});
