// Image names: docker-style normalization, names read from OCI and docker-save archives (plain or
// gzipped), and the `tkube image ls` table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { archiveImageNames, formatImageList, normalizeImageName } from './images.ts';
import { buildOciArchive } from './oci_image.ts';
import { writeTar } from './tar.ts';

test('image names are normalized as docker and containerd do', () => {
  assert.equal(normalizeImageName('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeImageName('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalizeImageName('me/app'), 'docker.io/me/app:latest');
  assert.equal(normalizeImageName('tkube.local/pause:3.10'), 'tkube.local/pause:3.10');
  assert.equal(normalizeImageName('localhost/app'), 'localhost/app:latest');
  assert.equal(normalizeImageName('registry:5000/app'), 'registry:5000/app:latest');
  assert.equal(normalizeImageName('quay.io/a/b@sha256:' + 'a'.repeat(64)), 'quay.io/a/b@sha256:' + 'a'.repeat(64));
  assert.equal(normalizeImageName('sha256:' + 'b'.repeat(64)), 'sha256:' + 'b'.repeat(64));
});

test('archive names come from OCI annotations and docker RepoTags', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-img-'));
  try {
    const oci = join(dir, 'oci.tar');
    writeFileSync(oci, buildOciArchive({ name: 'example.com/app:v1', files: [] }).tar);
    assert.deepEqual(await archiveImageNames(oci), { format: 'oci', names: ['example.com/app:v1'], bareTags: [] });

    const gz = join(dir, 'oci.tar.gz');
    writeFileSync(gz, gzipSync(buildOciArchive({ name: 'example.com/app:v2', files: [] }).tar));
    assert.deepEqual((await archiveImageNames(gz)).names, ['example.com/app:v2']);

    const index = (annotations: Record<string, string>): Buffer => Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: 'sha256:x', annotations }] }));
    const refOnly = join(dir, 'ref.tar');
    writeFileSync(refOnly, writeTar([{ name: 'oci-layout', type: 'file', data: Buffer.from('{}') }, { name: 'index.json', type: 'file', data: index({ 'org.opencontainers.image.ref.name': 'busybox:1' }) }]));
    assert.deepEqual((await archiveImageNames(refOnly)).names, ['docker.io/library/busybox:1']);
    const tagOnly = join(dir, 'tag.tar');
    writeFileSync(tagOnly, writeTar([{ name: 'index.json', type: 'file', data: index({ 'org.opencontainers.image.ref.name': 'v3' }) }]));
    assert.deepEqual(await archiveImageNames(tagOnly), { format: 'oci', names: [], bareTags: ['v3'] });

    const docker = join(dir, 'docker.tar');
    writeFileSync(docker, writeTar([
      { name: 'manifest.json', type: 'file', data: Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: ['nginx:1.27', 'me/web:latest'], Layers: [] }])) },
    ]));
    assert.deepEqual(await archiveImageNames(docker), { format: 'docker', names: ['docker.io/library/nginx:1.27', 'docker.io/me/web:latest'], bareTags: [] });

    const neither = join(dir, 'x.tar');
    writeFileSync(neither, writeTar([{ name: 'readme', type: 'file', data: Buffer.from('hi') }]));
    await assert.rejects(archiveImageNames(neither), /neither an OCI image layout/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the image table lists one row per tag, like crictl images', () => {
  const out = formatImageList([
    { id: 'sha256:0123456789abcdef0123', repoTags: ['tkube.local/busybox:latest'], repoDigests: [], size: 1_054_787 },
    { id: 'sha256:fedcba9876543210', repoTags: [], repoDigests: [], size: 891 },
  ]);
  assert.equal(out,
    'IMAGE                 TAG      IMAGE ID        SIZE\n' +
    'tkube.local/busybox   latest   0123456789abc   1.05MB\n' +
    '<none>                <none>   fedcba9876543   891B\n');
});
