// Tests for ObjectMeta validation on create and update, with cases from upstream's objectmeta_test.go
// and exact messages.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateMessage, errorString, newPath } from '../field_errors.ts';
import { nameIsDNS1035Label, nameIsDNSSubdomain, validatePathSegmentName } from './names.ts';
import {
  TotalAnnotationSizeLimitB,
  goTimeString,
  validateAnnotations,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type ObjectMetaLike,
} from './object_meta.ts';

const strs = (errs: ReturnType<typeof validateObjectMeta>) => errs.map(errorString);
const namespaced = { requiresNamespace: true, nameFn: nameIsDNSSubdomain };
const cluster = { requiresNamespace: false, nameFn: nameIsDNSSubdomain };

describe('validateObjectMeta', () => {
  test('a plain namespaced object is valid', () => {
    assert.deepEqual(validateObjectMeta({ name: 'web', namespace: 'default', labels: { app: 'web' } }, namespaced), []);
  });

  test('name or generateName is required', () => {
    assert.deepEqual(strs(validateObjectMeta({ namespace: 'default' }, namespaced)), [
      'metadata.name: Required value: name or generateName is required',
    ]);
  });

  test('the kind\'s name function is used for name and generateName (TestValidateObjectMetaCustomName)', () => {
    const nameFn = (_n: string, prefix: boolean) => (prefix ? ['name-gen'] : ['name-fn']);
    const errs = strs(validateObjectMeta({ name: 'x', generateName: 'foo', namespace: 'ns' }, { requiresNamespace: true, nameFn }));
    assert.deepEqual(errs, ['metadata.generateName: Invalid value: "foo": name-gen', 'metadata.name: Invalid value: "x": name-fn']);
  });

  test('a generateName with a trailing dash is fine (TestValidateObjectMetaTrimsTrailingSlash)', () => {
    assert.deepEqual(validateObjectMeta({ name: 'test', generateName: 'foo-' }, { ...cluster, path: newPath('field') }), []);
  });

  test('invalid names carry the regex message', () => {
    assert.deepEqual(strs(validateObjectMeta({ name: 'My_Name', namespace: 'default' }, namespaced)), [
      "metadata.name: Invalid value: \"My_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    assert.equal(validateObjectMeta({ name: 'svc.x', namespace: 'd' }, { requiresNamespace: true, nameFn: nameIsDNS1035Label }).length, 1);
    assert.deepEqual(strs(validateObjectMeta({ name: 'a/b' }, { requiresNamespace: false, nameFn: validatePathSegmentName })), [
      "metadata.name: Invalid value: \"a/b\": may not contain '/'",
    ]);
  });

  test('namespace: required, validated as a DNS label, or forbidden on cluster kinds (TestValidateObjectMetaNamespaces)', () => {
    assert.deepEqual(strs(validateObjectMeta({ name: 'x' }, namespaced)), ['metadata.namespace: Required value']);
    const dotted = strs(validateObjectMeta({ name: 'x', namespace: 'foo.bar' }, namespaced));
    assert.deepEqual(dotted, ['metadata.namespace: Invalid value: "foo.bar": must not contain dots']);
    assert.deepEqual(strs(validateObjectMeta({ name: 'x', namespace: 'ns' }, cluster)), ['metadata.namespace: Forbidden: not allowed on this type']);
    const long = 'a'.repeat(64) + '.' + 'b'.repeat(10);
    assert.equal(validateObjectMeta({ name: 'x', namespace: long }, namespaced).length, 2);
  });

  test('negative generation', () => {
    assert.deepEqual(strs(validateObjectMeta({ name: 'x', generation: -1 }, cluster)), [
      'metadata.generation: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });

  test('labels: bad keys and values are reported on metadata.labels', () => {
    const errs = strs(validateObjectMeta({ name: 'x', labels: { 'a b': 'ok', ok: '-bad' } }, cluster));
    assert.equal(errs.length, 2);
    assert.ok(errs[0]!.startsWith('metadata.labels: Invalid value: "a b": name part must consist of alphanumeric characters'));
    assert.ok(errs[1]!.startsWith('metadata.labels: Invalid value: "-bad": a valid label must be an empty string'));
  });

  test('ownerReferences: required parts, banned Event owner, single controller (TestValidateObjectMetaOwnerReferences)', () => {
    const missing = strs(validateObjectMeta({ name: 'x', ownerReferences: [{}] }, cluster));
    assert.deepEqual(missing, [
      'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
      'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
      'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
      'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ]);
    const event = strs(validateObjectMeta({ name: 'x', ownerReferences: [{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: '1' }] }, cluster));
    assert.equal(event.length, 1);
    assert.match(event[0]!, /^metadata\.ownerReferences: Invalid value: v1\.OwnerReference\{APIVersion:"v1", Kind:"Event", Name:"e", UID:"1", Controller:\(\*bool\)\(nil\), BlockOwnerDeletion:\(\*bool\)\(nil\)\}: \/v1, Kind=Event is disallowed from being an owner$/);
    const refs = [
      { apiVersion: 'customresourceVersion', kind: 'customresourceKind1', name: 'name', uid: '1', controller: false },
      { apiVersion: 'customresourceVersion', kind: 'customresourceKind2', name: 'name', uid: '2', controller: true },
      { apiVersion: 'customresourceVersion', kind: 'customresourceKind3', name: 'name', uid: '3', controller: true },
    ];
    const two = validateObjectMeta({ name: 'x', ownerReferences: refs }, cluster);
    assert.equal(two.length, 1);
    assert.ok(
      two[0]!.detail === 'Only one reference can have Controller set to true. Found "true" in references for customresourceKind2/name and customresourceKind3/name',
    );
    assert.equal(validateObjectMeta({ name: 'x', ownerReferences: refs.slice(0, 2) }, cluster).length, 0);
  });

  test('finalizers: qualified names, never orphan and foregroundDeletion together', () => {
    const errs = validateObjectMeta({ name: 'test', finalizers: ['orphan', 'foregroundDeletion'] }, { ...cluster, path: newPath('field') });
    assert.deepEqual(errs.map(errorString), [
      'field.finalizers: Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and foregroundDeletion cannot be both set',
    ]);
    assert.equal(validateObjectMeta({ name: 'x', finalizers: ['a/b/c'] }, cluster).length, 1);
    assert.deepEqual(validateObjectMeta({ name: 'x', finalizers: ['kubernetes.io/pv-protection', 'kubernetes'] }, cluster), []);
  });

  test('managedFields: operation, fieldsType, manager, subresource', () => {
    const meta: ObjectMetaLike = {
      name: 'x',
      managedFields: [
        { manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1' },
        { manager: 'bad\u0007', operation: 'Patch', fieldsType: 'FieldsV2', subresource: 's'.repeat(257) },
        { manager: 'm'.repeat(129), operation: 'Update' },
      ],
    };
    assert.deepEqual(strs(validateObjectMeta(meta, cluster)), [
      'metadata.managedFields[1].operation: Invalid value: "Patch": must be `Apply` or `Update`',
      'metadata.managedFields[1].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
      'metadata.managedFields[1].manager: Invalid value: "bad\\a": invalid character U+0007 (at position 3)',
      'metadata.managedFields[1].subresource: Too long: may not be more than 256 bytes',
      'metadata.managedFields[2].manager: Too long: may not be more than 128 bytes',
    ]);
  });
});

describe('validateAnnotations (TestValidateAnnotations)', () => {
  const p = newPath('field');
  const ok: Array<Record<string, string>> = [
    { simple: 'bar' },
    { 'now-with-dashes': 'bar' },
    { '1-starts-with-num': 'bar' },
    { '1234': 'bar' },
    { 'simple/simple': 'bar' },
    { 'now.with.dots/simple': 'bar' },
    { '1.2.3.4/5678': 'bar' },
    { UpperCase123: 'bar' },
    { 'Example.COM/UpperCase': 'bar' },
    { a: 'b'.repeat(TotalAnnotationSizeLimitB - 1) },
    { a: 'b'.repeat(TotalAnnotationSizeLimitB / 2 - 1), c: 'd'.repeat(TotalAnnotationSizeLimitB / 2 - 1) },
  ];
  ok.forEach((a, i) => test(`accepts case ${i}`, () => assert.deepEqual(validateAnnotations(a, p), [])));
  const badNames: Array<[Record<string, string>, string]> = [
    [{ 'nospecialchars^=@': 'bar' }, 'name part must consist of alphanumeric characters'],
    [{ 'cantendwithadash-': 'bar' }, 'name part must consist of alphanumeric characters'],
    [{ 'only/one/slash': 'bar' }, 'a qualified name must consist of alphanumeric characters'],
    [{ ['a'.repeat(254)]: 'bar' }, 'name part must be no more than 63 characters'],
  ];
  badNames.forEach(([a, msg], i) =>
    test(`rejects bad key ${i}`, () => {
      const errs = validateAnnotations(a, p);
      assert.equal(errs.length, 1);
      assert.ok(errs[0]!.detail.includes(msg), errs[0]!.detail);
    }),
  );
  test('rejects 256 KiB of annotations with one Too long error', () => {
    const tooBig: Array<Record<string, string>> = [
      { a: 'b'.repeat(TotalAnnotationSizeLimitB) },
      { a: 'b'.repeat(TotalAnnotationSizeLimitB / 2), c: 'd'.repeat(TotalAnnotationSizeLimitB / 2) },
    ];
    for (const a of tooBig) {
      assert.deepEqual(validateAnnotations(a, p).map(errorString), ['field: Too long: may not be more than 262144 bytes']);
    }
  });
  test('counts bytes, not characters', () => {
    assert.equal(validateAnnotations({ a: 'é'.repeat(TotalAnnotationSizeLimitB / 2) }, p).length, 1);
  });
});

describe('validateObjectMetaUpdate', () => {
  const p = newPath('field');
  const now = '1970-01-01T00:16:40Z';
  const later = '1970-01-01T00:33:20Z';

  test('finalizers may not be added once deleting (TestValidateFinalizersUpdate)', () => {
    const base = { name: 'test', resourceVersion: '1', deletionTimestamp: now };
    const add = validateObjectMetaUpdate({ ...base, finalizers: ['x/a', 'y/b'] }, { ...base, finalizers: ['x/a'] }, p);
    assert.deepEqual(add.map(errorString), [
      'field.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"y/b"}',
    ]);
    assert.ok(aggregateMessage(validateObjectMetaUpdate({ ...base, finalizers: ['x/b'] }, { ...base, finalizers: ['x/a'] }, p)).includes('x/b'));
    assert.deepEqual(validateObjectMetaUpdate({ ...base, finalizers: ['x/a'] }, { ...base, finalizers: ['x/a', 'y/b'] }, p), []);
    const alive = { name: 'test', resourceVersion: '1' };
    assert.deepEqual(validateObjectMetaUpdate({ ...alive, finalizers: ['x/a', 'y/b'] }, { ...alive, finalizers: ['x/a'] }, p), []);
  });

  const cases: Array<[string, ObjectMetaLike, ObjectMetaLike, string[]]> = [
    ['valid without deletion fields', { name: 'test', resourceVersion: '1' }, { name: 'test', resourceVersion: '1' }, []],
    [
      'valid with deletion fields',
      { name: 'test', resourceVersion: '1', deletionTimestamp: now, deletionGracePeriodSeconds: 30 },
      { name: 'test', resourceVersion: '1', deletionTimestamp: now, deletionGracePeriodSeconds: 30 },
      [],
    ],
    [
      'invalid set deletionTimestamp',
      { name: 'test', resourceVersion: '1' },
      { name: 'test', resourceVersion: '1', deletionTimestamp: now },
      ['field.deletionTimestamp: Invalid value: 1970-01-01 00:16:40 +0000 UTC: field is immutable'],
    ],
    [
      'invalid clear deletionTimestamp',
      { name: 'test', resourceVersion: '1', deletionTimestamp: now },
      { name: 'test', resourceVersion: '1' },
      ['field.deletionTimestamp: Invalid value: "null": field is immutable'],
    ],
    [
      'invalid change deletionTimestamp',
      { name: 'test', resourceVersion: '1', deletionTimestamp: now },
      { name: 'test', resourceVersion: '1', deletionTimestamp: later },
      ['field.deletionTimestamp: Invalid value: 1970-01-01 00:33:20 +0000 UTC: field is immutable'],
    ],
    [
      'invalid set deletionGracePeriodSeconds',
      { name: 'test', resourceVersion: '1' },
      { name: 'test', resourceVersion: '1', deletionGracePeriodSeconds: 30 },
      ['field.deletionGracePeriodSeconds: Invalid value: 30: field is immutable'],
    ],
    [
      'invalid clear deletionGracePeriodSeconds',
      { name: 'test', resourceVersion: '1', deletionGracePeriodSeconds: 30 },
      { name: 'test', resourceVersion: '1' },
      ['field.deletionGracePeriodSeconds: Invalid value: "null": field is immutable'],
    ],
    [
      'invalid change deletionGracePeriodSeconds',
      { name: 'test', resourceVersion: '1', deletionGracePeriodSeconds: 30 },
      { name: 'test', resourceVersion: '1', deletionGracePeriodSeconds: 40 },
      ['field.deletionGracePeriodSeconds: Invalid value: 40: field is immutable'],
    ],
    [
      'generation decremented',
      { name: 'test', resourceVersion: '1', generation: 5 },
      { name: 'test', resourceVersion: '1', generation: 4 },
      ['field.generation: Invalid value: 4: must not be decremented'],
    ],
    ['generation incremented', { name: 'test', resourceVersion: '1', generation: 1 }, { name: 'test', resourceVersion: '1', generation: 2 }, []],
    [
      'name, namespace and uid are immutable; resourceVersion is required',
      { name: 'a', namespace: 'x', uid: 'u1', resourceVersion: '1' },
      { name: 'b', namespace: 'y', uid: 'u2' },
      [
        'field.resourceVersion: Invalid value: "": must be specified for an update',
        'field.name: Invalid value: "b": field is immutable',
        'field.namespace: Invalid value: "y": field is immutable',
        'field.uid: Invalid value: "u2": field is immutable',
      ],
    ],
    [
      'creationTimestamp is immutable',
      { name: 'a', resourceVersion: '1', creationTimestamp: '2024-05-06T07:08:09Z' },
      { name: 'a', resourceVersion: '1', creationTimestamp: '2024-05-06T07:08:10Z' },
      ['field.creationTimestamp: Invalid value: 2024-05-06 07:08:10 +0000 UTC: field is immutable'],
    ],
  ];
  for (const [name, oldMeta, newMeta, want] of cases) {
    test(name, () => assert.deepEqual(validateObjectMetaUpdate(newMeta, oldMeta, p).map(errorString), want));
  }

  test('the same instant written differently is not a change', () => {
    assert.deepEqual(
      validateObjectMetaUpdate(
        { name: 'a', resourceVersion: '1', creationTimestamp: '2024-05-06T09:08:09+02:00' },
        { name: 'a', resourceVersion: '1', creationTimestamp: '2024-05-06T07:08:09Z' },
        p,
      ),
      [],
    );
  });

  test('labels and annotations are checked on update too', () => {
    const errs = validateObjectMetaUpdate({ name: 'a', resourceVersion: '1', labels: { 'x/y/z': 'v' } }, { name: 'a' });
    assert.equal(errs.length, 1);
    assert.equal(errs[0]!.field, 'metadata.labels');
  });

  test('Go time strings', () => {
    assert.equal(goTimeString(undefined), '0001-01-01 00:00:00 +0000 UTC');
    assert.equal(goTimeString('2024-01-02T03:04:05.500Z'), '2024-01-02 03:04:05.5 +0000 UTC');
  });
});
