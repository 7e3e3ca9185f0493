// Unit tests of pods/proxy and services/proxy: target name parsing, pod and service locations,
// endpoint choice, backend paths and Location rewriting.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Pod, Service } from '../../api/types/core_v1.ts';
import { ApiError } from '../errors.ts';
import { splitSchemeNamePort } from './pod_proxy.ts';
import {
  dialPort, escapePath, isGlobalUnicast, pickEndpoint, podProxyTarget, proxySubpath, rewriteLocation, serviceProxyTarget,
} from './service_proxy.ts';

describe('splitSchemeNamePort', () => {
  test('name, name:port, scheme:name:port', () => {
    assert.deepEqual(splitSchemeNamePort('web'), { scheme: '', name: 'web', port: '' });
    assert.deepEqual(splitSchemeNamePort('web:80'), { scheme: '', name: 'web', port: '80' });
    assert.deepEqual(splitSchemeNamePort('web:http'), { scheme: '', name: 'web', port: 'http' });
    assert.deepEqual(splitSchemeNamePort('https:web:443'), { scheme: 'https', name: 'web', port: '443' });
    assert.deepEqual(splitSchemeNamePort(':web:80'), { scheme: '', name: 'web', port: '80' });
  });
  test('invalid: unknown scheme, empty name, too many parts', () => {
    assert.equal(splitSchemeNamePort('ftp:web:21'), undefined);
    assert.equal(splitSchemeNamePort(':80'), undefined);
    assert.equal(splitSchemeNamePort('a:b:c:d'), undefined);
  });
});

test('dialPort: numbers, Go service names, errors', () => {
  assert.deepEqual(dialPort('http', ''), { port: 80 });
  assert.deepEqual(dialPort('https', ''), { port: 443 });
  assert.deepEqual(dialPort('http', '8080'), { port: 8080 });
  assert.deepEqual(dialPort('http', 'HTTP'), { port: 80 });
  assert.deepEqual(dialPort('http', 'web'), { error: 'dial tcp: lookup tcp/web: unknown port' });
  assert.deepEqual(dialPort('http', '70000'), { error: 'dial tcp: address 70000: invalid port' });
});

test('isGlobalUnicast', () => {
  for (const ip of ['10.42.0.5', '8.8.8.8', '2001:db8::1', 'fd00::5']) assert.equal(isGlobalUnicast(ip), true, ip);
  for (const ip of ['', 'x', '0.0.0.0', '127.0.0.1', '169.254.1.1', '224.0.0.1', '255.255.255.255', '::', '::1', 'fe80::1', 'ff02::1']) {
    assert.equal(isGlobalUnicast(ip), false, ip);
  }
});

describe('podProxyTarget', () => {
  const pod = (ip: string | undefined, ports: number[] = []): Pod => ({
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'a', image: 'i' }, { name: 'b', image: 'i', ports: ports.map((containerPort) => ({ containerPort })) }] },
    status: ip ? { podIP: ip, podIPs: [{ ip }] } : {},
  });
  test('port from the name, else the first declared container port, else none', () => {
    assert.deepEqual(podProxyTarget(pod('10.42.0.5', [8080, 9090]), '', '81'), { scheme: '', ip: '10.42.0.5', port: '81' });
    assert.deepEqual(podProxyTarget(pod('10.42.0.5', [8080, 9090]), 'https', ''), { scheme: 'https', ip: '10.42.0.5', port: '8080' });
    assert.deepEqual(podProxyTarget(pod('10.42.0.5'), '', ''), { scheme: '', ip: '10.42.0.5', port: '' });
  });
  test('a pod without an IP: 400 address not allowed', () => {
    assert.throws(() => podProxyTarget(pod(undefined), '', '80'), (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === 'address not allowed');
    assert.throws(() => podProxyTarget(pod('127.0.0.1'), '', '80'), /address not allowed/);
  });
});

const eps: Endpoints = {
  metadata: { name: 'web' },
  subsets: [
    { addresses: [{ ip: '10.0.0.1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a' } }], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }] },
    { addresses: [], notReadyAddresses: [{ ip: '10.0.0.9' }], ports: [{ name: 'http', port: 8080 }] },
    { addresses: [{ ip: '10.0.0.2', targetRef: { kind: 'Pod', namespace: 'ns', name: 'b' } }, { ip: '10.0.0.3', targetRef: { kind: 'Pod', namespace: 'ns', name: 'c' } }], ports: [{ name: 'http', port: 8081 }] },
  ],
};

