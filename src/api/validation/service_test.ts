// Tests for Service validation on create and update, on defaulted v1 JSON with allocated IPs.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../defaults/registry.ts';
import { errorString } from '../field_errors.ts';
import { validateObject, validateObjectUpdate } from './registry.ts';

type J = Record<string, unknown>;

function defaulted(obj: J): J {
  const copy = structuredClone(obj);
  applyDefaults('', 'v1', 'Service', copy);
  return copy;
}

const create = (obj: J): string[] => validateObject('', 'Service', defaulted(obj)).map(errorString);
const update = (obj: J, old: J): string[] => validateObjectUpdate('', 'Service', defaulted(obj), defaulted(old)).map(errorString);

// What the allocator fills in before validation runs.
const allocated = { clusterIP: '10.43.0.5', clusterIPs: ['10.43.0.5'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' };

function svc(spec: J): J {
  return { metadata: { name: 'web', namespace: 'default' }, spec: { ...allocated, ...spec } };
}

describe('Service create', () => {
  test('textbook services are valid', () => {
    assert.deepEqual(create(svc({ selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] })), []);
    assert.deepEqual(create(svc({ type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'https', port: 443, targetPort: 'https' }] })), []);
    assert.deepEqual(create({ metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', selector: { app: 'db' } } }), []);
    assert.deepEqual(create({ metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.com.' } }), []);
    assert.deepEqual(create(svc({ type: 'LoadBalancer', ports: [{ port: 80, nodePort: 31000 }], sessionAffinity: 'ClientIP' })), []);
  });

  const cases: Array<[string, J, string[]]> = [
    ['a ClusterIP service without ports', svc({ selector: { app: 'web' } }), ['spec.ports: Required value']],
    ['an ExternalName service without externalName', { metadata: { name: 'e', namespace: 'd' }, spec: { type: 'ExternalName' } }, ['spec.externalName: Required value']],
    ['a port out of range', svc({ ports: [{ port: 70000, targetPort: 80 }] }),
      ['spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['unnamed ports when there are several', svc({ ports: [{ port: 80 }, { port: 81 }] }), [
      'spec.ports[0].name: Required value',
      'spec.ports[1].name: Required value',
    ]],
    ['duplicate ports', svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }),
      ['spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}']],
    ['a nodePort on a ClusterIP service', svc({ ports: [{ port: 80, nodePort: 30001 }] }),
      ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    ['an unknown type', svc({ type: 'Internal', ports: [{ port: 80 }] }),
      ['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    ['a headless NodePort service', { metadata: { name: 'h', namespace: 'd' }, spec: { type: 'NodePort', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] } },
      ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"]],
    ['a bad target port name', svc({ ports: [{ port: 80, targetPort: 'HTTP_PORT' }] }), [
      'spec.ports[0].targetPort: Invalid value: "HTTP_PORT": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.ports[0].targetPort: Invalid value: "HTTP_PORT": must contain at least one letter (a-z)',
    ]],
    ['a loopback external IP', svc({ ports: [{ port: 80 }], externalIPs: ['127.0.0.1'] }),
      ['spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']],
    ['clusterIPs that disagree with clusterIP', svc({ clusterIPs: ['10.43.0.6'], ports: [{ port: 80 }] }),
      ['spec.clusterIPs: Invalid value: []string{"10.43.0.6"}: first value must match `clusterIP`']],
    ['an unsupported session affinity', svc({ ports: [{ port: 80 }], sessionAffinity: 'Cookie' }),
      ['spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"']],
    ['an externalTrafficPolicy on an internal service', svc({ ports: [{ port: 80 }], externalTrafficPolicy: 'Local' }),
      ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services']],
    ['a bad selector value', svc({ ports: [{ port: 80 }], selector: { app: 'a b' } }),
      ["spec.selector: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]],
  ];
  for (const [name, obj, want] of cases) test(`rejects ${name}`, () => assert.deepEqual(create(obj), want));
});

describe('Service update', () => {
  const old = svc({ selector: { app: 'web' }, ports: [{ port: 80 }] });

  test('ports and selectors may change', () => {
    assert.deepEqual(update(svc({ selector: { app: 'web2' }, ports: [{ port: 8080 }] }), old), []);
  });

  test('clusterIP may not change once set', () => {
    assert.deepEqual(update(svc({ clusterIP: '10.43.0.9', clusterIPs: ['10.43.0.9'], selector: { app: 'web' }, ports: [{ port: 80 }] }), old),
      ['spec.clusterIPs[0]: Invalid value: []string{"10.43.0.9"}: may not change once set']);
  });

  test('ipFamilies may not change once set', () => {
    const errs = update(svc({ clusterIP: 'fd00::5', clusterIPs: ['fd00::5'], ipFamilies: ['IPv6'], selector: { app: 'web' }, ports: [{ port: 80 }] }), old);
    assert.deepEqual(errs, [
      'spec.clusterIPs[0]: Invalid value: []string{"fd00::5"}: may not change once set',
      'spec.ipFamilies[0]: Invalid value: []core.IPFamily{"IPv6"}: may not change once set',
    ]);
  });
});
