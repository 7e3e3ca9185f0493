// A body of another kind than the URL's resource is refused as upstream's decoder refuses it: a
// registered kind cannot be converted into the URL's type, an unknown kind is not registered, and
// a same-kind body of another version fails the API version check.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let ts: TestServer;

before(async () => {
  ts = await startTestServer();
});

after(async () => {
  await ts?.stop();
});

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }], selector: { app: 'web' } } };

describe('a body whose kind does not match the URL', () => {
  test('a Service POSTed to pods is a 400 naming the failed conversion', async () => {
    const r = await ts.request('POST', '/api/v1/namespaces/default/pods?fieldValidation=Strict', { body: JSON.stringify(service) });
    assert.equal(r.status, 400);
    const st = r.json<{ reason: string; message: string; code: number }>();
    assert.equal(st.reason, 'BadRequest');
    assert.equal(st.message, 'Service in version "v1" cannot be handled as a Pod: converting (v1.Service) to (core.Pod): unknown conversion');
  });

  test('a Deployment PUT to a ConfigMap names its own package version', async () => {
    const body = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cm', namespace: 'default' } };
    const r = await ts.request('PUT', '/api/v1/namespaces/default/configmaps/cm', { body: JSON.stringify(body) });
    assert.equal(r.status, 400);
    assert.equal(r.json<{ message: string }>().message, 'Deployment in version "v1" cannot be handled as a ConfigMap: converting (v1.Deployment) to (core.ConfigMap): unknown conversion');
  });

  test('a kind the scheme does not know is not registered', async () => {
    const body = { apiVersion: 'v1', kind: 'pod', metadata: { name: 'p' } };
    const r = await ts.request('POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(body) });
    assert.equal(r.status, 400);
    assert.equal(r.json<{ message: string }>().message,
      'pod in version "v1" cannot be handled as a Pod: no kind "pod" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"');
  });

  test('kubectl create --raw prints the same words', async () => {
    const r = await ts.kubectl(['create', '--raw', '/api/v1/namespaces/default/pods', '-f', '-'], { input: JSON.stringify(service) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot be handled as a Pod: converting \(v1\.Service\) to \(core\.Pod\): unknown conversion/);
  });

  test('a same-kind body of another group version still fails the API version check', async () => {
    const body = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e' } };
    const r = await ts.request('POST', '/api/v1/namespaces/default/events', { body: JSON.stringify(body) });
    assert.equal(r.status, 400);
    assert.equal(r.json<{ message: string }>().message, 'the API version in the data (events.k8s.io/v1) does not match the expected API version (v1)');
  });
});
