// /openapi/v2 as gnostic protobuf: kubectl validates kinds the v3 documents lack (a v1 List from
// `kubectl get -o yaml`) against it, so `kubectl replace -f -` of a List must validate and succeed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

describe('OpenAPI v2 protobuf', () => {
  let ts: TestServer;
  before(async () => { ts = await startTestServer(); });
  after(async () => { await ts?.stop(); });

  test('is served with upstream content type and ETag, and 304 on If-None-Match', async () => {
    const r = await ts.request('GET', '/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    const etag = String(r.headers['etag']);
    assert.match(etag, /^"[0-9A-F]{128}"$/);
    const again = await ts.request('GET', '/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const bad = await ts.request('GET', '/openapi/v2', { headers: { Accept: 'application/xml' } });
    assert.equal(bad.status, 406);
  });

  test('kubectl replace -f - of a List validates against it and replaces every item', async () => {
    for (const n of ['a', 'b']) assert.equal((await ts.kubectl(['create', 'configmap', `list-${n}`, '--from-literal=x=1'])).code, 0);
    const list = await ts.kubectl(['get', 'configmap', 'list-a', 'list-b', '-o', 'yaml']);
    assert.match(list.stdout, /^kind: List$/m);
    const r = await ts.kubectl(['replace', '-f', '-'], { input: list.stdout.replaceAll('x: "1"', 'x: "2"') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'configmap/list-a replaced\nconfigmap/list-b replaced\n');
    const got = await ts.kubectl(['get', 'configmap', 'list-a', '-o', 'jsonpath={.data.x}']);
    assert.equal(got.stdout, '2');
  });

  test('client-side validation reports unknown fields of a List item as kubectl does', async () => {
    const list = (await ts.kubectl(['get', 'configmap', 'list-a', 'list-b', '-o', 'yaml'])).stdout;
    const r = await ts.kubectl(['replace', '-f', '-'], { input: list.replace('data:', 'bogusField: 1\n  data:') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bogusField/);
  });
});
