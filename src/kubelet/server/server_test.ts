// The kubelet API over real TLS with a fake runtime, locator and streaming server: client-cert
// authorization, logs, /run, the upgrade hand-over to the runtime URL, refusals clients fall back
// on, WebSocket port-forward ports, and the SPDY-over-WebSocket tunnel.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type IssuedCertificate } from '../../base/pki.ts';
import type { RuntimeService } from '../cri/types.ts';
import { CriError, GrpcCode } from '../cri/types.ts';
import type { AttachRequest, ContainerStatusResponse, ExecRequest } from '../cri/messages.ts';
import { APISERVER_KUBELET_CLIENT, KubeletServer, parsePorts } from './server.ts';
import { KubeletError, type PodLocator } from './types.ts';

/** A stand-in for containerd's streaming server: records upgrade requests and echoes bytes after a 101. */
class FakeStreamingServer {
  readonly server: Server = createServer((_req, res) => res.end());
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  refuse = false;

  async start(): Promise<number> {
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.requests.push({ method: req.method!, url: req.url!, headers: req.headers });
      if (this.refuse) {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const proto = req.headers['x-stream-protocol-version'];
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${proto ? `X-Stream-Protocol-Version: ${String(proto).split(',')[0]!.trim()}\r\n` : ''}\r\nhello`);
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return (this.server.address() as AddressInfo).port;
  }
}

describe('KubeletServer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tkube-kls-'));
  const fake = new FakeStreamingServer();
  let streamPort = 0;
  let kubelet: KubeletServer;
  let caPem = '';
  let apiserver: IssuedCertificate;
  let stranger: IssuedCertificate;
  const calls: unknown[] = [];
  const logPath = join(dir, '0.log');
  writeFileSync(logPath, '2024-01-01T00:00:01Z stdout F hello\n2024-01-01T00:00:02Z stderr F world\n');

  const locator: PodLocator = {
    async sandbox(ns, pod, uid) {
      if (ns !== 'default' || pod !== 'p') throw new KubeletError(404, 'pod does not exist');
      if (uid && uid !== 'u1') throw new KubeletError(404, 'pod not found');
      return { uid: 'u1', sandboxId: 'sb1' };
    },
    async logContainer(_ns, pod, container, previous) {
      if (previous) throw new KubeletError(400, `previous terminated container "${container}" in pod "${pod}" not found`);
      return 'c1';
    },
    async runningContainer(_ns, _pod, container) {
      if (container !== 'c') throw new KubeletError(500, `container not found ("${container}")`);
      return 'c1';
    },
  };
  const runtime = {
    async containerStatus(): Promise<ContainerStatusResponse> {
      return { info: {}, status: { state: 'CONTAINER_EXITED', logPath } } as unknown as ContainerStatusResponse;
    },
    async exec(req: ExecRequest): Promise<string> {
      calls.push({ exec: req });
      if (req.cmd[0] === 'gone') throw new CriError('Exec', GrpcCode.NotFound, 'container "c1" not found');
      return `http://127.0.0.1:${streamPort}/exec/tok1`;
    },
    async attach(req: AttachRequest): Promise<string> {
      calls.push({ attach: req });
      return `http://127.0.0.1:${streamPort}/attach/tok2`;
    },
    async portForward(sandbox: string, ports: number[]): Promise<string> {
      calls.push({ portForward: { sandbox, ports } });
      return `http://127.0.0.1:${streamPort}/portforward/tok3`;
    },
    async execSync(_id: string, cmd: string[]) {
      return { stdout: Buffer.from(cmd.join('|')), stderr: Buffer.from('!'), exitCode: 0 };
    },
  } as unknown as RuntimeService;

  before(async () => {
    streamPort = await fake.start();
    const ca = await createCertificateAuthority({ commonName: 'test-ca', days: 1 });
    caPem = ca.certPem;
    const serving = await issueCertificate({ ca, commonName: 'node', ips: ['127.0.0.1'], usages: 'server', days: 1 });
    apiserver = await issueCertificate({ ca, commonName: APISERVER_KUBELET_CLIENT, usages: 'client', days: 1 });
    stranger = await issueCertificate({ ca, commonName: 'mallory', organizations: ['devs'], usages: 'client', days: 1 });
    kubelet = new KubeletServer({ runtime, locator, port: 0, bindAddress: '127.0.0.1', tls: { certPem: serving.certPem, keyPem: serving.keyPem, clientCaPem: ca.certPem } });
    await kubelet.start();
  });

