// The endpoint client's response parsing and connection reuse, against raw TCP servers that answer
// with hand-written bytes: every framing, interim replies, bad replies, and stale pooled connections.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { UpstreamPool, type ExchangeRequest, type ResponseHead, type UpstreamError } from './upstream.ts';

const servers: Server[] = [];
const sockets = new Set<Socket>();

after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** A TCP server that answers each request head (up to the empty line) with `reply(n)` (n counts per connection). */
async function rawServer(reply: (n: number, request: string, socket: Socket) => string | undefined): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = '';
    let n = 0;
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const request = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const out = reply(n++, request, socket);
        if (out !== undefined) socket.write(out);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

interface Result {
  head?: ResponseHead;
  body: string;
  error?: UpstreamError;
}

function run(pool: UpstreamPool, port: number, opts: Partial<ExchangeRequest> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { body: '' };
    pool.exchange({ host: '127.0.0.1', port, head: false, text: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', body: 'none', ...opts }, {
      onConnect: () => {},
      onHead: (h) => (r.head = h),
      onBody: (c) => {
        r.body += c.toString();
        return true;
      },
      onEnd: () => resolve(r),
      onError: (e) => {
        r.error = e;
        resolve(r);
      },
    });
  });
}

function newPool(): UpstreamPool {
  return new UpstreamPool({ connectTimeoutMs: 1000, readTimeoutMs: 5000 });
}

describe('UpstreamPool', () => {
  test('Content-Length bodies, split across packets, reuse the connection', async () => {
    const srv = await rawServer((n, _req, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Len');
      setTimeout(() => socket.write(`gth: 5\r\nX-N: ${n}\r\n\r\nhel`), 5);
      setTimeout(() => socket.write('lo'), 10);
      return undefined;
    });
    const pool = newPool();
    try {
      const a = await run(pool, srv.port);
      assert.equal(a.head?.status, 200);
      assert.equal(a.body, 'hello');
      assert.deepEqual(a.head?.rawHeaders, ['Content-Length', '5', 'X-N', '0']);
      const b = await run(pool, srv.port);
      assert.equal(b.head?.rawHeaders[3], '1');
      assert.equal(srv.connections(), 1);
    } finally {
      pool.close();
    }
  });

  test('chunked bodies are decoded, trailers skipped, and 1xx interim replies dropped', async () => {
    const srv = await rawServer(() => 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n');
    const pool = newPool();
    try {
      const r = await run(pool, srv.port);
      assert.equal(r.head?.status, 201);
      assert.equal(r.body, 'hello, world');
      assert.equal((await run(pool, srv.port)).body, 'hello, world');
      assert.equal(srv.connections(), 1);
    } finally {
      pool.close();
    }
  });

  test('HEAD, 204 and 304 replies have no body whatever their headers say', async () => {
    const srv = await rawServer((n) => (n === 0 ? 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' : n === 1 ? 'HTTP/1.1 204 No Content\r\n\r\n' : 'HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n'));
    const pool = newPool();
    try {
      assert.equal((await run(pool, srv.port, { head: true })).head?.status, 200);
      assert.equal((await run(pool, srv.port)).head?.status, 204);
      assert.equal((await run(pool, srv.port)).head?.status, 304);
      assert.equal(srv.connections(), 1);
    } finally {
      pool.close();
    }
  });

  test('a body without length ends with the connection, which is not reused', async () => {
    const srv = await rawServer((_n, _req, socket) => {
      socket.end('HTTP/1.0 200 OK\r\n\r\nuntil close');
      return undefined;
    });
    const pool = newPool();
    try {
      assert.equal((await run(pool, srv.port)).body, 'until close');
      assert.equal((await run(pool, srv.port)).body, 'until close');
      assert.equal(srv.connections(), 2);
    } finally {
      pool.close();
    }
  });

  test('Connection: close is honoured', async () => {
    const srv = await rawServer(() => 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
    const pool = newPool();
    try {
      await run(pool, srv.port);
      await run(pool, srv.port);
      assert.equal(srv.connections(), 2);
    } finally {
      pool.close();
    }
  });

  test('malformed replies fail in the response phase; refused connections in the connect phase', async () => {
    const srv = await rawServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx');
    const bad = await rawServer(() => 'garbage\r\n\r\n');
    const pool = newPool();
    try {
      const r = await run(pool, srv.port);
      assert.equal(r.error?.phase, 'response');
      assert.match(r.error?.message ?? '', /Content-Length/);
      assert.equal((await run(pool, bad.port)).error?.phase, 'response');
      const closed = createServer();
      closed.listen(0, '127.0.0.1');
      await once(closed, 'listening');
      const port = (closed.address() as AddressInfo).port;
      await new Promise((res) => closed.close(res));
      const refused = await run(pool, port);
      assert.equal(refused.error?.phase, 'connect');
      assert.equal(refused.error?.code, 'ECONNREFUSED');
    } finally {
      pool.close();
    }
  });

  test('a pooled connection the endpoint closed fails as reused, in the request phase', async () => {
    const srv = await rawServer((n, _req, socket) => {
      if (n === 0) return 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
      socket.destroy();
      return undefined;
    });
    const pool = newPool();
    try {
      assert.equal((await run(pool, srv.port)).head?.status, 200);
      const r = await run(pool, srv.port);
      assert.equal(r.error?.phase, 'request');
      assert.equal(r.error?.reused, true);
    } finally {
      pool.close();
    }
  });

  test('re-chunks a chunked request body', async () => {
    let seen = '';
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (d) => {
        seen += d.toString('latin1');
        if (seen.endsWith('0\r\n\r\n')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    const pool = newPool();
    try {
      const status = await new Promise<number | undefined>((resolve) => {
        let got: number | undefined;
        const ex = pool.exchange({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, head: false, text: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', body: 'chunked' }, {
          onConnect: () => {
            ex.write(Buffer.from('abc'));
            ex.write(Buffer.from('defghijklmnopq'));
            ex.end();
          },
          onHead: (h) => (got = h.status),
          onBody: () => true,
          onEnd: () => resolve(got),
          onError: () => resolve(undefined),
        });
      });
      assert.equal(status, 200);
      assert.equal(seen.slice(seen.indexOf('\r\n\r\n') + 4), '3\r\nabc\r\ne\r\ndefghijklmnopq\r\n0\r\n\r\n');
    } finally {
      pool.close();
    }
  });
});
