// The field manager's shortcuts must not change its answers: compare() skipping unchanged members
// against the exhaustive walk, and a sequence of writes whose live objects share the encodings the
// previous write made (as the API server's watch cache hands them back) against the same writes
// on fresh JSON copies by the field manager without shortcuts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, compareExhaustive } from './typed.ts';
import { definitionAtom } from './schema.ts';
import { defaultResetFields, updateManagedFields, updateManagedFieldsExhaustive, type UpdateManagedFieldsOptions } from './field_manager.ts';

type Obj = Record<string, any>;
const POD = 'io.k8s.api.core.v1.Pod';

function pod(): Obj {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u1', creationTimestamp: '2025-01-01T00:00:00Z', labels: { app: 'x', tier: 'y' }, annotations: { a: 'b' } },
    spec: {
      containers: [
        { name: 'a', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81, protocol: 'TCP' }], env: [{ name: 'A', value: 'x' }], resources: {} },
        { name: 'b', image: 'busybox', args: ['sleep', '1'], resources: { limits: { cpu: '1' } } },
      ],
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
      restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', nodeSelector: { disk: 'ssd' },
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:00:00Z' }] },
  };
}

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** A few edits of the kinds writes make: set, remove, add list items, reorder keyed lists. */
function edited(base: Obj, seed: number): Obj {
  const r = rng(seed);
  const o = structuredClone(base);
  const c = (name: string): Obj => o.spec.containers.find((x: Obj) => x.name === name);
  const edits = [
    () => { o.metadata.labels[`l${Math.floor(r() * 3)}`] = String(Math.floor(r() * 3)); },
    () => { delete o.metadata.labels.tier; },
    () => { c('a').image = `nginx:${Math.floor(r() * 3)}`; },
    () => { o.spec.containers.reverse(); },
    () => { c('a').ports.push({ containerPort: 90 + Math.floor(r() * 3), protocol: 'TCP' }); },
    () => { c('b').args = ['sleep', String(Math.floor(r() * 3))]; },
    () => { o.spec.tolerations.push({ key: `t${Math.floor(r() * 2)}`, operator: 'Exists' }); },
    () => { o.status.phase = 'Running'; o.status.podIP = '10.0.0.1'; },
    () => { o.status.conditions.push({ type: 'Ready', status: r() < 0.5 ? 'True' : 'False', lastProbeTime: null }); },
    () => { delete o.spec.nodeSelector; },
    () => { o.spec.nodeSelector = { disk: 'hdd', zone: 'a' }; },
    () => { o.metadata.annotations = {}; },
  ];
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) edits[Math.floor(r() * edits.length)]!();
  return o;
}

describe('compare skips unchanged members without changing its answer', () => {
  const atom = definitionAtom(POD)!;
  test('random edits of a pod, both ways round', () => {
    let changed = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const a = edited(pod(), seed);
      const b = edited(a, seed * 7919);
      for (const [l, r] of [[a, b], [b, a], [undefined, b]] as const) {
        const fast = compare(atom, l, r);
        const full = compareExhaustive(atom, l, r);
        assert.deepEqual(fast.errors, full.errors, `seed ${seed}`);
        for (const k of ['added', 'modified', 'removed'] as const) {
          assert.equal(fast.comparison[k].toString(), full.comparison[k].toString(), `seed ${seed} ${k}`);
          if (!full.comparison[k].empty()) changed++;
        }
      }
    }
    assert.ok(changed > 300, `the edits change something (${changed})`);
  });
});

describe('updateManagedFields on live objects that share earlier encodings', () => {
  test('a chain of writes by several managers gives the same managedFields as on fresh copies', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      // shared: each write's live object is the previous result itself (the watch cache's object)
      let shared: Obj | undefined;
      // fresh: the same object through JSON, so nothing is shared and everything is decoded
      let fresh: Obj | undefined;
      let next = pod();
      for (let step = 0; step < 12; step++) {
        const manager = ['kubectl', 'controller', 'kubelet'][Math.floor(r() * 3)]!;
        const subresource = r() < 0.3 ? 'status' : undefined;
        const time = `2025-01-01T00:00:${String(step).padStart(2, '0')}Z`;
        const write = (live: Obj | undefined, n: Obj, update: (o: UpdateManagedFieldsOptions) => unknown[]): Obj => {
          const mf = update({ definition: POD, apiVersion: 'v1', live, next: n, manager, subresource, time, resetFields: defaultResetFields(subresource) });
          const out = { ...n, metadata: { ...n.metadata } };
          if (mf.length > 0) out.metadata.managedFields = mf;
          else delete out.metadata.managedFields;
          return out;
        };
        const s = write(shared, structuredClone(next), updateManagedFields);
        const f = write(fresh === undefined ? undefined : JSON.parse(JSON.stringify(fresh)), JSON.parse(JSON.stringify(next)), updateManagedFieldsExhaustive);
        assert.equal(JSON.stringify(s.metadata.managedFields), JSON.stringify(f.metadata.managedFields), `seed ${seed} step ${step}`);
        shared = s;
        fresh = f;
        next = edited(s, seed * 100 + step);
        delete next.metadata.managedFields;
        if (r() < 0.5) next.metadata.managedFields = s.metadata.managedFields; // PUT of what was read
      }
      assert.ok((shared!.metadata.managedFields as unknown[]).length >= 1);
    }
  });
});