  after(async () => {
    await kubelet.dispose();
    await new Promise((r) => fake.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  function get(path: string, cert: IssuedCertificate | null = apiserver, method = 'GET'): Promise<{ status: number; body: string; type?: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1', port: kubelet.port, path, method, ca: caPem, agent: false,
        ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
      }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Sends a raw upgrade request over TLS; resolves with everything the server sent until `until` matches. */
  function rawUpgrade(head: string, until: RegExp, extra = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: kubelet.port, ca: caPem, cert: apiserver.certPem, key: apiserver.keyPem, ALPNProtocols: ['http/1.1'] }, () => {
        s.write(head + extra);
      });
      let got = '';
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (until.test(got)) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
      s.on('close', () => resolve(got));
    });
  }

  test('only the API server identity may call; others get 401 or 403', async () => {
    assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok', type: 'text/plain; charset=utf-8' });
    assert.deepEqual(await get('/healthz', null), { status: 401, body: 'Unauthorized', type: 'text/plain; charset=utf-8' });
    const denied = await get('/exec/default/p/c?output=1', stranger, 'POST');
    assert.deepEqual([denied.status, denied.body], [403, 'Forbidden (user=mallory, verb=create, resource=nodes, subresource=proxy)']);
    assert.equal((await get('/nothing/here')).status, 404);
  });

  test('/containerLogs streams the log and passes locator errors through', async () => {
    const all = await get('/containerLogs/default/p/c?timestamps=true');
    assert.equal(all.status, 200);
    assert.equal(all.body, '2024-01-01T00:00:01.000000000Z hello\n2024-01-01T00:00:02.000000000Z world\n');
    assert.equal((await get('/containerLogs/default/p/c?tailLines=1')).body, 'world\n');
    assert.deepEqual(await get('/containerLogs/default/p/c?previous=true'), { status: 400, body: 'previous terminated container "c" in pod "p" not found', type: 'text/plain; charset=utf-8' });
    assert.equal((await get('/containerLogs/default/p/c?tailLines=-2')).status, 422);
  });

  test('/run runs a command and answers its output', async () => {
    const r = await get('/run/default/p/c?cmd=echo%20a%20b', apiserver, 'POST');
    assert.deepEqual([r.status, r.body], [200, 'echo|a|b!']);
  });

  test('exec: the SPDY upgrade goes to the runtime URL with its headers; the bytes are spliced', async () => {
    calls.length = 0;
    fake.requests.length = 0;
    const got = await rawUpgrade(
      'POST /exec/default/p/c?command=sh&command=-c&command=echo%20hi&input=1&output=1&error=1&tty=1 HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: channel.k8s.io\r\n\r\n',
      /hellopayload/, 'payload');
    assert.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(got, /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
    // tty drops stderr, as the kubelet does
    assert.deepEqual(calls, [{ exec: { containerId: 'c1', cmd: ['sh', '-c', 'echo hi'], tty: true, stdin: true, stdout: true, stderr: false } }]);
    assert.equal(fake.requests[0]!.url, '/exec/tok1');
    assert.equal(fake.requests[0]!.headers['host'], `127.0.0.1:${streamPort}`);
    assert.equal(fake.requests[0]!.headers['x-stream-protocol-version'], 'v4.channel.k8s.io, channel.k8s.io');
  });

  test('exec refusals: no upgrade, no stream, v5 only, unknown container, CRI NotFound, runtime refusal', async () => {
    const plain = await get('/exec/default/p/c?output=1', apiserver, 'POST');
    assert.deepEqual([plain.status, plain.body], [400, 'Upgrade request required']);
    const ws = (path: string, protocol: string): string =>
      `GET ${path} HTTP/1.1\r\nHost: k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`;
    const none = await rawUpgrade(ws('/exec/default/p/c?command=true', 'v4.channel.k8s.io'), /\r\n\r\n[^]*$/);
    assert.match(none, /^HTTP\/1\.1 400 [^]*you must specify at least 1 of stdin, stdout, stderr$/);
    calls.length = 0;
    const v5 = await rawUpgrade(ws('/exec/default/p/c?command=true&output=1', 'v5.channel.k8s.io'), /supports/);
    assert.match(v5, /^HTTP\/1\.1 400 [^]*requested protocol\(s\) are not supported: \[v5\.channel\.k8s\.io\]/);
    assert.deepEqual(calls, [], 'no runtime call for a protocol the runtime cannot speak');
    const unknown = await rawUpgrade(ws('/exec/default/p/x?command=true&output=1', 'v4.channel.k8s.io'), /not found/);
    assert.match(unknown, /^HTTP\/1\.1 500 [^]*container not found \("x"\)$/);
    const gone = await rawUpgrade(ws('/exec/default/p/c?command=gone&output=1', 'v4.channel.k8s.io'), /desc/);
    assert.match(gone, /^HTTP\/1\.1 404 [^]*rpc error: code = NotFound desc = container "c1" not found$/);
    fake.refuse = true;
    try {
      const refused = await rawUpgrade(ws('/attach/default/p/c?output=1', 'v4.channel.k8s.io'), /\r\n\r\n/);
      assert.match(refused, /^HTTP\/1\.1 403 Forbidden/);
    } finally {
      fake.refuse = false;
    }
  });

  test('port-forward: WebSocket ports come from the query, SPDY has none; bad ports are refused', async () => {
    calls.length = 0;
    const ws = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: kubelet.port, ca: caPem, cert: apiserver.certPem, key: apiserver.keyPem, ALPNProtocols: ['http/1.1'] }, () => {
        s.write('GET /portForward/default/p?ports=8080,9090 HTTP/1.1\r\nHost: k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n');
      });
      s.once('data', (c: Buffer) => {
        s.destroy();
        resolve(c.toString('latin1'));
      });
      s.on('error', reject);
    });
    assert.match(ws, /^HTTP\/1\.1 101/);
    assert.deepEqual(calls, [{ portForward: { sandbox: 'sb1', ports: [8080, 9090] } }]);
    assert.equal(fake.requests.at(-1)!.url, '/portforward/tok3');
    const wrongUid = await rawUpgrade('POST /portForward/default/p/u2 HTTP/1.1\r\nHost: k\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n', /found$/);
    assert.match(wrongUid, /^HTTP\/1\.1 404 [^]*pod not found$/);
    assert.deepEqual(parsePorts(new URLSearchParams('ports=1,2&ports=3')), [1, 2, 3]);
    assert.throws(() => parsePorts(new URLSearchParams('')), /query parameter "ports" is required/);
    assert.throws(() => parsePorts(new URLSearchParams('ports=0')), /must be > 0/);
    assert.throws(() => parsePorts(new URLSearchParams('ports=99999')), /unable to parse/);
  });

  test('port-forward tunnel: the WebSocket carries the SPDY byte stream of a SPDY upgrade to the runtime', async () => {
    calls.length = 0;
    fake.requests.length = 0;
    // a hand-made client: ws refuses "SPDY/3.1+…" as a subprotocol name, as it is no RFC 6455 token
    const s = tlsConnect({ host: '127.0.0.1', port: kubelet.port, ca: caPem, cert: apiserver.certPem, key: apiserver.keyPem, ALPNProtocols: ['http/1.1'] });
    await new Promise((r) => s.once('secureConnect', r));
    s.write('GET /portForward/default/p HTTP/1.1\r\nHost: k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n'
      + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n');
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from('frames');
    s.write(Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]));
    let got = Buffer.alloc(0);
    const deadline = Date.now() + 5000;
    s.on('data', (c: Buffer) => (got = Buffer.concat([got, c])));
    const messages = (): string => {
      const at = got.indexOf('\r\n\r\n');
      if (at < 0) return '';
      let rest = got.subarray(at + 4);
      let text = '';
      while (rest.length >= 2 && rest.length >= 2 + (rest[1]! & 0x7f)) {
        assert.equal(rest[0], 0x82, 'binary frames');
        text += rest.subarray(2, 2 + rest[1]!).toString();
        rest = rest.subarray(2 + rest[1]!);
      }
      return text;
    };
    while (messages() !== 'helloframes' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const head = got.subarray(0, got.indexOf('\r\n\r\n')).toString();
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    assert.match(head, /\r\nSec-WebSocket-Protocol: SPDY\/3\.1\+portforward\.k8s\.io/);
    assert.equal(messages(), 'helloframes');
    assert.deepEqual(calls, [{ portForward: { sandbox: 'sb1', ports: [] } }]);
    const r = fake.requests[0]!;
    assert.deepEqual([r.method, r.url, r.headers['upgrade'], r.headers['x-stream-protocol-version']], ['POST', '/portforward/tok3', 'SPDY/3.1', 'portforward.k8s.io']);
    s.destroy();
  });
});
