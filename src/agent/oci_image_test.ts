// OCI archives tkube builds: digests that match their blobs, names in the index annotations,
// identical bytes on every build, the pause program's behaviour, and the busybox rootfs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { buildOciArchive, MEDIA_TYPE } from './oci_image.ts';
import { buildPauseImage, pauseElf, PAUSE_IMAGE } from './pause_image.ts';
import { busyboxFiles, buildBusyboxImage, TEST_IMAGE } from './busybox_image.ts';
import { readTarMembers } from './tar.ts';

async function members(tar: Buffer): Promise<Map<string, Buffer>> {
  return readTarMembers(Readable.from([tar]), () => true);
}

function digest(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

test('an OCI archive holds a layout whose digests match its blobs', async () => {
  const img = buildOciArchive({ name: 'example.com/app:v1', files: [{ name: 'hello', type: 'file', data: Buffer.from('hi') }], cmd: ['/hello'] });
  const m = await members(img.tar);
  assert.deepEqual(JSON.parse(m.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(m.get('index.json')!.toString());
  assert.equal(index.mediaType, MEDIA_TYPE.index);
  const desc = index.manifests[0];
  assert.deepEqual(desc.annotations, { 'io.containerd.image.name': 'example.com/app:v1', 'org.opencontainers.image.ref.name': 'v1' });
  assert.equal(desc.digest, img.manifestDigest);
  const blob = (d: string): Buffer => m.get(`blobs/sha256/${d.slice(7)}`)!;
  const manifestBytes = blob(desc.digest);
  assert.equal(digest(manifestBytes), desc.digest);
  assert.equal(manifestBytes.length, desc.size);
  const manifest = JSON.parse(manifestBytes.toString());
  assert.equal(manifest.config.digest, img.configDigest);
  const config = JSON.parse(blob(manifest.config.digest).toString());
  assert.deepEqual(config.config.Cmd, ['/hello']);
  assert.equal(config.os, 'linux');
  const layer = blob(manifest.layers[0].digest);
  assert.equal(digest(layer), manifest.layers[0].digest);
  assert.equal(manifest.layers[0].mediaType, MEDIA_TYPE.layerGzip);
  assert.equal(digest(gunzipSync(layer)), config.rootfs.diff_ids[0]);
  const rootfs = await members(gunzipSync(layer));
  assert.equal(rootfs.get('hello')?.toString(), 'hi');
});

test('building an image twice gives the same bytes', () => {
  assert.deepEqual(buildPauseImage().tar, buildPauseImage().tar);
  assert.equal(buildBusyboxImage().manifestDigest, buildBusyboxImage().manifestDigest);
});

test('image names are checked', () => {
  assert.throws(() => buildOciArchive({ name: 'Bad Name', files: [] }), /OciImageSpec.name/);
});

test('the pause ELF sleeps until SIGTERM and then exits 0 (x86-64; elsewhere it is refused)', async () => {
  if (process.arch !== 'x64') {
    assert.throws(() => buildPauseImage({ variant: 'elf' }), /x86-64 only/);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tkube-pause-'));
  try {
    const bin = join(dir, 'pause');
    writeFileSync(bin, pauseElf(), { mode: 0o755 });
    assert.equal(pauseElf().length, 264);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(bin, [], { stdio: 'ignore' });
      const exit = new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
      // it is ready once the kernel shows its handlers installed
      const deadline = Date.now() + 5000;
      for (;;) {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const caught = BigInt('0x' + /^SigCgt:\s*(\w+)/m.exec(status)![1]);
        if ((caught & (1n << 14n)) !== 0n) break; // SIGTERM handler in place
        assert.ok(Date.now() < deadline, 'pause never installed its signal handlers');
        await new Promise((r) => setTimeout(r, 10));
      }
      child.kill(sig);
      assert.deepEqual(await exit, [0, null], sig);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pause image runs /pause; the busybox variant runs sh under a trap', async () => {
  const elf = await members(buildPauseImage().tar);
  const index = JSON.parse(elf.get('index.json')!.toString());
  assert.equal(index.manifests[0].annotations['io.containerd.image.name'], PAUSE_IMAGE);
  const bb = buildPauseImage({ variant: 'busybox', name: 'tkube.local/pause-bb:1' });
  const m = await members(bb.tar);
  const manifest = JSON.parse(m.get(`blobs/sha256/${JSON.parse(m.get('index.json')!.toString()).manifests[0].digest.slice(7)}`)!.toString());
  const config = JSON.parse(m.get(`blobs/sha256/${manifest.config.digest.slice(7)}`)!.toString());
  assert.equal(config.config.Entrypoint[0], '/bin/sh');
  assert.match(config.config.Entrypoint[2], /trap 'exit 0' TERM INT/);
});

test('the busybox rootfs has the binary, applet links, users and a sticky /tmp', () => {
  const files = busyboxFiles();
  const byName = new Map(files.map((f) => [f.name, f]));
  assert.equal(byName.get('bin/busybox')?.mode, 0o755);
  for (const applet of ['bin/sh', 'bin/ls', 'bin/cat', 'bin/echo', 'bin/sleep', 'usr/bin/wget', 'usr/sbin/httpd', 'usr/bin/nc', 'sbin/ip', 'usr/bin/nslookup', 'bin/true', 'bin/false', 'bin/hostname', 'bin/date', 'bin/grep', 'usr/bin/env', 'usr/bin/id', 'bin/tar']) {
    const f = byName.get(applet);
    assert.equal(f?.type, 'symlink', applet);
    assert.equal(f?.linkname, '/bin/busybox');
  }
  assert.equal(byName.get('tmp/')?.mode, 0o1777);
  assert.match(Buffer.from(byName.get('etc/passwd')!.data!).toString(), /^root:x:0:0:.*\nnobody:x:65534:65534:/);
  assert.equal(TEST_IMAGE, 'tkube.local/busybox:stable');
});
