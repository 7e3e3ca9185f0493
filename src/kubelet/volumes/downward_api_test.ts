import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../api/types/core_v1.ts';
import { downwardAPIPayload, downwardAPIPlugin } from './downward_api.ts';
import { fakeHost } from './fake_volume_host.ts';

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { tier: 'front', app: 'web' }, annotations: { note: 'say "hi"' } },
  spec: { containers: [{ name: 'c', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } } }] },
};

describe('downwardAPI volumes', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tkube-dapi-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('metadata fields and maps in the kubelet format; resources with divisors and defaults', () => {
    const p = downwardAPIPayload([
      { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
      { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
      { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
      { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" } },
      { path: 'mem_mi', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' }, mode: 0o400 },
      { path: 'cpu_m', resourceFieldRef: { containerName: 'c', resource: 'requests.cpu', divisor: '1m' } },
      { path: 'cpu_limit', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } },
    ], pod, 0o644, { cpu: '2', memory: '4Gi' });
    const text = (k: string): string => p.get(k)!.data.toString();
    assert.equal(text('name'), 'web');
    assert.equal(text('labels'), 'app="web"\ntier="front"');
    assert.equal(text('annotations'), 'note="say \\"hi\\""');
    assert.equal(text('tier'), 'front');
    assert.equal(text('mem_mi'), '64');
    assert.equal(p.get('mem_mi')!.mode, 0o400);
    assert.equal(text('cpu_m'), '250');
    assert.equal(text('cpu_limit'), '2');
  });

  test('fields a volume cannot use are refused', () => {
    assert.throws(() => downwardAPIPayload([{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }], pod, 0o644, {}), { message: 'unsupported fieldPath: status.podIP' });
  });

  test('the labels file follows the pod', async () => {
    const volume = { name: 'podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } };
    const m = await downwardAPIPlugin.setUp(fakeHost({ dir: join(dir, 'v'), volume, pod }));
    assert.equal(readFileSync(join(m.hostPath, 'labels'), 'utf8'), 'app="web"\ntier="front"');
    await downwardAPIPlugin.setUp(fakeHost({ dir: join(dir, 'v'), volume, pod: { ...pod, metadata: { ...pod.metadata, labels: { app: 'web', v: '2' } } } }));
    assert.equal(readFileSync(join(m.hostPath, 'labels'), 'utf8'), 'app="web"\nv="2"');
  });
});
