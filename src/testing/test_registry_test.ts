// The test registry speaks enough of the distribution API for containerd: /v2/, manifests by tag
// and digest, blobs, HEAD without bodies, and a Basic challenge when credentials are missing or wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOciArchive } from '../agent/oci_image.ts';
import { startTestRegistry } from './test_registry.ts';

test('the test registry serves an archive\'s manifest and blobs behind Basic auth', async () => {
  const image = buildOciArchive({ name: 'tkube.local/tiny:v1', files: [{ name: 'hello', type: 'file', data: Buffer.from('hi\n') }], architecture: 'amd64' });
  const reg = await startTestRegistry({ images: [{ name: 'team/tiny', tag: 'v1', archive: image.tar }], auth: { username: 'u', password: 'p' } });
  try {
    const base = `http://${reg.host}`;
    const good = { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` };
    const bad = { authorization: `Basic ${Buffer.from('u:wrong').toString('base64')}` };

    const anon = await fetch(`${base}/v2/`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="tkube-test-registry"');
    assert.equal((await anon.json() as { errors: { code: string }[] }).errors[0]!.code, 'UNAUTHORIZED');
    assert.equal((await fetch(`${base}/v2/`, { headers: bad })).status, 401);
    assert.equal((await fetch(`${base}/v2/`, { headers: good })).status, 200);

    const byTag = await fetch(`${base}/v2/team/tiny/manifests/v1`, { headers: good });
    assert.equal(byTag.status, 200);
    assert.equal(byTag.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(byTag.headers.get('docker-content-digest'), image.manifestDigest);
    const manifest = await byTag.json() as { config: { digest: string }; layers: { digest: string; size: number }[] };
    assert.equal(manifest.config.digest, image.configDigest);
    const head = await fetch(`${base}/v2/team/tiny/manifests/${image.manifestDigest}`, { method: 'HEAD', headers: good });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')) > 0, true);
    const layer = await fetch(`${base}/v2/team/tiny/blobs/${manifest.layers[0]!.digest}`, { headers: good });
    assert.equal((await layer.arrayBuffer()).byteLength, manifest.layers[0]!.size);

    assert.equal((await fetch(`${base}/v2/team/tiny/manifests/v2`, { headers: good })).status, 404);
    assert.equal((await fetch(`${base}/v2/other/blobs/${image.configDigest}`, { headers: good })).status, 404);
    assert.equal((await fetch(`${base}/v2/team/tiny/blobs/uploads/`, { method: 'POST', headers: good })).status, 405);
    assert.equal(reg.count('GET', '/v2/team/tiny/manifests/', 200), 1);
    assert.equal(reg.count('GET', '/v2/', 401), 2);
    assert.deepEqual(reg.requests.map((r) => r.user ?? '-').slice(0, 3), ['-', 'u', 'u']);
  } finally {
    await reg.stop();
  }
});
