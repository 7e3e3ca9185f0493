// Runs the whole test suite with Node's built-in runner: unit tests beside the code
// (src/**/*_test.ts), then integration and e2e tests (test/**/*_test.ts).
// Usage: node scripts/test.mjs [unit|integration|e2e|PATH_SUBSTRING...]
// Prints the spec report and, last, one line "tests: N passed, N failed[, N skipped]".
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function walk(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('_test.ts')) out.push(relative(root, p));
  }
  return out;
}

const args = process.argv.slice(2);
let files = [...walk(join(root, 'src'), []).sort(), ...walk(join(root, 'test'), []).sort()];
if (args.includes('unit')) files = files.filter((f) => f.startsWith('src/'));
else if (args.includes('integration')) files = files.filter((f) => f.startsWith('test/integration/'));
else if (args.includes('e2e')) files = files.filter((f) => f.startsWith('test/e2e/'));
const filters = args.filter((a) => !['unit', 'integration', 'e2e'].includes(a));
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'tkube-test-'));
const tap = join(tmp, 'report.tap');
const child = spawn(process.execPath, [
  '--import', join(root, 'node_modules/tsx/dist/loader.mjs'),
  '--test', '--test-concurrency=2',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
], { cwd: root, stdio: 'inherit', env: { ...process.env, TKUBE_TEST: '1' } });

child.on('exit', (code, signal) => {
  let pass = 0, fail = 0, skip = 0, todo = 0;
  try {
    const text = readFileSync(tap, 'utf8');
    // The summary lines at the end of the TAP stream count every test of every file.
    const grab = (name) => Number((text.match(new RegExp(`^# ${name} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
    pass = grab('pass'); fail = grab('fail'); skip = grab('skipped'); todo = grab('todo');
  } catch { /* no report: the runner itself failed */ }
  rmSync(tmp, { recursive: true, force: true });
  const failed = code !== 0 || signal !== null;
  if (failed && fail === 0) fail = 1; // the runner failed outside any test (crash, leaked handle)
  console.log(`tests: ${pass} passed, ${fail} failed${skip + todo ? `, ${skip + todo} skipped` : ''}`);
  process.exit(failed ? 1 : 0);
});
