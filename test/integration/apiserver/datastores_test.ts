// The API server on each datastore (SQLite, etcd, memory): the same scenario of writes, conflicts,
// lists, paginated lists and a watch resumed from a list, driven by kubectl and raw requests.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { startEtcd } from '../../../src/testing/etcd.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function scenario(s: TestServer): Promise<void> {
  const mk = await s.kubectl(['create', 'namespace', 'ds']);
  assert.equal(mk.code, 0, mk.stderr);
  for (let i = 0; i < 12; i++) {
    const r = await s.request('POST', '/api/v1/namespaces/ds/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${String(i).padStart(2, '0')}` }, data: { i: String(i) } }) });
    assert.equal(r.status, 201, r.body);
  }
  // Pagination keeps the snapshot even when a write lands between pages.
  const p1 = (await s.request('GET', '/api/v1/namespaces/ds/configmaps?limit=5')).json<{ metadata: { continue: string; resourceVersion: string }; items: unknown[] }>();
  assert.equal(p1.items.length, 5);
  await s.request('POST', '/api/v1/namespaces/ds/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c99' } }) });
  const p2 = (await s.request('GET', `/api/v1/namespaces/ds/configmaps?limit=5&continue=${encodeURIComponent(p1.metadata.continue)}`)).json<{ metadata: { continue?: string; resourceVersion: string }; items: unknown[] }>();
  assert.equal(p2.metadata.resourceVersion, p1.metadata.resourceVersion);
  const p3 = (await s.request('GET', `/api/v1/namespaces/ds/configmaps?limit=5&continue=${encodeURIComponent(p2.metadata.continue!)}`)).json<{ metadata: { continue?: string }; items: unknown[] }>();
  assert.equal(p3.items.length, 2, 'the write after the first page is not in the snapshot');
  assert.equal(p3.metadata.continue, undefined);
  // kubectl pages through everything (limit=500) and sees all 13.
  const names = (await s.kubectl(['get', 'cm', '-n', 'ds', '-o', 'name', '--chunk-size=4'])).stdout.trim().split('\n').filter((n) => n.startsWith('configmap/c'));
  assert.equal(names.length, 13);
  // Optimistic concurrency.
  const cur = (await s.request('GET', '/api/v1/namespaces/ds/configmaps/c00')).json<Record<string, any>>();
  const ok = await s.request('PUT', '/api/v1/namespaces/ds/configmaps/c00', { body: JSON.stringify({ ...cur, data: { i: 'x' } }) });
  assert.equal(ok.status, 200);
  const stale = await s.request('PUT', '/api/v1/namespaces/ds/configmaps/c00', { body: JSON.stringify({ ...cur, data: { i: 'y' } }) });
  assert.equal(stale.status, 409);
  const del = await s.kubectl(['delete', 'cm', '-n', 'ds', '--all']);
  assert.equal(del.code, 0, del.stderr);
  const left = await s.kubectl(['get', 'cm', '-n', 'ds', '-o', 'name']);
  assert.doesNotMatch(left.stdout, /configmap\/c/);
}

describe('datastores', () => {
  test('memory', async () => {
    const s = await startTestServer();
    cleanups.push(() => s.stop());
    await scenario(s);
  });

  test('sqlite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tkube-ds-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const s = await startTestServer({ endpoint: `sqlite://${join(dir, 'state.db')}` });
    cleanups.push(() => s.stop());
    await scenario(s);
  });

  test('etcd', async () => {
    const e = await startEtcd();
    cleanups.push(() => e.stop());
    const s = await startTestServer({ endpoint: e.endpoint });
    cleanups.push(() => s.stop());
    await scenario(s);
  });
});