describe('pickEndpoint', () => {
  const always = async (): Promise<boolean> => true;
  test('starts at the random subset and address, matches the port by name', async () => {
    assert.deepEqual(await pickEndpoint(eps, 'http', always, () => 0), { ip: '10.0.0.1', port: 8080 });
    assert.deepEqual(await pickEndpoint(eps, 'http', always, (n) => n - 1), { ip: '10.0.0.3', port: 8081 });
    assert.deepEqual(await pickEndpoint(eps, 'metrics', always, (n) => n - 1), { ip: '10.0.0.1', port: 9090 });
  });
  test('skips invalid addresses and subsets without ready addresses; none matching is undefined', async () => {
    const notC = async (a: { ip: string }): Promise<boolean> => a.ip !== '10.0.0.3';
    assert.deepEqual(await pickEndpoint(eps, 'http', notC, (n) => n - 1), { ip: '10.0.0.2', port: 8081 });
    assert.equal(await pickEndpoint(eps, 'grpc', always, () => 0), undefined);
    assert.equal(await pickEndpoint(eps, 'http', async () => false, () => 0), undefined);
  });
  test('every ready address is chosen at some seed', async () => {
    const seen = new Set<string>();
    for (let s = 0; s < 3; s++) for (let a = 0; a < 2; a++) {
      const r = await pickEndpoint(eps, 'http', always, (n) => (n === 3 ? s : a % n));
      seen.add(r!.ip);
    }
    assert.deepEqual([...seen].sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });
});

describe('serviceProxyTarget', () => {
  const svc: Service = { metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9000 }] } };
  const pods: Record<string, Pod> = {
    a: { metadata: { name: 'a' }, status: { podIPs: [{ ip: '10.0.0.1' }] } },
    b: { metadata: { name: 'b' }, status: { podIPs: [{ ip: '10.0.0.2' }] } },
  };
  const target = (id: string, e: Endpoints = eps): Promise<unknown> => serviceProxyTarget(id, 'ns', async () => svc, async () => e,
    async (n) => { const p = pods[n]; if (!p) throw new Error('not found'); return p; }, (n) => n - 1);
  test('a port number names the service port; a name selects endpoint ports directly', async () => {
    assert.deepEqual(await target('web:80'), { scheme: '', ip: '10.0.0.2', port: '8081' });
    assert.deepEqual(await target('https:web:metrics'), { scheme: 'https', ip: '10.0.0.1', port: '9090' });
  });
  test("upstream's errors", async () => {
    const rejects = (id: string, code: number, message: string, e?: Endpoints): Promise<void> =>
      assert.rejects(target(id, e), (err: unknown) => err instanceof ApiError && err.code === code && err.message === message);
    await rejects('web:81', 503, 'no service port 81 found for service "web"');
    await rejects('web:80', 503, 'no endpoints available for service "web"', { metadata: { name: 'web' } });
    await rejects('web:grpc', 503, 'no endpoints available for service "web:grpc"');
    await rejects('ftp:web:80', 400, 'invalid service request "ftp:web:80"');
  });
});

test('proxySubpath: cleaned, trailing slash kept, empty for the proxy root', () => {
  assert.equal(proxySubpath([], '/api/v1/namespaces/d/services/w/proxy'), '');
  assert.equal(proxySubpath([], '/api/v1/namespaces/d/services/w/proxy/'), '/');
  assert.equal(proxySubpath(['a', 'b'], '/x/proxy/a/b/'), '/a/b/');
  assert.equal(proxySubpath(['a', '..', 'c'], '/x/proxy/a/../c'), '/c');
  assert.equal(escapePath('/a b/ü/x:y@z'), '/a%20b/%C3%BC/x:y@z');
});

test('rewriteLocation as upstream Transport.rewriteURL', () => {
  const prepend = '/api/v1/namespaces/default/services/web:80/proxy';
  const rw = (l: string): string => rewriteLocation(l, '10.42.0.5:8080', '127.0.0.1:6443', prepend);
  assert.equal(rw('/login'), `${prepend}/login`);
  assert.equal(rw('/dir/'), `${prepend}/dir/`);
  assert.equal(rw('http://10.42.0.5:8080/a?x=1'), `${prepend}/a?x=1`);
  assert.equal(rw('https://127.0.0.1:6443/b'), `https://127.0.0.1:6443${prepend}/b`);
  assert.equal(rw(`${prepend}/c`), `${prepend}/c`);
  assert.equal(rw('http://example.com/x'), 'http://example.com/x');
  assert.equal(rw('relative/path'), 'relative/path');
});
