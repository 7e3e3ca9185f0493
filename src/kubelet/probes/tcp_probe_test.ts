import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { doTcpProbe } from './tcp_probe.ts';

test('tcpSocket succeeds on a listening port and fails with Go\'s dial error on a closed one', async () => {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    assert.deepEqual(await doTcpProbe('127.0.0.1', port, 1000), { outcome: 'success', output: '' });
  } finally {
    await new Promise((r) => server.close(r));
  }
  assert.deepEqual(await doTcpProbe('127.0.0.1', port, 1000), { outcome: 'failure', output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
});

test('tcpSocket ends at once when the kubelet is stopping', async () => {
  const abort = new AbortController();
  abort.abort();
  assert.deepEqual(await doTcpProbe('127.0.0.1', 9, 60_000, abort.signal), { outcome: 'failure', output: 'dial tcp 127.0.0.1:9: operation was canceled' });
});
