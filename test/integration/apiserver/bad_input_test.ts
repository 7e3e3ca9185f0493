// Bad input gets a metav1.Status with upstream's reason and a clear message, never a 5xx, and
// nothing is half-written. Ends with a randomized mutation run over valid objects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.stop();
});

function status(body: string): Record<string, unknown> {
  const st = JSON.parse(body) as Record<string, unknown>;
  assert.equal(st['kind'], 'Status');
  assert.equal(st['status'], 'Failure');
  return st;
}

const cm = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' }, ...extra });

describe('bad input', () => {
  test('malformed JSON is a 400', async () => {
    const r = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: '{"apiVersion": "v1", "kind": ' });
    assert.equal(r.status, 400);
    assert.equal(status(r.body)['reason'], 'BadRequest');
  });

  test('malformed YAML is a 400', async () => {
    const r = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: 'kind: [unclosed', headers: { 'Content-Type': 'application/yaml' } });
    assert.equal(r.status, 400);
  });

  test('a body whose apiVersion or namespace disagrees with the URL is a 400', async () => {
    const wrongVersion = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x' } }) });
    assert.equal(wrongVersion.status, 400);
    assert.match(String(status(wrongVersion.body)['message']), /does not match the expected API version/);
    const wrongNs = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'kube-system' } }) });
    assert.equal(wrongNs.status, 400);
    assert.match(String(status(wrongNs.body)['message']), /the namespace of the provided object does not match the namespace sent on the request/);
  });

  test('unknown fields: Strict rejects, Warn warns, Ignore drops', async () => {
    const body = cm('strict-x', { spec: { foo: 1 } });
    const strict = await s.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', { body });
    assert.equal(strict.status, 400);
    assert.equal(status(strict.body)['message'], 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec"');
    const warn = await s.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', { body });
    assert.equal(warn.status, 201);
    assert.equal(warn.headers['warning'], '299 - "unknown field \\"spec\\""');
    const ignore = await s.request('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', { body: cm('strict-y', { spec: { foo: 1 } }) });
    assert.equal(ignore.status, 201);
    assert.equal(ignore.headers['warning'], undefined);
  });

  test('an invalid name is a 422 with the field path', async () => {
    const r = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: cm('Not_Valid') });
    assert.equal(r.status, 422);
    const st = status(r.body);
    assert.equal(st['reason'], 'Invalid');
    const causes = (st['details'] as { causes: Array<{ field: string; reason: string }> }).causes;
    assert.equal(causes[0]!.field, 'metadata.name');
    assert.equal(causes[0]!.reason, 'FieldValueInvalid');
  });

  test('a body over 3 MiB is a 413 and nothing is stored', async () => {
    const big = cm('too-big', { data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } });
    const r = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: big });
    assert.equal(r.status, 413);
    assert.equal(status(r.body)['reason'], 'RequestEntityTooLarge');
    const get = await s.request('GET', '/api/v1/namespaces/default/configmaps/too-big');
    assert.equal(get.status, 404);
  });

  test('an unknown resource is a 404 with upstream message', async () => {
    const r = await s.request('GET', '/api/v1/frobnicators');
    assert.equal(r.status, 404);
    assert.equal(status(r.body)['message'], 'the server could not find the requested resource');
    const g = await s.request('GET', '/apis/nope.example.com/v1/things');
    assert.equal(g.status, 404);
  });

  test('a wrong verb is a 405', async () => {
    const r = await s.request('PUT', '/api/v1/namespaces/default/configmaps', { body: cm('x') });
    assert.equal(r.status, 405);
    assert.equal(status(r.body)['reason'], 'MethodNotAllowed');
  });

  test('an unsupported body media type is a 415', async () => {
    const r = await s.request('POST', '/api/v1/namespaces/default/configmaps', { body: cm('x'), headers: { 'Content-Type': 'text/csv' } });
    assert.equal(r.status, 415);
  });

  test('a bad label selector is a 400', async () => {
    const r = await s.request('GET', '/api/v1/pods?labelSelector=' + encodeURIComponent('a in (b'));
    assert.equal(r.status, 400);
  });

  test('unauthenticated requests are a 401, health is open', async () => {
    const r = await s.request('GET', '/api/v1/namespaces', { anonymous: true });
    assert.equal(r.status, 401);
    assert.equal(status(r.body)['reason'], 'Unauthorized');
    assert.equal((await s.request('GET', '/healthz', { anonymous: true })).body, 'ok');
    const v = await s.request('GET', '/version', { anonymous: true });
    assert.equal(v.json()['minor'], '32');
  });
});

// A deterministic pseudo-random generator, so a failure can be replayed.
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

const SEEDS: Array<[string, Record<string, unknown>]> = [
  ['/api/v1/namespaces/fuzz/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: 'b' }] }] } }],
  ['/apis/apps/v1/namespaces/fuzz/deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 2, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } }],
  ['/api/v1/namespaces/fuzz/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 }], type: 'NodePort' } }],
  ['/api/v1/namespaces/fuzz/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } }],
  ['/apis/batch/v1/namespaces/fuzz/cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule: '*/1 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } }],
];

const JUNK: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, '', 'x', '∞', 'a'.repeat(300), [], [1, 'a', null], {}, { '': 1 }, { $ref: 'x' }];

function mutate(value: unknown, r: () => number, depth = 0): unknown {
  if (depth > 6) return value;
  if (r() < 0.15) return JUNK[Math.floor(r() * JUNK.length)];
  if (Array.isArray(value)) {
    const out = value.map((v) => mutate(v, r, depth + 1));
    if (r() < 0.1) out.push(JUNK[Math.floor(r() * JUNK.length)]);
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (r() < 0.08) continue;
      out[r() < 0.03 ? k + 'X' : k] = mutate(v, r, depth + 1);
    }
    return out;
  }
  return value;
}

describe('randomized bad input', () => {
  test('thousands of mutated objects never get a 5xx and the server stays up', async () => {
    await s.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz' } }) });
    const r = rng(20261126);
    const counts = new Map<number, number>();
    const CASES = 2500;
    for (let i = 0; i < CASES; i++) {
      const [path, seed] = SEEDS[i % SEEDS.length]!;
      const obj = mutate(structuredClone(seed), r) as Record<string, unknown>;
      if (obj && typeof obj === 'object' && !Array.isArray(obj) && r() < 0.7) {
        const m = (obj['metadata'] && typeof obj['metadata'] === 'object' ? obj['metadata'] : {}) as Record<string, unknown>;
        obj['metadata'] = { ...m, name: `f${i}` };
      }
      const method = r() < 0.8 ? 'POST' : 'PUT';
      const target = method === 'POST' ? path : `${path}/f${i}`;
      const body = r() < 0.02 ? JSON.stringify(obj).slice(0, Math.floor(r() * 50)) : JSON.stringify(obj);
      const res = await s.request(method, target + (r() < 0.3 ? '?fieldValidation=Strict' : ''), { body });
      counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500, `case ${i}: ${method} ${target} answered ${res.status}: ${res.body}\nbody: ${body.slice(0, 2000)}`);
      if (res.status >= 400) status(res.body);
    }
    assert.equal((await s.request('GET', '/healthz')).status, 200);
    // Both outcomes occurred: the mutations are neither all valid nor all rejected.
    assert.ok([...counts.keys()].some((c) => c < 300));
    assert.ok([...counts.keys()].some((c) => c >= 400));
  });
});
