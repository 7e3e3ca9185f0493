// Backend resolution tests: Service port by number or name, EndpointSlice port by the Service
// port's name (so targetPort is honoured), readiness, de-duplication and the reasons for no endpoints.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../api/types/core_v1.ts';
import type { EndpointSlice } from '../api/types/discovery_v1.ts';
import { resolveBackend, type BackendLookup } from './backends.ts';

const service: Service = {
  metadata: { name: 'web', namespace: 'ns' },
  spec: { ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'admin', port: 9000, targetPort: 9001 }] },
};

function slice(name: string, ports: { name: string; port: number }[], endpoints: { ip: string; ready?: boolean }[]): EndpointSlice {
  return {
    metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })),
  };
}

function lookup(svc: Service | undefined, slices: EndpointSlice[]): BackendLookup {
  return { service: () => svc, endpointSlices: () => slices };
}

describe('resolveBackend', () => {
  const slices = [
    slice('web-a', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9001 }], [{ ip: '10.0.0.2' }, { ip: '10.0.0.1', ready: true }, { ip: '10.0.0.3', ready: false }]),
    slice('web-b', [{ name: 'http', port: 8080 }], [{ ip: '10.0.0.1' }, { ip: '10.0.0.4' }]),
  ];

  test('a numbered Service port resolves to the target port of its EndpointSlice port', () => {
    const up = resolveBackend('ns', { service: { name: 'web', port: { number: 80 } } }, lookup(service, slices));
    assert.equal(up.key, 'ns/web:80');
    assert.deepEqual(up.endpoints, [{ host: '10.0.0.1', port: 8080 }, { host: '10.0.0.2', port: 8080 }, { host: '10.0.0.4', port: 8080 }]);
  });

  test('a named Service port resolves the same way', () => {
    const up = resolveBackend('ns', { service: { name: 'web', port: { name: 'admin' } } }, lookup(service, slices));
    assert.equal(up.key, 'ns/web:admin');
    assert.deepEqual(up.endpoints, [{ host: '10.0.0.1', port: 9001 }, { host: '10.0.0.2', port: 9001 }]);
  });

  test('no endpoints, with the reason, when the Service, its port or ready endpoints are missing', () => {
    assert.match(resolveBackend('ns', { service: { name: 'web', port: { number: 80 } } }, lookup(undefined, slices)).problem ?? '', /not found/);
    assert.match(resolveBackend('ns', { service: { name: 'web', port: { number: 81 } } }, lookup(service, slices)).problem ?? '', /no TCP port 81/);
    const none = resolveBackend('ns', { service: { name: 'web', port: { number: 80 } } }, lookup(service, [slice('x', [{ name: 'http', port: 1 }], [{ ip: '10.0.0.9', ready: false }])]));
    assert.deepEqual(none.endpoints, []);
    assert.match(none.problem ?? '', /no ready endpoints/);
    assert.match(resolveBackend('ns', { resource: { kind: 'Bucket', name: 'b' } }, lookup(service, slices)).problem ?? '', /not supported/);
  });

  test('an unnamed Service port matches the unnamed EndpointSlice port', () => {
    const single: Service = { metadata: { name: 'web', namespace: 'ns' }, spec: { ports: [{ port: 80, targetPort: 3000 }] } };
    const s = slice('s', [], [{ ip: '127.0.0.1' }]);
    s.ports = [{ port: 3000, protocol: 'TCP' }];
    assert.deepEqual(resolveBackend('ns', { service: { name: 'web', port: { number: 80 } } }, lookup(single, [s])).endpoints, [{ host: '127.0.0.1', port: 3000 }]);
  });
});
