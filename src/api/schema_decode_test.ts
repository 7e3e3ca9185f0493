// The fast typed decode (compiled schemas, no paths) must answer exactly as the slow walk that
// words the errors, and its "no undeclared fields" note must agree with unknownFields' own walk.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTyped, decodeTypedSlow } from './schema_decode.ts';
import { unknownFields } from './unknown_fields.ts';

const POD = 'io.k8s.api.core.v1.Pod';

function pod(): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: { app: 'x' }, annotations: { a: 'b' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] },
    spec: {
      containers: [{
        name: 'c', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: 'x' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        resources: { limits: { cpu: '1', memory: 1024 } }, readinessProbe: { httpGet: { path: '/', port: 'http' }, initialDelaySeconds: 3 },
      }],
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 300 }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }] } } },
      nodeSelector: { disk: 'ssd' }, terminationGracePeriodSeconds: 30,
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:00:00Z' }], podIPs: [{ ip: '10.0.0.1' }] },
  };
}

const CRD = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition';

function crd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'foos.example.com' },
    spec: {
      group: 'example.com', scope: 'Namespaced', names: { plural: 'foos', kind: 'Foo' },
      versions: [{
        name: 'v1', served: true, storage: true,
        schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'integer', default: 3 } }, 'x-kubernetes-preserve-unknown-fields': true } } } },
      }],
    },
  };
}

/** A small deterministic generator (tests must be repeatable). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const ODD_VALUES: unknown[] = [null, 'str', 7, 2.5, 2 ** 40, -1, true, {}, [], { zz: 1 }, ['a'], [null], [{ x: 1 }]];

/** Every [container, key] in a value, for picking places to damage. */
function slots(v: unknown, out: Array<[Record<string, unknown> | unknown[], string | number]> = []): Array<[Record<string, unknown> | unknown[], string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => { out.push([v, i]); slots(x, out); });
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push([v as Record<string, unknown>, k]); slots(x, out); }
  return out;
}

function mutated(base: () => Record<string, unknown>, seed: number): Record<string, unknown> {
  const r = rng(seed);
  const obj = base();
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const all = slots(obj);
    const [container, key] = all[Math.floor(r() * all.length)]!;
    const odd = structuredClone(ODD_VALUES[Math.floor(r() * ODD_VALUES.length)]);
    if (!Array.isArray(container) && r() < 0.3) container[`extra${i}`] = odd; // an undeclared field
    else (container as Record<string | number, unknown>)[key] = odd;
  }
  return obj;
}

describe('decodeTyped', () => {
  for (const [name, def, base] of [['Pod', POD, pod], ['CustomResourceDefinition', CRD, crd]] as const) {
    test(`fast and slow walks agree on damaged ${name}s (errors, nulls dropped, undeclared fields)`, () => {
      let errors = 0, unknowns = 0;
      for (let seed = 1; seed <= 400; seed++) {
        const a = mutated(base, seed);
        const b = structuredClone(a);
        const c = structuredClone(a);
        const fast = decodeTyped(def, a);
        const slow = decodeTypedSlow(def, b);
        assert.equal(fast, slow, `seed ${seed}`);
        if (fast !== undefined) {
          errors++;
          continue;
        }
        assert.deepEqual(a, b, `seed ${seed}: the same nulls dropped`);
        // The note decodeTyped left must give unknownFields' own answer (c never met decodeTyped).
        decodeTypedSlow(def, c);
        const expected = unknownFields(def, c);
        assert.deepEqual(unknownFields(def, a), expected, `seed ${seed}`);
        if (expected.length > 0) unknowns++;
      }
      // The corpus exercises both outcomes.
      assert.ok(errors > 20 && errors < 380, `errors ${errors}`);
      assert.ok(unknowns > 10, `unknowns ${unknowns}`);
    });
  }

  test('a clean object is reported clean once; a later change is walked again', () => {
    const p = pod();
    assert.equal(decodeTyped(POD, p), undefined);
    assert.deepEqual(unknownFields(POD, p), []);
    (p['spec'] as Record<string, unknown>)['bogus'] = 1;
    assert.deepEqual(unknownFields(POD, p), ['spec.bogus']);
  });

  test('int32 range, int-or-string and quantities as Go decodes them', () => {
    const big = pod();
    ((big['spec'] as { containers: Array<Record<string, unknown>> }).containers[0]!['ports'] as Array<Record<string, unknown>>)[0]!['containerPort'] = 2 ** 31;
    assert.match(decodeTyped(POD, big) ?? '', /^json: cannot unmarshal number 2147483648 into Go struct field ContainerPort\.(.*\.)?containerPort of type int32$/);
    const ios = pod();
    (((ios['spec'] as { containers: Array<Record<string, unknown>> }).containers[0]!['readinessProbe'] as Record<string, Record<string, unknown>>)['httpGet']!)['port'] = 1.5;
    assert.match(decodeTyped(POD, ios) ?? '', /of type intstr.IntOrString$/);
    const q = pod();
    (((q['spec'] as { containers: Array<Record<string, unknown>> }).containers[0]!['resources'] as Record<string, Record<string, unknown>>)['limits']!)['cpu'] = true;
    assert.match(decodeTyped(POD, q) ?? '', /of type resource.Quantity$/);
  });

  test('fields named like Object.prototype members are undeclared', () => {
    const p = pod();
    (p['spec'] as Record<string, unknown>)['toString'] = 'x';
    assert.equal(decodeTyped(POD, p), undefined);
    assert.deepEqual(unknownFields(POD, p), ['spec.toString']);
  });
});
