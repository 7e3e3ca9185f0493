import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Container } from '../../api/types/core_v1.ts';
import { createCertificateAuthority, issueCertificate } from '../../base/pki.ts';
import { canonicalHeaderKey, doHttpProbe, httpGet, newRequestForHttpGet, resolveContainerPort, userAgent } from './http_probe.ts';

const container: Container = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }] };

describe('http probe requests', () => {
  test('named ports resolve from the container; numbers written as strings work; bad names fail as upstream', () => {
    assert.equal(resolveContainerPort('http', container), 8080);
    assert.equal(resolveContainerPort('9090', container), 9090);
    assert.equal(resolveContainerPort(80, container), 80);
    assert.throws(() => resolveContainerPort('nope', container), /strconv.Atoi: parsing "nope": invalid syntax/);
    assert.throws(() => resolveContainerPort(70000, container), /invalid port number: 70000/);
  });

  test('the request goes to the pod IP with kube-probe/1.32, Accept */* and canonical header names', () => {
    const req = newRequestForHttpGet({ port: 'http', path: '/healthz?x=1', httpHeaders: [{ name: 'x-custom', value: 'a' }, { name: 'X-Custom', value: 'b' }] }, container, '10.42.0.5', 'probe');
    assert.equal(req.url.href, 'http://10.42.0.5:8080/healthz?x=1');
    assert.equal(userAgent('probe'), 'kube-probe/1.32');
    assert.deepEqual(req.headers.get('User-Agent'), ['kube-probe/1.32']);
    assert.deepEqual(req.headers.get('Accept'), ['*/*']);
    assert.deepEqual(req.headers.get('X-Custom'), ['a', 'b']);
    assert.equal(canonicalHeaderKey('user-agent'), 'User-Agent');
  });

  test('host, scheme and headers given by the action win; an empty Accept is dropped; IPv6 hosts get brackets', () => {
    const req = newRequestForHttpGet({ port: 443, scheme: 'HTTPS', host: 'example.test', httpHeaders: [{ name: 'User-Agent', value: 'mine' }, { name: 'Accept', value: '' }] }, container, '10.42.0.5', 'lifecycle');
    assert.equal(req.url.href, 'https://example.test/');
    assert.deepEqual(req.headers.get('User-Agent'), ['mine']);
    assert.equal(req.headers.has('Accept'), false);
    assert.equal(newRequestForHttpGet({ port: 80, path: 'healthz' }, container, 'fd00::5', 'probe').url.href, 'http://[fd00::5]/healthz');
    assert.deepEqual(newRequestForHttpGet({ port: 80 }, container, '10.0.0.1', 'lifecycle').headers.get('User-Agent'), ['kube-lifecycle/1.32']);
  });
});

describe('http probe against a local server', () => {
  let server: http.Server;
  let port = 0;
  const seen: http.IncomingHttpHeaders[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/ok': res.end('fine'); break;
        case '/fail': res.statusCode = 503; res.end('down'); break;
        case '/hop': res.writeHead(302, { location: `/hop${Number(url.searchParams.get('n') ?? 0) < 3 ? `?n=${Number(url.searchParams.get('n') ?? 0) + 1}` : '-done'}` }).end(); break;
        case '/hop-done': res.end('landed'); break;
        case '/loop': res.writeHead(301, { location: '/loop' }).end(); break;
        case '/elsewhere': res.writeHead(302, { location: `http://localhost:${port}/ok` }).end('moved'); break;
        case '/slow': setTimeout(() => res.end('late'), 3000).unref(); break;
        case '/stall': res.write('partial'); break;
        case '/big': res.end('x'.repeat(100_000)); break;
        default: res.statusCode = 404; res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const probe = (path: string, timeoutMs = 1000, headers: { name: string; value: string }[] = []) =>
    doHttpProbe(newRequestForHttpGet({ port, path, httpHeaders: headers }, container, '127.0.0.1', 'probe'), timeoutMs);

  test('2xx is success with the body as output, and the server sees upstream headers', async () => {
    seen.length = 0;
    assert.deepEqual(await probe('/ok', 1000, [{ name: 'Host', value: 'probe.example' }]), { outcome: 'success', output: 'fine' });
    assert.equal(seen[0]?.['user-agent'], 'kube-probe/1.32');
    assert.equal(seen[0]?.['accept'], '*/*');
    assert.equal(seen[0]?.['host'], 'probe.example');
    assert.equal(seen[0]?.['connection'], 'close');
  });

  test('a 503 fails with the status code, not the body', async () => {
    assert.deepEqual(await probe('/fail'), { outcome: 'failure', output: 'HTTP probe failed with statuscode: 503' });
  });

  test('same-host redirects are followed; too many of them fail', async () => {
    assert.deepEqual(await probe('/hop'), { outcome: 'success', output: 'landed' });
    const r = await probe('/loop');
    assert.equal(r.outcome, 'failure');
    assert.equal(r.output, `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects`);
  });

  test('a redirect to another host is not followed and is a warning', async () => {
    assert.deepEqual(await probe('/elsewhere'), { outcome: 'warning', output: 'Probe terminated redirects, Response body: moved' });
  });

  test('a slow answer times out with Go\'s words; a closed port is refused', async () => {
    const stalled = await probe('/stall', 200);
    assert.equal(stalled.error?.message, 'context deadline exceeded (Client.Timeout or context cancellation while reading body)', 'a body that stalls makes the run an error');
    const slow = await probe('/slow', 200);
    assert.deepEqual(slow, { outcome: 'failure', output: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await doHttpProbe(newRequestForHttpGet({ port: closedPort, path: '/x' }, container, '127.0.0.1', 'probe'), 1000);
    assert.deepEqual(refused, { outcome: 'failure', output: `Get "http://127.0.0.1:${closedPort}/x": dial tcp 127.0.0.1:${closedPort}: connect: connection refused` });
  });

  test('the kubelet stopping ends a probe waiting for its answer at once', async () => {
    const abort = new AbortController();
    const started = performance.now();
    const run = doHttpProbe(newRequestForHttpGet({ port, path: '/slow' }, container, '127.0.0.1', 'probe'), 60_000, abort.signal);
    setTimeout(() => abort.abort(), 50);
    assert.equal((await run).outcome, 'failure');
    assert.ok(performance.now() - started < 2000, 'it did not wait for the answer or the timeout');
  });

  test('only the first 10 KiB of a body are read', async () => {
    const r = await probe('/big');
    assert.equal(r.outcome, 'success');
    assert.equal(r.output.length, 10 * 1024);
  });

  test('HTTPS to a plain HTTP server says so (what lifecycle hooks fall back on)', async () => {
    await assert.rejects(httpGet(newRequestForHttpGet({ port, path: '/ok', scheme: 'HTTPS' }, container, '127.0.0.1', 'lifecycle'), { timeoutMs: 1000 }),
      (err: Error & { plainHttpAnswer?: boolean }) => err.plainHttpAnswer === true && /server gave HTTP response to HTTPS client/.test(err.message));
  });
});

describe('https probe', () => {
  test('certificates are not verified', async () => {
    const ca = await createCertificateAuthority({ commonName: 'probe-test-ca', days: 1 });
    const cert = await issueCertificate({ ca, commonName: 'pod', ips: ['127.0.0.1'], usages: 'server', days: 1 });
    const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('secure'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const r = await doHttpProbe(newRequestForHttpGet({ port, path: '/', scheme: 'HTTPS' }, container, '127.0.0.1', 'probe'), 2000);
      assert.deepEqual(r, { outcome: 'success', output: 'secure' });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
