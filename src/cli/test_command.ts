// `tkube test`: makes sure the system packages the suite needs are there (installing them as root),
// then runs scripts/test.mjs, which runs every test with Node's built-in runner.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensurePackages, TEST_PACKAGES } from './prereqs.ts';

/** Runs the suite with optional filters; resolves to the exit code. */
export async function runTests(filters: string[]): Promise<number> {
  const missing = ensurePackages(TEST_PACKAGES);
  if (missing.length > 0) console.error(`tkube test: tests that need ${missing.join(', ')} will fail`);
  const script = fileURLToPath(new URL('../../scripts/test.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, ...filters], { stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals): void => { child.kill(sig); };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return await new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
