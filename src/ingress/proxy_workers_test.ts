// Proxy worker processes: two workers share one port, serve the snapshot they were given, pick up a
// new one (certificates included, sent as PEMs), and exit on dispose.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../base/pki.ts';
import type { Upstream } from './backends.ts';
import { selfSignedCertificate } from './certificates.ts';
import type { ProxySnapshot } from './proxy.ts';
import { loaderArgs, ProxyWorkers } from './proxy_workers.ts';
import { buildRouteTable } from './routing.ts';

let fallback: IssuedCertificate;
let site: IssuedCertificate;
const servers: Server[] = [];

before(async () => {
  fallback = await selfSignedCertificate();
  const ca = await createCertificateAuthority({ commonName: 'workers-test-ca', days: 1 });
  site = await issueCertificate({ ca, commonName: 'site.example.com', dnsNames: ['site.example.com'], usages: 'server', days: 1 });
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function backend(name: string): Promise<number> {
  const s = createServer((req, res) => {
    req.resume();
    res.end(`${name} answered`);
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

function snapshot(port: number, withTls: boolean): ProxySnapshot {
  const up: Upstream = { key: 'w/web:80', endpoints: [{ host: '127.0.0.1', port }] };
  const routes = buildRouteTable<Upstream>([{
    metadata: { name: 'w', namespace: 'w' },
    spec: { rules: [{ host: 'site.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  }], () => up);
  const certs = new Map(withTls ? [['site.example.com', { context: createSecureContext({ cert: site.certPem, key: site.keyPem }), certPem: site.certPem, keyPem: site.keyPem }]] : []);
  return { routes, certs };
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Host: 'site.example.com' }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function peerName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/', servername: 'site.example.com', rejectUnauthorized: false, agent: false }, (res) => {
      const cn = (res.socket as TLSSocket).getPeerCertificate().subject?.CN;
      res.resume();
      res.on('end', () => resolve(String(cn)));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ProxyWorkers', () => {
  test('two workers share the ports, follow snapshots and stop on dispose', async () => {
    const a = await backend('a');
    const b = await backend('b');
    const workers = await ProxyWorkers.start(2, { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', fallbackCertificate: fallback }, snapshot(a, false));
    try {
      assert.ok(workers.httpPort > 0 && workers.httpsPort > 0);
      for (let i = 0; i < 4; i++) assert.match(await get(workers.httpPort), /^a /);
      assert.equal(await peerName(workers.httpsPort), 'Kubernetes Ingress Controller Fake Certificate');

      workers.setSnapshot(snapshot(b, true));
      // Each worker applies the snapshot when its message arrives; poll (bounded) until all do.
      const deadline = Date.now() + 10_000;
      let seen = 0;
      while (seen < 8) {
        assert.ok(Date.now() < deadline, 'workers did not take the new snapshot');
        seen = (await get(workers.httpPort)).startsWith('b ') ? seen + 1 : 0;
      }
      assert.equal(await peerName(workers.httpsPort), 'site.example.com');
    } finally {
      await workers.dispose();
    }
    await assert.rejects(get(workers.httpPort), /ECONNREFUSED/);
  });

  test('workers inherit only module-loading flags', () => {
    assert.deepEqual(
      loaderArgs(['--import', '/x/tsx/loader.mjs', '--test', '--test-reporter=spec', '--inspect=9229', '--enable-source-maps', '--require=foo.cjs']),
      ['--import', '/x/tsx/loader.mjs', '--enable-source-maps', '--require=foo.cjs'],
    );
  });
});
