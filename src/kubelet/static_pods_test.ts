import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../api/types/core_v1.ts';
import { FakeClock } from '../client/clock.ts';
import { isMirrorPod, isMirrorPodOf, isStaticPod, podsFromManifest, rfc3339Nano, StaticPodSource } from './static_pods.ts';

const WEB = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
`;

const NOW = Date.UTC(2024, 0, 1, 0, 0, 0, 120);

describe('static pod manifests', () => {
  test('a Pod manifest becomes <name>-<node> with the file source defaults', () => {
    const [p] = podsFromManifest(WEB, '/etc/m/web.yaml', 'node1', NOW);
    assert.equal(p!.metadata!.name, 'web-node1');
    assert.equal(p!.metadata!.namespace, 'default');
    assert.equal(p!.spec!.nodeName, 'node1');
    assert.match(p!.metadata!.uid!, /^[0-9a-f]{32}$/);
    assert.deepEqual(p!.metadata!.annotations, {
      'kubernetes.io/config.hash': p!.metadata!.uid,
      'kubernetes.io/config.source': 'file',
      'kubernetes.io/config.seen': '2024-01-01T00:00:00.12Z',
    });
    assert.deepEqual(p!.spec!.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
    assert.deepEqual(p!.status, { phase: 'Pending' });
    // API defaults as the API server would set them
    assert.equal(p!.spec!.restartPolicy, 'Always');
    assert.equal(p!.spec!.containers[0]!.terminationMessagePath, '/dev/termination-log');
    assert.equal(isStaticPod(p!), true);
    assert.equal(isMirrorPod(p!), false);
  });

  test('the UID follows node, file and content', () => {
    const a = podsFromManifest(WEB, '/m/web.yaml', 'n1', NOW)[0]!.metadata!.uid;
    assert.equal(podsFromManifest(WEB, '/m/web.yaml', 'n1', NOW + 5000)[0]!.metadata!.uid, a);
    assert.notEqual(podsFromManifest(WEB, '/m/other.yaml', 'n1', NOW)[0]!.metadata!.uid, a);
    assert.notEqual(podsFromManifest(WEB, '/m/web.yaml', 'n2', NOW)[0]!.metadata!.uid, a);
    assert.notEqual(podsFromManifest(WEB.replace('3600', '60'), '/m/web.yaml', 'n1', NOW)[0]!.metadata!.uid, a);
  });

  test('JSON and PodList manifests are read; bad ones are refused with the file named', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'PodList', items: [
      { metadata: { name: 'a', namespace: 'kube-system' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      { metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    ] });
    const pods = podsFromManifest(json, '/m/list.json', 'n1', NOW);
    assert.deepEqual(pods.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`), ['kube-system/a-n1', 'default/b-n1']);
    assert.throws(() => podsFromManifest('kind: Deployment\napiVersion: v1\n', '/m/d.yaml', 'n1', NOW), /\/m\/d\.yaml: unsupported kind "Deployment"/);
    assert.throws(() => podsFromManifest('a: [', '/m/bad.yaml', 'n1', NOW), /\/m\/bad\.yaml: invalid YAML or JSON/);
    assert.throws(() => podsFromManifest(WEB.replace('image: busybox', 'image: ""'), '/m/x.yaml', 'n1', NOW), /invalid pod: .*spec\.containers\[0\]\.image: Required value/);
  });

  test('a mirror pod is recognized by the hash it carries', () => {
    const [p] = podsFromManifest(WEB, '/m/web.yaml', 'n1', NOW);
    const mirror: Pod = { metadata: { name: 'web-n1', namespace: 'default', annotations: { 'kubernetes.io/config.mirror': p!.metadata!.uid! } } };
    assert.equal(isMirrorPod(mirror), true);
    assert.equal(isMirrorPodOf(mirror, p!), true);
    assert.equal(isMirrorPodOf({ metadata: { ...mirror.metadata, annotations: { 'kubernetes.io/config.mirror': 'old' } } }, p!), false);
  });

  test('rfc3339Nano trims trailing zeros of the fraction', () => {
    assert.equal(rfc3339Nano(Date.UTC(2024, 0, 1)), '2024-01-01T00:00:00Z');
    assert.equal(rfc3339Nano(Date.UTC(2024, 0, 1, 0, 0, 0, 5)), '2024-01-01T00:00:00.005Z');
  });
});

describe('static pod source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-static-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('files added, changed and removed change the set; hidden and unparsable files hold no pods', async () => {
    const clock = new FakeClock(NOW);
    const seen: string[][] = [];
    const src = new StaticPodSource({ dir: join(dir, 'manifests'), nodeName: 'n1', clock, onChange: (pods) => seen.push(pods.map((p) => p.metadata!.name!)) });
    // no directory yet: nothing, and no complaint
    await src.start();
    assert.deepEqual(seen, []);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'manifests'));
    writeFileSync(join(dir, 'manifests', 'web.yaml'), WEB);
    writeFileSync(join(dir, 'manifests', '.hidden.yaml'), WEB.replace('name: web', 'name: hidden'));
    writeFileSync(join(dir, 'manifests', 'broken.yaml'), 'kind: [');
    await src.scan();
    assert.deepEqual(seen, [['web-n1']]);
    const uid = src.pods()[0]!.metadata!.uid;
    // rescanning an unchanged directory says nothing
    await src.scan();
    assert.equal(seen.length, 1);
    writeFileSync(join(dir, 'manifests', 'web.yaml'), WEB.replace('3600', '7200'));
    await src.scan();
    assert.equal(seen.length, 2);
    assert.notEqual(src.pods()[0]!.metadata!.uid, uid);
    writeFileSync(join(dir, 'manifests', 'db.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }));
    await src.scan();
    assert.deepEqual(seen.at(-1), ['db-n1', 'web-n1']);
    unlinkSync(join(dir, 'manifests', 'web.yaml'));
    await src.scan();
    assert.deepEqual(seen.at(-1), ['db-n1']);
    await src.dispose();
    assert.equal(clock.waiters, 0);
  });

  test('fs.watch picks a new file up without waiting for the rescan', async () => {
    const d = join(dir, 'watched');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(d);
    let resolve!: (names: string[]) => void;
    const got = new Promise<string[]>((r) => { resolve = r; });
    const src = new StaticPodSource({ dir: d, nodeName: 'n1', rescanMs: 3_600_000, onChange: (pods) => resolve(pods.map((p) => p.metadata!.name!)) });
    await src.start();
    writeFileSync(join(d, 'web.yaml'), WEB);
    const timeout = setTimeout(() => resolve(['timed out']), 5000);
    assert.deepEqual(await got, ['web-n1']);
    clearTimeout(timeout);
    await src.dispose();
  });
});
