// Tests of managedFields decoding, encoding order, manager identity and the update-manager cap.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, fieldPath } from './fieldpath.ts';
import { capUpdateManagers, decodeManagedFields, encodeManagedFields, isResetManagedFields, ManagedFieldsError, managerIdentifier, type Managed } from './managed_fields.ts';

const fields = { 'f:spec': { 'f:replicas': {} } };

describe('manager identity', () => {
  test('Update managers are told apart by version and subresource; Apply managers are not by version', () => {
    assert.equal(managerIdentifier({ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1' }), '{"manager":"kubectl","operation":"Apply"}');
    assert.equal(managerIdentifier({ manager: 'm', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status' }), '{"manager":"m","operation":"Update","apiVersion":"apps/v1","subresource":"status"}');
    assert.equal(managerIdentifier({ manager: 'a<b', operation: 'Update', apiVersion: 'v1' }), '{"manager":"a\\u003cb","operation":"Update","apiVersion":"v1"}');
  });
});

describe('decode', () => {
  test('reads entries into owner sets', () => {
    const m = decodeManagedFields([
      { manager: 'a', operation: 'Apply', apiVersion: 'v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: fields },
      { manager: 'b', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: fields, subresource: 'scale' },
    ]);
    assert.deepEqual([...m.fields.keys()], ['{"manager":"a","operation":"Apply"}', '{"manager":"b","operation":"Update","apiVersion":"v1","subresource":"scale"}']);
    assert.ok(m.fields.get('{"manager":"a","operation":"Apply"}')!.applied);
    assert.ok(m.fields.get('{"manager":"a","operation":"Apply"}')!.set.has(fieldPath('spec', 'replicas')));
  });

  const bad: [string, unknown, string][] = [
    ['an unknown operation', [{ manager: 'a', operation: 'Patch', apiVersion: 'v1', fieldsType: 'FieldsV1' }], 'operation must be `Apply` or `Update`'],
    ['a missing apiVersion', [{ manager: 'a', operation: 'Update', fieldsType: 'FieldsV1' }], 'apiVersion must not be empty'],
    ['a missing fieldsType', [{ manager: 'a', operation: 'Update', apiVersion: 'v1' }], 'missing fieldsType in managed fields entry 0'],
    ['another fieldsType', [{ manager: 'a', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV2' }], 'invalid fieldsType "FieldsV2" in managed fields entry 0'],
  ];
  for (const [name, entries, message] of bad) {
    test(`rejects ${name}`, () => assert.throws(() => decodeManagedFields(entries), (e: unknown) => e instanceof ManagedFieldsError && e.message === message));
  }

  test('[] and [{}] ask for a reset; absence does not', () => {
    assert.ok(isResetManagedFields([]));
    assert.ok(isResetManagedFields([{}]));
    assert.ok(!isResetManagedFields(undefined));
    assert.ok(!isResetManagedFields([{ manager: 'a' }]));
  });
});

describe('encode', () => {
  test('orders Apply before Update, then by time, manager, version, subresource', () => {
    const set = FieldSet.of(fieldPath('spec', 'replicas'));
    const m: Managed = { fields: new Map(), times: new Map() };
    const add = (manager: string, operation: string, apiVersion: string, time: string | undefined, subresource?: string) => {
      const id = managerIdentifier({ manager, operation, apiVersion, subresource });
      m.fields.set(id, { set, apiVersion, applied: operation === 'Apply' });
      m.times.set(id, time);
    };
    add('z', 'Update', 'v1', '2024-01-01T00:00:00Z');
    add('a', 'Update', 'v1', '2024-01-02T00:00:00Z');
    add('b', 'Apply', 'v1', '2024-01-03T00:00:00Z');
    add('y', 'Update', 'v1', undefined);
    add('a', 'Update', 'v1', '2024-01-02T00:00:00Z', 'status');
    const out = encodeManagedFields(m);
    assert.deepEqual(out.map((e) => `${e.manager}/${e.operation}/${e.subresource ?? ''}`), ['b/Apply/', 'y/Update/', 'z/Update/', 'a/Update/', 'a/Update/status']);
    assert.equal(out[1]!.time, undefined);
    assert.deepEqual(out[0], { manager: 'b', operation: 'Apply', apiVersion: 'v1', time: '2024-01-03T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: fields });
  });
});

describe('cap', () => {
  test('folds the oldest update managers per version into ancient-changes', () => {
    const m: Managed = { fields: new Map(), times: new Map() };
    for (let i = 0; i < 12; i++) {
      const id = managerIdentifier({ manager: `m${i}`, operation: 'Update', apiVersion: 'v1' });
      m.fields.set(id, { set: FieldSet.of(fieldPath('data', `k${i}`)), apiVersion: 'v1', applied: false });
      m.times.set(id, `2024-01-01T00:00:${String(i).padStart(2, '0')}Z`);
    }
    const applier = managerIdentifier({ manager: 'kubectl', operation: 'Apply' });
    m.fields.set(applier, { set: FieldSet.of(fieldPath('data', 'x')), apiVersion: 'v1', applied: true });
    capUpdateManagers(m, 10);
    const entries = encodeManagedFields(m);
    assert.deepEqual(entries.map((e) => e.manager), ['kubectl', 'ancient-changes', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11']);
    const ancient = entries.find((e) => e.manager === 'ancient-changes')!;
    assert.deepEqual(ancient.fieldsV1, { 'f:data': { 'f:k0': {}, 'f:k1': {}, 'f:k2': {} } });
    assert.equal(ancient.time, '2024-01-01T00:00:02Z');
  });
});
