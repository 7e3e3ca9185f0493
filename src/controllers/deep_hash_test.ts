// Unit tests of the pod-template hash: the spew text of a defaulted `kubectl create deployment`
// template (checked once against Go's spew over the same types), quantities, and the encoding.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeHash, safeEncodeString, spewPodTemplateSpec } from './deep_hash.ts';

// `kubectl create deployment web --image=nginx` after the API server's defaults.
const CREATED = {
  metadata: { creationTimestamp: null, labels: { app: 'web' } },
  spec: {
    containers: [{ name: 'nginx', image: 'nginx', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' }],
    restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', securityContext: {}, schedulerName: 'default-scheduler',
  },
};

describe('computeHash', () => {
  test('hashes a defaulted template as Go does (FNV-32a of spew %#v, safe-encoded)', () => {
    const text = spewPodTemplateSpec(CREATED as never);
    assert.ok(text.startsWith('(v1.PodTemplateSpec){ObjectMeta:(v1.ObjectMeta){Name:(string) GenerateName:(string) Namespace:(string) SelfLink:(string) UID:(types.UID) ResourceVersion:(string) Generation:(int64)0 CreationTimestamp:(v1.Time){Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}} DeletionTimestamp:(*v1.Time)<nil> DeletionGracePeriodSeconds:(*int64)<nil> Labels:(map[string]string)map[app:web] Annotations:(map[string]string)<nil>'));
    assert.match(text, / Containers:\(\[\]v1.Container\)\[\{Name:\(string\)nginx Image:\(string\)nginx Command:\(\[\]string\)<nil> /);
    assert.match(text, / TerminationGracePeriodSeconds:\(\*int64\)30 /);
    assert.match(text, / SecurityContext:\(\*v1.PodSecurityContext\)\{SELinuxOptions:\(\*v1.SELinuxOptions\)<nil> /);
    // Value computed by Go's spew + fnv over the same Go types.
    assert.equal(computeHash(CREATED as never), '65d846d465');
  });

  test('the collision count changes the hash; empty lists and maps hash like absent ones', () => {
    const base = computeHash(CREATED as never);
    assert.notEqual(computeHash(CREATED as never, 1), base);
    assert.notEqual(computeHash(CREATED as never, 1), computeHash(CREATED as never, 2));
    const withEmpties = structuredClone(CREATED) as Record<string, any>;
    withEmpties['metadata'].annotations = {};
    withEmpties['spec'].volumes = [];
    assert.equal(computeHash(withEmpties as never), base);
  });

  test('quantities print their parsed internals (cached string only in canonical form)', () => {
    const t = { spec: { containers: [{ name: 'c', resources: { limits: { cpu: '100m', memory: '128Mi' } } }] } };
    const text = spewPodTemplateSpec(t as never);
    assert.match(text, /Limits:\(v1.ResourceList\)map\[cpu:\{i:\(resource.int64Amount\)\{value:\(int64\)100 scale:\(resource.Scale\)-3\} d:\(resource.infDecAmount\)\{Dec:\(\*inf.Dec\)<nil>\} s:\(string\)100m Format:\(resource.Format\)DecimalSI\} memory:\{i:\(resource.int64Amount\)\{value:\(int64\)134217728 scale:\(resource.Scale\)0\} d:\(resource.infDecAmount\)\{Dec:\(\*inf.Dec\)<nil>\} s:\(string\) Format:\(resource.Format\)BinarySI\}\]/);
  });

  test('int-or-string ports print both variants', () => {
    const t = { spec: { containers: [{ name: 'c', livenessProbe: { httpGet: { port: 'http' } }, readinessProbe: { tcpSocket: { port: 80 } } }] } };
    const text = spewPodTemplateSpec(t as never);
    assert.match(text, /Port:\(intstr.IntOrString\)\{Type:\(intstr.Type\)1 IntVal:\(int32\)0 StrVal:\(string\)http\}/);
    assert.match(text, /Port:\(intstr.IntOrString\)\{Type:\(intstr.Type\)0 IntVal:\(int32\)80 StrVal:\(string\)\}/);
  });

  test('SafeEncodeString maps digits onto the vowel-free alphabet', () => {
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  });
});
