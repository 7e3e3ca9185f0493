// Tests for ConfigMap, Secret and Namespace validation on create and update.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../defaults/registry.ts';
import { errorString } from '../field_errors.ts';
import { validateObject, validateObjectUpdate } from './registry.ts';

type J = Record<string, unknown>;

function defaulted(kind: string, obj: J): J {
  const copy = structuredClone(obj);
  applyDefaults('', 'v1', kind, copy);
  return copy;
}

const create = (kind: string, obj: J): string[] => validateObject('', kind, defaulted(kind, obj)).map(errorString);
const update = (kind: string, obj: J, old: J): string[] => validateObjectUpdate('', kind, defaulted(kind, obj), defaulted(kind, old)).map(errorString);
const meta = { name: 'app', namespace: 'default' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

describe('ConfigMap', () => {
  test('a textbook config map is valid', () => {
    assert.deepEqual(create('ConfigMap', { metadata: meta, data: { 'app.properties': 'a=b', LOG_LEVEL: 'debug' }, binaryData: { 'logo.png': b64('png') } }), []);
  });

  test('keys must be config keys; the path subscript is unquoted', () => {
    assert.deepEqual(create('ConfigMap', { metadata: meta, data: { 'a b': 'x' } }), [`data[a b]: Invalid value: "a b": ${CONFIG_KEY_MSG}`]);
    assert.deepEqual(create('ConfigMap', { metadata: meta, data: { '..x': 'y' } }), ['data[..x]: Invalid value: "..x": must not start with \'..\'']);
  });

  test('a key may not be in both data and binaryData', () => {
    assert.deepEqual(create('ConfigMap', { metadata: meta, data: { k: 'x' }, binaryData: { k: b64('y') } }),
      ['data[k]: Invalid value: "k": duplicate of key present in binaryData']);
  });

  test('the total size is capped at 1 MiB (upstream names the whole object with the path "[]")', () => {
    assert.deepEqual(create('ConfigMap', { metadata: meta, data: { big: 'x'.repeat(1024 * 1024 + 1) } }), ['[]: Too long: may not be more than 1048576 bytes']);
  });

  test('an immutable config map keeps its data', () => {
    const old = { metadata: meta, immutable: true, data: { a: '1' } };
    assert.deepEqual(update('ConfigMap', { metadata: meta, immutable: true, data: { a: '2' } }, old), ['data: Forbidden: field is immutable when `immutable` is set']);
    assert.deepEqual(update('ConfigMap', { metadata: meta, data: { a: '1' } }, old), ['immutable: Forbidden: field is immutable when `immutable` is set']);
    assert.deepEqual(update('ConfigMap', { metadata: meta, data: { a: '2' } }, { metadata: meta, data: { a: '1' } }), []);
  });
});

describe('Secret', () => {
  test('textbook secrets are valid', () => {
    assert.deepEqual(create('Secret', { metadata: meta, stringData: { password: 's3cr3t' } }), []);
    assert.deepEqual(create('Secret', { metadata: meta, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c'), 'tls.key': b64('k') } }), []);
    assert.deepEqual(create('Secret', { metadata: meta, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths":{}}') } }), []);
  });

  const cases: Array<[string, J, string[]]> = [
    ['a bad key', { metadata: meta, data: { 'my key': b64('x') } }, [`data[my key]: Invalid value: "my key": ${CONFIG_KEY_MSG}`]],
    ['a TLS secret without key', { metadata: meta, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } }, ['data[tls.key]: Required value']],
    ['a basic-auth secret without fields', { metadata: meta, type: 'kubernetes.io/basic-auth', data: {} }, ['data[username]: Required value', 'data[password]: Required value']],
    ['a service account token without the annotation', { metadata: meta, type: 'kubernetes.io/service-account-token' },
      ['metadata.annotations[kubernetes.io/service-account.name]: Required value']],
    ['a docker config that is not JSON', { metadata: meta, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('nope') } },
      ['data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character \'o\' in literal null (expecting \'u\')']],
    ['a docker config that is an array', { metadata: meta, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('[]') } },
      ['data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}']],
    ['data over 1 MiB', { metadata: meta, data: { big: b64('x'.repeat(1024 * 1024 + 1)) } }, ['data: Too long: may not be more than 1048576 bytes']],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(create('Secret', obj), want));

  test('the type is immutable', () => {
    assert.deepEqual(update('Secret', { metadata: meta, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c'), 'tls.key': b64('k') } }, { metadata: meta, data: {} }),
      ['type: Invalid value: "kubernetes.io/tls": field is immutable']);
  });
});

describe('Namespace', () => {
  test('a namespace with the kubernetes finalizer is valid', () => {
    assert.deepEqual(create('Namespace', { metadata: { name: 'team-a' }, spec: { finalizers: ['kubernetes'] } }), []);
  });

  test('spec finalizers must be standard or qualified (reported on the list)', () => {
    assert.deepEqual(create('Namespace', { metadata: { name: 'team-a' }, spec: { finalizers: ['kubernetes', 'cleanup'] } }),
      ['spec.finalizers: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified']);
  });

  test('updates check metadata finalizers only', () => {
    assert.deepEqual(update('Namespace', { metadata: { name: 'team-a', finalizers: ['example.com/x'] } }, { metadata: { name: 'team-a' } }), []);
  });
});
