// Request-target parsing as Go's net/http does it: decoded, never normalised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestURI, pathSegmentNameErrors } from './request_uri.ts';

test('dot segments stay where they are, encoded or not', () => {
  assert.equal(parseRequestURI('/api/v1/namespaces/default/pods/../secrets')?.path, '/api/v1/namespaces/default/pods/../secrets');
  assert.equal(parseRequestURI('/api/v1/namespaces/default/pods/%2e%2e/secrets')?.path, '/api/v1/namespaces/default/pods/../secrets');
  assert.equal(parseRequestURI('/api/v1/namespaces/default/configmaps/.')?.path, '/api/v1/namespaces/default/configmaps/.');
});

test('escapes are decoded, %2F included, and the query is kept apart', () => {
  const u = parseRequestURI('/api/v1/namespaces/default/configmaps/a%2Fb?labelSelector=a%3Db&watch=1')!;
  assert.equal(u.path, '/api/v1/namespaces/default/configmaps/a/b');
  assert.equal(u.query.get('labelSelector'), 'a=b');
  assert.equal(u.query.get('watch'), '1');
  assert.equal(parseRequestURI('/x/a%25b')?.path, '/x/a%b');
  assert.equal(parseRequestURI('/x/%C3%A9')?.path, '/x/é');
  assert.equal(parseRequestURI('/x\\y')?.path, '/x\\y');
});

test('malformed targets are refused', () => {
  assert.equal(parseRequestURI('/x/%zz'), undefined);
  assert.equal(parseRequestURI('/x/%4'), undefined);
  assert.equal(parseRequestURI('relative/path'), undefined);
});

test('absolute-form targets keep only their path', () => {
  assert.equal(parseRequestURI('https://example.com:6443/api/v1?x=1')?.path, '/api/v1');
  assert.equal(parseRequestURI('https://example.com')?.path, '/');
  assert.equal(parseRequestURI('*')?.path, '*');
});

test('names that cannot be one path segment are named as upstream names them', () => {
  assert.deepEqual(pathSegmentNameErrors('..'), ["may not be '..'"]);
  assert.deepEqual(pathSegmentNameErrors('.'), ["may not be '.'"]);
  assert.deepEqual(pathSegmentNameErrors('a/%b'), ["may not contain '/'", "may not contain '%'"]);
  assert.deepEqual(pathSegmentNameErrors('a..b'), []);
});
