import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { doGrpcProbe, healthCheckMethod } from './grpc_probe.ts';

describe('grpc probe', () => {
  let server: grpc.Server;
  let bare: grpc.Server;
  let port = 0;
  let barePort = 0;
  const seen: { service: string; userAgent: string }[] = [];
  const bind = (s: grpc.Server): Promise<number> => new Promise((resolve, reject) => {
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  before(async () => {
    const m = healthCheckMethod();
    server = new grpc.Server();
    server.register(m.path, (call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => {
      const service = (call.request as { service?: string }).service ?? '';
      seen.push({ service, userAgent: String(call.metadata.get('user-agent')[0] ?? '') });
      if (service === 'slow') { setTimeout(() => cb(null, { status: 'SERVING' }), 3000).unref(); return; }
      cb(null, { status: service === 'down' ? 'NOT_SERVING' : 'SERVING' });
    }, m.responseSerialize, m.requestDeserialize, 'unary');
    port = await bind(server);
    bare = new grpc.Server();
    barePort = await bind(bare);
  });
  after(() => {
    server.forceShutdown();
    bare.forceShutdown();
  });

  test('SERVING is success; the service name and kube-probe user agent reach the server', async () => {
    assert.deepEqual(await doGrpcProbe('127.0.0.1', port, 'web', 2000), { outcome: 'success', output: 'service healthy' });
    assert.equal(seen.at(-1)?.service, 'web');
    assert.match(seen.at(-1)?.userAgent ?? '', /^kube-probe\/1\.32/);
  });

  test('NOT_SERVING fails with the status in upstream\'s words', async () => {
    assert.deepEqual(await doGrpcProbe('127.0.0.1', port, 'down', 2000), { outcome: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
  });

  test('a server without the health service, a slow answer and a closed port fail as upstream says', async () => {
    const r = await doGrpcProbe('127.0.0.1', barePort, '', 2000);
    assert.equal(r.outcome, 'failure');
    assert.match(r.output, /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
    assert.deepEqual(await doGrpcProbe('127.0.0.1', port, 'slow', 1000), { outcome: 'failure', output: 'timeout: health rpc did not complete within 1s' });
    const s = net.createServer();
    await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
    const closed = (s.address() as AddressInfo).port;
    await new Promise((res) => s.close(res));
    assert.deepEqual(await doGrpcProbe('127.0.0.1', closed, '', 1000), { outcome: 'failure', output: `timeout: failed to connect service "127.0.0.1:${closed}" within 1s: context deadline exceeded` });
  });
});
