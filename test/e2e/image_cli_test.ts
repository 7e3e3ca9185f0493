// `tkube image import|ls|rm` as root, on a data dir of its own (a temporary containerd is started
// for each command when no server runs there).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, timeout: 120_000 }, (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: String(out), err: String(err) }));
  });
}

test('tkube image import, ls and rm on a node data dir', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tkube-img-'));
  dirs.push(dir);
  const archive = join(dir, 'busybox.oci.tar');
  const built = await run(process.execPath, ['--import', join(root, 'node_modules/tsx/dist/loader.mjs'), 'scripts/build_test_image.ts', '--out', archive]);
  assert.equal(built.code, 0, built.err);
  const data = join(dir, 'data');
  const imp = await run(join(root, 'tkube'), ['image', 'import', archive, '--data-dir', data]);
  assert.equal(imp.code, 0, imp.err);
  assert.match(imp.out, /^imported tkube\.local\/busybox:stable$/m);
  const ls = await run(join(root, 'tkube'), ['image', 'ls', '--data-dir', data]);
  assert.match(ls.out, /^tkube\.local\/busybox\s+stable\s+[0-9a-f]{13}\s+/m);
  const rmOut = await run(join(root, 'tkube'), ['image', 'rm', 'tkube.local/busybox:stable', '--data-dir', data]);
  assert.equal(rmOut.code, 0, rmOut.err);
  const after2 = await run(join(root, 'tkube'), ['image', 'ls', '--data-dir', data]);
  assert.doesNotMatch(after2.out, /busybox/);
  const missing = await run(join(root, 'tkube'), ['image', 'import', join(dir, 'nope.tar'), '--data-dir', data]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /no such file/);
});
