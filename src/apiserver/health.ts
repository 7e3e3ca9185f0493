// /healthz, /livez and /readyz with upstream's named checks: `?verbose` lists them, `?exclude=` skips
// some, `/readyz/<check>` runs one, and a failing check answers 500 with its reason withheld.
import type { Res } from './http_util.ts';
import { writeRaw } from './http_util.ts';

/** One named check; rejects (or returns an error) when unhealthy. */
export interface HealthCheck {
  readonly name: string;
  readonly check: () => Promise<void> | void;
}

/** The checks of each endpoint, in upstream's order. */
export function healthChecks(opts: { probeStorage: () => Promise<unknown>; shuttingDown: () => boolean }): Record<'healthz' | 'livez' | 'readyz', readonly HealthCheck[]> {
  const ping: HealthCheck = { name: 'ping', check: () => undefined };
  const log: HealthCheck = { name: 'log', check: () => undefined };
  const etcd: HealthCheck = { name: 'etcd', check: async () => { await opts.probeStorage(); } };
  // The server listens only after its watch caches and RBAC bootstrap are done, so these pass once it answers.
  const rbac: HealthCheck = { name: 'poststarthook/rbac/bootstrap-roles', check: () => undefined };
  const common = [ping, log, etcd, rbac];
  return {
    healthz: common,
    livez: common,
    readyz: [
      ping, log, etcd,
      { name: 'etcd-readiness', check: async () => { await opts.probeStorage(); } },
      { name: 'informer-sync', check: () => undefined },
      rbac,
      { name: 'shutdown', check: () => { if (opts.shuttingDown()) throw new Error('process is shutting down'); } },
    ],
  };
}

async function run(c: HealthCheck): Promise<Error | undefined> {
  try {
    await c.check();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

const PLAIN = 'text/plain; charset=utf-8';
const NOSNIFF = { 'X-Content-Type-Options': 'nosniff' };

/** Serves a health path; false when the path is not one (e.g. /readyz/unknown is left to 404). */
export async function serveHealth(res: Res, path: string, query: URLSearchParams, all: Record<'healthz' | 'livez' | 'readyz', readonly HealthCheck[]>): Promise<boolean> {
  const [root, ...rest] = path.slice(1).split('/');
  if (root !== 'healthz' && root !== 'livez' && root !== 'readyz') return false;
  const checks = all[root];
  if (rest.length > 0 && !(rest.length === 1 && rest[0] === '')) {
    const one = checks.find((c) => c.name === rest.join('/'));
    if (!one) return false;
    const err = await run(one);
    if (err) writeRaw(res, 500, `internal server error: ${err.message}\n`, PLAIN, NOSNIFF);
    else writeRaw(res, 200, 'ok', PLAIN, NOSNIFF);
    return true;
  }
  const excluded = new Set(query.getAll('exclude'));
  let out = '';
  let failed = false;
  for (const c of checks) {
    if (excluded.delete(c.name)) {
      out += `[+]${c.name} excluded: ok\n`;
      continue;
    }
    if (await run(c)) {
      out += `[-]${c.name} failed: reason withheld\n`;
      failed = true;
    } else {
      out += `[+]${c.name} ok\n`;
    }
  }
  if (excluded.size > 0) out += `warn: some health checks cannot be excluded: no matches for ${[...excluded].map((n) => JSON.stringify(n)).join(',')}\n`;
  if (failed) {
    writeRaw(res, 500, `${out}${root} check failed\n`, PLAIN, NOSNIFF);
    return true;
  }
  if (!query.has('verbose')) writeRaw(res, 200, 'ok', PLAIN, NOSNIFF);
  else writeRaw(res, 200, `${out}${root} check passed\n`, PLAIN, NOSNIFF);
  return true;
}
