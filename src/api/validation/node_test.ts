// Tests for Node validation on create and update.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../defaults/registry.ts';
import { errorString } from '../field_errors.ts';
import { validateObject, validateObjectUpdate } from './registry.ts';

type J = Record<string, unknown>;

function defaulted(obj: J): J {
  const copy = structuredClone(obj);
  applyDefaults('', 'v1', 'Node', copy);
  return copy;
}

const create = (obj: J): string[] => validateObject('', 'Node', defaulted(obj)).map(errorString);
const update = (obj: J, old: J): string[] => validateObjectUpdate('', 'Node', defaulted(obj), defaulted(old)).map(errorString);
const node = (spec: J = {}, status: J = {}): J => ({ metadata: { name: 'node-1' }, spec, status });

describe('Node', () => {
  test('a registered node is valid', () => {
    assert.deepEqual(create(node(
      { podCIDR: '10.42.0.0/24', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
      { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, addresses: [{ type: 'InternalIP', address: '192.168.1.10' }] },
    )), []);
  });

  const cases: Array<[string, J, string[]]> = [
    ['a bad pod CIDR', node({ podCIDR: '10.42.0.0/33' }), ['spec.podCIDRs[0]: Invalid value: "10.42.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)']],
    ['two CIDRs of one family', node({ podCIDRs: ['10.42.0.0/24', '10.43.0.0/24'] }),
      ['spec.podCIDRs: Invalid value: []string{"10.42.0.0/24", "10.43.0.0/24"}: may specify no more than one CIDR for each IP family']],
    ['a taint without effect (reported under metadata, as upstream)', node({ taints: [{ key: 'dedicated' }] }), ['metadata.taints[0].effect: Required value']],
    ['duplicate taints', node({ taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', value: 'x', effect: 'NoSchedule' }] }),
      ['metadata.taints[1]: Duplicate value: core.Taint{Key:"a", Value:"x", Effect:"NoSchedule", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair']],
    // allocatable defaults to capacity, so upstream reports both.
    ['a negative capacity', node({}, { capacity: { cpu: '-1' } }), [
      'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0',
      'status.allocatable.cpu: Invalid value: "-1": must be greater than or equal to 0',
    ]],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(create(obj), want));

  test('podCIDR may be set once but not changed', () => {
    assert.deepEqual(update(node({ podCIDR: '10.42.1.0/24' }), node()), []);
    assert.deepEqual(update(node({ podCIDR: '10.42.2.0/24' }), node({ podCIDR: '10.42.1.0/24' })),
      ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']);
  });

  test('providerID may be set once but not changed', () => {
    assert.deepEqual(update(node({ providerID: 'tkube://b' }), node({ providerID: 'tkube://a' })),
      ['spec.providerID: Forbidden: node updates may not change providerID except from "" to valid']);
  });

  test('duplicate addresses are rejected on update', () => {
    const addr = { type: 'InternalIP', address: '10.0.0.1' };
    assert.deepEqual(update(node({}, { addresses: [addr, addr] }), node()),
      ['status.addresses[1]: Duplicate value: core.NodeAddress{Type:"InternalIP", Address:"10.0.0.1"}']);
  });
});
