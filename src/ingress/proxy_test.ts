// Proxy tests with fixed snapshots (no API server): forwarding headers, 404/502/503 replies, retries
// on refused connections, round-robin, streaming both ways, client aborts, snapshot swaps under a
// live keep-alive connection, and WebSocket upgrades.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { IssuedCertificate } from '../base/pki.ts';
import type { Upstream } from './backends.ts';
import { selfSignedCertificate } from './certificates.ts';
import { IngressProxy, type ProxySnapshot } from './proxy.ts';
import { buildRouteTable } from './routing.ts';

interface Backend {
  readonly server: Server;
  readonly port: number;
  readonly name: string;
}

let fallback: IssuedCertificate;
const backends: Backend[] = [];

before(async () => {
  fallback = await selfSignedCertificate();
});

after(async () => {
  for (const b of backends) {
    b.server.closeAllConnections();
    await new Promise((r) => b.server.close(r));
  }
});

/** A backend answering with its name and the request headers as JSON, or `handler`. */
async function backend(name: string, handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<Backend> {
  const server = createServer(handler ?? ((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, url: req.url, headers: req.headers }));
    });
  }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const b = { server, port: (server.address() as AddressInfo).port, name };
  backends.push(b);
  return b;
}

/** A port nobody listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A snapshot where every path of `paths` on any host goes to the given endpoint ports. */
function snapshot(paths: Record<string, number[]>): ProxySnapshot {
  const upstreams = new Map<string, Upstream>();
  for (const [p, ports] of Object.entries(paths)) {
    upstreams.set(p, { key: `test/${p}`, endpoints: ports.map((port) => ({ host: '127.0.0.1', port })) });
  }
  const routes = buildRouteTable<Upstream>([{
    metadata: { name: 'i', namespace: 'test' },
    spec: { rules: [{ http: { paths: Object.keys(paths).map((p) => ({ path: p, pathType: 'Prefix', backend: { service: { name: p, port: { number: 80 } } } })) } }] },
  }], (_ns, b) => upstreams.get(b.service!.name));
  return { routes, certs: new Map() };
}

