// `tkube server --kubelet-arg`: an unknown kubelet flag stops the server before it starts anything,
// with a message naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function tkube(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(join(root, 'tkube'), args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

test('tkube server --kubelet-arg nosuch=1 fails fast naming the flag', async () => {
  const dataDir = join(await mkdtemp(join(tmpdir(), 'tkube-kubelet-arg-')), 'data');
  try {
    const r = await tkube(['server', '--data-dir', dataDir, '--https-port', '1', '--bind-address', '127.0.0.1', '--kubelet-arg', 'nosuch=1']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /tkube server: --kubelet-arg nosuch=1: unknown or unsupported kubelet flag --nosuch/);
    assert.equal(existsSync(dataDir), false, 'nothing was started or written');
  } finally {
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  }
});

test('tkube server --help documents --kubelet-arg', async () => {
  const r = await tkube(['server', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--kubelet-arg <key=value>/);
});
