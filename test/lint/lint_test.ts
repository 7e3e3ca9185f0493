// The lint step as tests: the TypeScript compiler (strict) and the layering rules of
// ARCHITECTURE.md (dependency-cruiser) must both pass on the whole tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

test('the tree typechecks under strict TypeScript', async () => {
  const r = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);
  assert.equal(r.code, 0, `tsc failed:\n${r.out.slice(0, 8000)}`);
});

test('imports respect the layering rules', async () => {
  const r = await run(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', 'src', '--config', '.dependency-cruiser.cjs']);
  assert.equal(r.code, 0, `layering violations:\n${r.out.slice(0, 8000)}`);
});
