// VolumeBinding (simplified): missing and unbound-immediate claims fail PreFilter with upstream's
// messages; bound PVs' node affinity and WaitForFirstConsumer matching decide per node.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../../api/types/core_v1.ts';
import type { StorageClass } from '../../../api/types/storage_v1.ts';
import { Code } from '../../framework/interface.ts';
import { MemoryListers } from '../../framework/listers.ts';
import { filterEach, makeNode, makePod, multiPoint, newTestFramework } from '../../framework/testing/wrappers.ts';
import { ErrReasonBindConflict, ErrReasonNodeConflict, ErrReasonUnboundImmediate, Name, newVolumeBinding } from './volume_binding.ts';

const nodes = () => [makeNode().name('node1').label('zone', 'a').obj(), makeNode().name('node2').label('zone', 'b').obj()];

function pvc(name: string, spec: Partial<NonNullable<PersistentVolumeClaim['spec']>>): PersistentVolumeClaim & { kind: string } {
  return { kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default', uid: `${name}-uid` }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } };
}

function pv(name: string, zone: string | null, extra: Partial<NonNullable<PersistentVolume['spec']>> = {}): PersistentVolume & { kind: string } {
  return {
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' }, storageClassName: 'local',
      ...(zone !== null ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: [zone] }] }] } } } : {}),
      ...extra,
    },
    status: { phase: 'Available' },
  };
}

function sc(name: string, mode: string, provisioner = 'example.com/csi'): StorageClass & { kind: string } {
  return { kind: 'StorageClass', metadata: { name }, provisioner, volumeBindingMode: mode };
}

function run(pod: Pod, objs: Array<{ kind: string }>): { pre: string | null; byNode: Record<string, string> } {
  const listers = new MemoryListers().add(...(objs as never[]));
  const { fwk, snapshot } = newTestFramework({ registry: new Map([[Name, newVolumeBinding]]), plugins: multiPoint(Name), nodes: nodes(), listers });
  const r = filterEach(fwk, snapshot, pod);
  const byNode: Record<string, string> = {};
  for (const [n, s] of r.byNode) byNode[n] = s === null ? 'fit' : `${s.code}:${s.reasons.join(',')}`;
  return { pre: r.pre === null ? null : `${r.pre.code}:${r.pre.message()}`, byNode };
}

const podWith = (claim: string) => makePod().name('p').namespace('default').pvc(claim).obj();

describe('VolumeBinding', () => {
  test('a pod without volumes is not affected', () => {
    assert.deepEqual(run(makePod().namespace('default').obj(), []).byNode, { node1: 'fit', node2: 'fit' });
  });

  test('a missing claim is unresolvable', () => {
    assert.equal(run(podWith('data'), []).pre, `${Code.UnschedulableAndUnresolvable}:persistentvolumeclaim "data" not found`);
  });

  test('an unbound claim with Immediate binding waits for the PV controller', () => {
    assert.equal(run(podWith('data'), [pvc('data', { storageClassName: 'fast' }), sc('fast', 'Immediate')]).pre, `${Code.UnschedulableAndUnresolvable}:${ErrReasonUnboundImmediate}`);
  });

  test("a bound PV's node affinity limits the nodes", () => {
    const got = run(podWith('data'), [pvc('data', { volumeName: 'pv-a' }), pv('pv-a', 'a')]);
    assert.deepEqual(got.byNode, { node1: 'fit', node2: `${Code.UnschedulableAndUnresolvable}:${ErrReasonNodeConflict}` });
  });

  test('WaitForFirstConsumer with a local PV only fits where the PV is', () => {
    const got = run(podWith('data'), [pvc('data', { storageClassName: 'local' }), sc('local', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'), pv('pv-a', 'a')]);
    assert.deepEqual(got.byNode, { node1: 'fit', node2: `${Code.UnschedulableAndUnresolvable}:${ErrReasonBindConflict}` });
  });

  test('WaitForFirstConsumer with a provisioner fits where allowedTopologies allow', () => {
    const cls = { ...sc('csi', 'WaitForFirstConsumer'), allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['b'] }] }] };
    const got = run(podWith('data'), [pvc('data', { storageClassName: 'csi' }), cls]);
    assert.deepEqual(got.byNode, { node1: `${Code.UnschedulableAndUnresolvable}:${ErrReasonBindConflict}`, node2: 'fit' });
  });

  test('a PV too small for the claim does not match', () => {
    const got = run(podWith('data'), [pvc('data', { storageClassName: 'local', resources: { requests: { storage: '5Gi' } } }), sc('local', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'), pv('pv-a', 'a')]);
    assert.equal(got.byNode['node1'], `${Code.UnschedulableAndUnresolvable}:${ErrReasonBindConflict}`);
  });
});
