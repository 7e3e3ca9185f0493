// End to end (root): the API server's pods/proxy and services/proxy reach a busybox httpd pod by
// its IP and through its Service's endpoints, with upstream's errors, and through `kubectl proxy`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

const SCRIPT = [
  'mkdir -p /www/dir /www/cgi-bin',
  'echo hello > /www/index.html',
  'echo ok > /www/healthz',
  'echo inside > /www/dir/index.html',
  `printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\necho method=$REQUEST_METHOD\\necho query=$QUERY_STRING\\necho uri=$HTTP_X_FORWARDED_URI\\ncat\\n' > /www/cgi-bin/env`,
  'chmod +x /www/cgi-bin/env',
  'exec httpd -f -p 8080 -h /www',
].join(' && ');

const MANIFEST = `
apiVersion: v1
kind: Pod
metadata: { name: web-0, labels: { app: web } }
spec:
  containers:
  - name: httpd
    image: ${TEST_IMAGE}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, ${JSON.stringify(SCRIPT)}]
    ports: [{ name: http, containerPort: 8080 }]
    readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: idle }
spec:
  selector: { app: nobody }
  ports: [{ port: 80 }]
`;

describe('pods/proxy and services/proxy (root)', { timeout: 120_000 }, () => {
  let c: E2ECluster;
  const ns = '/api/v1/namespaces/default';
  before(async () => {
    c = await startE2ECluster();
    await c.apply(MANIFEST);
    await c.waitRunning('web-0');
    await waitFor('web endpoints ready', async () => {
      const r = await c.ts.request('GET', `${ns}/endpoints/web`);
      return r.status === 200 && (r.json<{ subsets?: Array<{ addresses?: unknown[] }> }>().subsets?.[0]?.addresses?.length ?? 0) > 0;
    }, 30_000);
  });
  after(async () => { await c?.stop(); });

  test('kubectl get --raw through pods/NAME:PORT/proxy and services/NAME:PORT|PORTNAME/proxy', async () => {
    for (const path of [`${ns}/pods/web-0:8080/proxy/healthz`, `${ns}/pods/web-0/proxy/healthz`, `${ns}/services/web:80/proxy/healthz`, `${ns}/services/web:http/proxy/healthz`, `${ns}/services/http:web:http/proxy/healthz`]) {
      const r = await c.ts.kubectl(['get', '--raw', path]);
      assert.equal(r.code, 0, `${path}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), 'ok', path);
    }
    const index = await c.ts.kubectl(['get', '--raw', `${ns}/services/web:80/proxy/`]);
    assert.equal(index.stdout.trim(), 'hello', index.stderr);
  });

  test('methods, query and X-Forwarded-Uri reach the backend; the proxy root redirects; Location is rewritten', async () => {
    const post = await c.ts.request('POST', `${ns}/services/web:80/proxy/cgi-bin/env?a=1&b=two`, { body: 'payload' });
    assert.equal(post.status, 200, post.body);
    assert.match(post.body, /method=POST/);
    assert.match(post.body, /query=a=1&b=two/);
    assert.match(post.body, new RegExp(`uri=${ns}/services/web:80/proxy/cgi-bin/env`));
    assert.match(post.body, /payload/);
    const root = await c.ts.request('GET', `${ns}/services/web:http/proxy?x=1`);
    assert.equal(root.status, 301);
    assert.equal(root.headers['location'], `${ns}/services/web:http/proxy/?x=1`);
    const dir = await c.ts.request('GET', `${ns}/pods/web-0:8080/proxy/dir`);
    assert.ok(dir.status >= 300 && dir.status < 400, `${dir.status} ${dir.body}`);
    assert.match(String(dir.headers['location']), new RegExp(`^${ns}/pods/web-0:8080/proxy/dir/$`));
  });

  test("upstream's errors", async () => {
    const cases: Array<[string, number, string]> = [
      [`${ns}/services/idle:80/proxy/`, 503, 'no endpoints available for service "idle"'],
      [`${ns}/services/web:81/proxy/`, 503, 'no service port 81 found for service "web"'],
      [`${ns}/services/web:grpc/proxy/`, 503, 'no endpoints available for service "web:grpc"'],
      [`${ns}/services/nope:80/proxy/`, 404, 'services "nope" not found'],
      [`${ns}/services/nope:http/proxy/`, 404, 'endpoints "nope" not found'],
      [`${ns}/services/ftp:web:80/proxy/`, 400, 'invalid service request "ftp:web:80"'],
      [`${ns}/pods/nope:8080/proxy/`, 404, 'pods "nope" not found'],
      [`${ns}/pods/web-0:8081/proxy/`, 503, 'connect: connection refused'],
    ];
    for (const [path, code, message] of cases) {
      const r = await c.ts.request('GET', path);
      assert.equal(r.status, code, `${path}: ${r.body}`);
      assert.ok(r.json<{ message: string }>().message.includes(message), `${path}: ${r.body}`);
    }
  });

  test('kubectl proxy serves the services proxy URL', async () => {
    const child = spawn('kubectl', ['--kubeconfig', c.ts.kubeconfig, 'proxy', '--port=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      const port = await waitFor('kubectl proxy listening', () => /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out)?.[1], 15_000);
      const body = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port: Number(port), path: `${ns}/services/web:80/proxy/dir/` }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => { b += d.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
        }).on('error', reject).end();
      });
      assert.equal(body.status, 200, body.body);
      assert.equal(body.body.trim(), 'inside');
    } finally {
      if (child.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
    }
  });
});