async function startProxy(snap: ProxySnapshot, opts: { connectTimeoutMs?: number } = {}): Promise<IngressProxy> {
  const proxy = new IngressProxy(snap, { httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', fallbackCertificate: fallback, ...opts });
  await proxy.listen();
  return proxy;
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}, agent: Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('IngressProxy', () => {
  test('forwards with X-Forwarded-* and X-Real-IP set from the connection, not the client', async () => {
    const b = await backend('web');
    const proxy = await startProxy(snapshot({ '/': [b.port] }));
    try {
      const r = await get(proxy.httpPort, '/x?y=1', { Host: 'shop.example.com', 'X-Forwarded-For': '6.6.6.6', 'X-Real-IP': '6.6.6.6', Connection: 'close' });
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
      assert.equal(seen.url, '/x?y=1');
      assert.equal(seen.headers['host'], 'shop.example.com');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
      assert.equal(seen.headers['x-forwarded-host'], 'shop.example.com');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-forwarded-port'], String(proxy.httpPort));
      // Hop-by-hop headers stop at the proxy: the upstream connection is the proxy's keep-alive one.
      assert.equal(seen.headers['connection'], undefined);
    } finally {
      await proxy.dispose();
    }
  });

  test('answers 404 with the default backend text, 503 without endpoints, 502 when none accepts', async () => {
    const dead = await deadPort();
    const proxy = await startProxy(snapshot({ '/empty': [], '/dead': [dead] }));
    try {
      const nf = await get(proxy.httpPort, '/nowhere');
      assert.equal(nf.status, 404);
      assert.equal(nf.body, 'default backend - 404\n');
      const su = await get(proxy.httpPort, '/empty');
      assert.equal(su.status, 503);
      assert.equal(su.body, '503 Service Unavailable\n');
      assert.equal((await get(proxy.httpPort, '/dead')).status, 502);
    } finally {
      await proxy.dispose();
    }
  });

  test('retries another endpoint when a connection is refused, and balances round-robin', async () => {
    const a = await backend('a');
    const b = await backend('b');
    const dead = await deadPort();
    const proxy = await startProxy(snapshot({ '/': [dead, a.port, b.port] }));
    try {
      const names: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await get(proxy.httpPort, '/');
        assert.equal(r.status, 200);
        names.push((JSON.parse(r.body) as { name: string }).name);
      }
      // The dead endpoint's turns fall to the next one, so both live endpoints answer, a more often.
      assert.equal(names.filter((n) => n === 'a').length, 8);
      assert.equal(names.filter((n) => n === 'b').length, 4);
    } finally {
      await proxy.dispose();
    }
  });

  test('a pooled connection the endpoint dropped is retried on a new one, even with one endpoint', async () => {
    let connections = 0;
    let dropped = 0;
    const flaky = createNetServer((socket) => {
      connections++;
      let n = 0;
      socket.on('data', () => {
        // The first request of each connection is answered; later ones find it "closed".
        if (n++ === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else {
          dropped++;
          socket.destroy();
        }
      });
    });
    flaky.listen(0, '127.0.0.1');
    await once(flaky, 'listening');
    const proxy = await startProxy(snapshot({ '/': [(flaky.address() as AddressInfo).port] }));
    try {
      for (let i = 0; i < 3; i++) {
        const r = await get(proxy.httpPort, '/');
        assert.equal(r.status, 200);
        assert.equal(r.body, 'ok');
      }
      assert.equal(connections, 3);
      assert.equal(dropped, 2, 'requests 2 and 3 first went out on the pooled connection');
    } finally {
      await proxy.dispose();
      await new Promise((r) => flaky.close(r));
    }
  });

  test('streams request and response bodies as they come', async () => {
    const echo = await backend('echo', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      req.pipe(res);
    });
    const proxy = await startProxy(snapshot({ '/': [echo.port] }));
    try {
      const req = request({ host: '127.0.0.1', port: proxy.httpPort, method: 'POST', path: '/echo', agent: false });
      req.write('ping-1');
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      const [first] = (await once(res, 'data')) as [Buffer];
      // The first chunk came back while the request body is still open: nothing was buffered whole.
      assert.equal(first.toString(), 'ping-1');
      const rest: Buffer[] = [];
      res.on('data', (c: Buffer) => rest.push(c));
      req.end('ping-2');
      await once(res, 'end');
      assert.equal(Buffer.concat(rest).toString(), 'ping-2');
    } finally {
      await proxy.dispose();
    }
  });

  test('a client that goes away closes the upstream request', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const slow = await backend('slow', (req, res) => {
      res.writeHead(200);
      res.write('partial');
      req.socket.on('close', () => upstreamClosed());
    });
    const proxy = await startProxy(snapshot({ '/': [slow.port] }));
    try {
      const req = request({ host: '127.0.0.1', port: proxy.httpPort, path: '/', agent: false });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      await once(res, 'data');
      req.destroy();
      await closed;
    } finally {
      await proxy.dispose();
    }
  });

  test('a snapshot swap reroutes new requests, keeps the client connection and lets in-flight ones finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const bothArrived = new Promise<void>((r) => (arrived = r));
    let count = 0;
    const oldB = await backend('old', (req, res) => {
      req.resume();
      if (++count === 2) arrived();
      void gate.then(() => res.end('old'));
    });
    const newB = await backend('new', (req, res) => {
      req.resume();
      res.end('new');
    });
    const proxy = await startProxy(snapshot({ '/': [oldB.port] }));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      const inflight = new Promise<Reply>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: proxy.httpPort, path: '/', agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end();
      });
      const before = request({ host: '127.0.0.1', port: proxy.httpPort, path: '/', agent });
      before.on('socket', (s) => sockets.add(s));
      before.end();
      // Both requests wait at the old backend; swap, then release them.
      await bothArrived;
      proxy.setSnapshot(snapshot({ '/': [newB.port] }));
      release();
      const [beforeRes] = (await once(before, 'response')) as [IncomingMessage];
      beforeRes.resume();
      await once(beforeRes, 'end');
      assert.equal((await inflight).body, 'old');
      const after = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: proxy.httpPort, path: '/', agent }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end();
      });
      assert.equal(after, 'new');
      assert.equal(sockets.size, 1, 'the keep-alive connection to the proxy was reused across the swap');
    } finally {
      agent.destroy();
      await proxy.dispose();
    }
  });

  test('upgrades WebSocket connections and relays frames both ways', async () => {
    const b = await backend('ws', (_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ server: b.server });
    wss.on('connection', (ws, req) => {
      ws.send(`hello ${req.headers['x-forwarded-for']}`);
      ws.on('message', (m) => ws.send(`echo ${m.toString()}`));
    });
    const proxy = await startProxy(snapshot({ '/': [b.port] }));
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.httpPort}/chat`);
      const messages: string[] = [];
      const got = (n: number): Promise<void> => new Promise((resolve) => {
        const check = (): void => {
          if (messages.length >= n) resolve();
        };
        ws.on('message', (m) => {
          messages.push(m.toString());
          check();
        });
        check();
      });
      const twoMessages = got(2);
      await once(ws, 'open');
      ws.send('ping');
      await twoMessages;
      assert.deepEqual(messages, ['hello 127.0.0.1', 'echo ping']);
      ws.close();
      await once(ws, 'close');
    } finally {
      wss.close();
      await proxy.dispose();
    }
  });

  test('an upgrade to a path without endpoints is refused with 503', async () => {
    const proxy = await startProxy(snapshot({ '/': [] }));
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.httpPort}/`);
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
      assert.equal(res.statusCode, 503);
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      await once(res, 'end');
      assert.equal(body, '503 Service Unavailable\n');
    } finally {
      await proxy.dispose();
    }
  });

  test('rejects bad options with the field and value', () => {
    assert.throws(() => new IngressProxy(snapshot({}), { httpPort: 70000, httpsPort: 0, fallbackCertificate: fallback }), /httpPort must be an integer between 0 and 65535, got 70000/);
    assert.throws(() => new IngressProxy(snapshot({}), { httpPort: 0, httpsPort: 0, fallbackCertificate: fallback, maxTries: 0 }), /maxTries must be a positive number, got 0/);
  });
});
