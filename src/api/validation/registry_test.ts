// Tests for the validation registry: every kind with rules accepts a textbook object on create and
// on a no-op update, kinds without rules pass, and the core finalizer-name rule applies only to
// built-in groups.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateJobSelector } from '../defaults/prepare_for_create.ts';
import { applyDefaults } from '../defaults/registry.ts';
import { errorString } from '../field_errors.ts';
import { validateObject, validateObjectUpdate, validatedKinds } from './registry.ts';

type J = Record<string, unknown>;

const ns = { namespace: 'default' };
const podSpec = { containers: [{ name: 'app', image: 'nginx:1.27' }] };
const labelled = { metadata: { labels: { app: 'web' } }, spec: podSpec };
const selector = { matchLabels: { app: 'web' } };
const webhook = {
  name: 'check.example.com', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { url: 'https://hooks.example.com/check' },
  rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
};

const textbook: Record<string, J> = {
  '/Pod': { metadata: { name: 'web', ...ns }, spec: podSpec },
  '/PodTemplate': { metadata: { name: 't', ...ns }, template: labelled },
  '/ReplicationController': { metadata: { name: 'rc', ...ns }, spec: { template: labelled } },
  '/Service': { metadata: { name: 'web', ...ns }, spec: { clusterIP: '10.43.0.7', clusterIPs: ['10.43.0.7'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }] } },
  '/ConfigMap': { metadata: { name: 'cfg', ...ns }, data: { key: 'value' } },
  '/Secret': { metadata: { name: 's', ...ns }, stringData: { password: 'x' } },
  '/Namespace': { metadata: { name: 'team-a' }, spec: { finalizers: ['kubernetes'] } },
  '/Node': { metadata: { name: 'node-1' }, spec: { podCIDR: '10.42.0.0/24' } },
  '/PersistentVolume': { metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } } },
  '/PersistentVolumeClaim': { metadata: { name: 'pvc', ...ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  'apps/Deployment': { metadata: { name: 'web', ...ns }, spec: { selector, template: labelled } },
  'apps/ReplicaSet': { metadata: { name: 'web', ...ns }, spec: { selector, template: labelled } },
  'apps/DaemonSet': { metadata: { name: 'web', ...ns }, spec: { selector, template: labelled } },
  'apps/StatefulSet': { metadata: { name: 'web', ...ns }, spec: { serviceName: 'web', selector, template: labelled } },
  'batch/Job': { metadata: { name: 'pi', uid: 'uid-1', ...ns }, spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } },
  'batch/CronJob': { metadata: { name: 'tick', ...ns }, spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'OnFailure' } } } } } },
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': { metadata: { name: 'v' }, webhooks: [webhook] },
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': { metadata: { name: 'm' }, webhooks: [webhook] },
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy': { metadata: { name: 'p' }, spec: {
    matchConstraints: { resourceRules: [{ operations: ['CREATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }] },
    validations: [{ expression: 'object.spec.replicas <= 5' }],
  } },
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding': { metadata: { name: 'b' }, spec: { policyName: 'p', validationActions: ['Deny'] } },
};

function prepared(key: string): J {
  const [group, kind] = key.split('/') as [string, string];
  const obj = structuredClone(textbook[key] as J);
  applyDefaults(group, 'v1', kind, obj);
  if (key === 'batch/Job') generateJobSelector(obj);
  return obj;
}

describe('validation registry', () => {
  test('every validated kind has a textbook example here', () => {
    assert.deepEqual(validatedKinds().sort(), Object.keys(textbook).sort());
  });

  for (const key of Object.keys(textbook)) {
    test(`a textbook ${key} is valid on create and on a no-op update`, () => {
      const [group, kind] = key.split('/') as [string, string];
      const obj = prepared(key);
      assert.deepEqual(validateObject(group, kind, obj).map(errorString), []);
      assert.deepEqual(validateObjectUpdate(group, kind, prepared(key), obj).map(errorString), []);
    });
  }

  test('malformed values never make validation throw (3000 seeded mutations)', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const junk: unknown[] = [null, 0, -1, 1.5, '', 'x', 'None', true, [], {}, [1, 'a', null], { a: 1 }, '1Gi', -70000, '::1', '*/0 * * * *'];
    const keys = Object.keys(textbook);
    // Replaces one randomly chosen value anywhere in the object (or adds a key) with junk.
    const mutate = (root: J): void => {
      let cur: unknown = root;
      for (let depth = 0; depth < 8; depth++) {
        const entries = Array.isArray(cur) ? cur.map((_, i) => String(i)) : cur !== null && typeof cur === 'object' ? Object.keys(cur as J) : [];
        if (entries.length === 0) return;
        const k = entries[rand(entries.length)] as string;
        const holder = cur as Record<string, unknown>;
        const next = holder[k];
        if (next === null || typeof next !== 'object' || rand(4) === 0) {
          holder[rand(5) === 0 ? `extra${rand(3)}` : k] = structuredClone(junk[rand(junk.length)]);
          return;
        }
        cur = next;
      }
    };
    for (let i = 0; i < 3000; i++) {
      const key = keys[rand(keys.length)] as string;
      const [group, kind] = key.split('/') as [string, string];
      const obj = prepared(key);
      const old = prepared(key);
      for (let m = 1 + rand(3); m > 0; m--) mutate(obj);
      assert.doesNotThrow(() => validateObject(group, kind, obj), `${key} ${JSON.stringify(obj)}`);
      assert.doesNotThrow(() => validateObjectUpdate(group, kind, obj, old), `${key} update ${JSON.stringify(obj)}`);
      assert.doesNotThrow(() => validateObjectUpdate(group, kind, old, obj), `${key} reverse update ${JSON.stringify(obj)}`);
    }
  });

  test('kinds without rules pass', () => {
    assert.deepEqual(validateObject('rbac.authorization.k8s.io', 'Role', { metadata: { name: 'r' }, rules: [{ verbs: ['nope'] }] }), []);
  });

  test('unqualified non-standard finalizers are rejected for built-in groups only', () => {
    const meta = { metadata: { name: 'x', finalizers: ['kubernetes', 'cleanup', 'example.com/cleanup'] } };
    assert.deepEqual(validateObject('networking.k8s.io', 'Ingress', meta).map(errorString), [
      'metadata.finalizers[1]: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified',
    ]);
    assert.deepEqual(validateObject('example.com', 'Widget', meta), []);
    assert.deepEqual(validateObject('apiextensions.k8s.io', 'CustomResourceDefinition', meta), []);
  });
});
