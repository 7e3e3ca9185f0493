// Tests of the create-time strategy steps: pod status and conditions, affinity label keys,
// AppArmor sync, namespace finalizers, job selectors, service IP families and fresh statuses.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from './json.ts';
import { defaultServiceIPFamilies, generateJobSelector, prepareForCreate } from './prepare_for_create.ts';

const now = '2025-01-02T03:04:05Z';

describe('prepareForCreate', () => {
  test('a new pod is Pending with its QoS class, whatever status the client sent', () => {
    const pod: JsonObject = {
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'nginx', resources: { limits: { cpu: '1', memory: '1Gi' } } }] },
      status: { phase: 'Running', podIP: '10.0.0.1' },
    };
    assert.deepEqual(prepareForCreate('', 'v1', 'Pod', pod, { now }), []);
    assert.deepEqual(pod['status'], { phase: 'Pending', qosClass: 'Guaranteed' });
  });

  test('a pod with scheduling gates gets the SchedulingGated condition', () => {
    const pod: JsonObject = { metadata: { name: 'p' }, spec: { schedulingGates: [{ name: 'wait' }], containers: [{ name: 'c', image: 'nginx' }] } };
    prepareForCreate('', 'v1', 'Pod', pod, { now });
    assert.deepEqual(pod['status'], {
      phase: 'Pending',
      qosClass: 'BestEffort',
      conditions: [{
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: now,
        reason: 'SchedulingGated',
        message: 'Scheduling is blocked due to non-empty scheduling gates',
      }],
    });
  });

  test('affinity matchLabelKeys and mismatchLabelKeys become selector requirements', () => {
    const term = {
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchLabels: { app: 'web' } },
      matchLabelKeys: ['version', 'absent'],
      mismatchLabelKeys: ['tenant'],
    };
    const pod: JsonObject = {
      metadata: { name: 'p', labels: { app: 'web', version: 'v2', tenant: 'a' } },
      spec: {
        containers: [{ name: 'c', image: 'nginx' }],
        affinity: {
          podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [structuredClone(term)] },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { ...structuredClone(term), labelSelector: undefined } }] },
        },
      },
    };
    prepareForCreate('', 'v1', 'Pod', pod, { now });
    const affinity = (pod['spec'] as JsonObject)['affinity'] as JsonObject;
    const required = ((affinity['podAffinity'] as JsonObject)['requiredDuringSchedulingIgnoredDuringExecution'] as JsonObject[])[0];
    assert.deepEqual(required?.['labelSelector'], {
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'version', operator: 'In', values: ['v2'] }, { key: 'tenant', operator: 'NotIn', values: ['a'] }],
    });
    const preferred = ((affinity['podAntiAffinity'] as JsonObject)['preferredDuringSchedulingIgnoredDuringExecution'] as JsonObject[])[0];
    assert.equal((preferred?.['podAffinityTerm'] as JsonObject)['labelSelector'], undefined, 'a nil selector matches nothing and stays nil');
  });

  test('AppArmor fields gain annotations and annotations gain fields', () => {
    const pod: JsonObject = {
      metadata: { name: 'p', annotations: { 'container.apparmor.security.beta.kubernetes.io/b': 'localhost/prof' } },
      spec: {
        securityContext: { appArmorProfile: { type: 'RuntimeDefault' } },
        containers: [
          { name: 'a', image: 'nginx' },
          { name: 'b', image: 'nginx' },
          { name: 'c', image: 'nginx', securityContext: { appArmorProfile: { type: 'Unconfined' } } },
        ],
      },
    };
    const warnings = prepareForCreate('', 'v1', 'Pod', pod, { now });
    assert.deepEqual((pod['metadata'] as JsonObject)['annotations'], {
      'container.apparmor.security.beta.kubernetes.io/a': 'runtime/default',
      'container.apparmor.security.beta.kubernetes.io/b': 'localhost/prof',
      'container.apparmor.security.beta.kubernetes.io/c': 'unconfined',
    });
    const containers = (pod['spec'] as JsonObject)['containers'] as JsonObject[];
    assert.deepEqual(containers[1]?.['securityContext'], { appArmorProfile: { type: 'Localhost', localhostProfile: 'prof' } });
    assert.deepEqual(warnings, [
      'metadata.annotations[container.apparmor.security.beta.kubernetes.io/b]: deprecated since v1.30; use the "appArmorProfile" field instead',
    ]);
  });

  test('a namespace starts Active with the kubernetes finalizer and its name label', () => {
    const ns: JsonObject = { metadata: { name: 'dev' }, spec: { finalizers: ['example.com/x'] }, status: { phase: 'Terminating' } };
    prepareForCreate('', 'v1', 'Namespace', ns);
    assert.deepEqual(ns, {
      metadata: { name: 'dev', labels: { 'kubernetes.io/metadata.name': 'dev' } },
      spec: { finalizers: ['example.com/x', 'kubernetes'] },
      status: { phase: 'Active' },
    });
  });

  test('a job selects its own uid and labels its pods with name and uid', () => {
    const job: JsonObject = { metadata: { name: 'pi', uid: 'u-1' }, spec: { template: { metadata: { labels: { 'job-name': 'custom' } }, spec: {} } } };
    generateJobSelector(job);
    const spec = job['spec'] as JsonObject;
    assert.deepEqual(spec['selector'], { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } });
    assert.deepEqual((spec['template'] as JsonObject)['metadata'], {
      labels: {
        'job-name': 'custom',
        'batch.kubernetes.io/job-name': 'pi',
        'controller-uid': 'u-1',
        'batch.kubernetes.io/controller-uid': 'u-1',
      },
    });
    const manual: JsonObject = { metadata: { name: 'm', uid: 'u' }, spec: { manualSelector: true, selector: { matchLabels: { a: 'b' } } } };
    generateJobSelector(manual);
    assert.deepEqual(manual['spec'], { manualSelector: true, selector: { matchLabels: { a: 'b' } } });
  });

  test('a service gets single-stack IPv4 families and an empty load balancer status', () => {
    const svc: JsonObject = { metadata: { name: 's' }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } };
    prepareForCreate('', 'v1', 'Service', svc);
    assert.deepEqual(svc, {
      metadata: { name: 's' },
      spec: {
        selector: { a: 'b' },
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
        ipFamilyPolicy: 'SingleStack',
        ipFamilies: ['IPv4'],
        internalTrafficPolicy: 'Cluster',
        sessionAffinity: 'None',
        type: 'ClusterIP',
      },
      status: { loadBalancer: {} },
    });
  });

  test('service IP families follow the policy, the requested IPs and the cluster', () => {
    const families = (spec: JsonObject, dualStack = false) => {
      const svc = { spec };
      defaultServiceIPFamilies(svc, { dualStack });
      return [spec['ipFamilyPolicy'], spec['ipFamilies']];
    };
    assert.deepEqual(families({ clusterIP: 'None' }), ['RequireDualStack', ['IPv4']]);
    assert.deepEqual(families({ clusterIP: 'None' }, true), ['RequireDualStack', ['IPv4', 'IPv6']]);
    assert.deepEqual(families({ clusterIP: 'None', selector: { a: 'b' } }, true), ['SingleStack', ['IPv4']]);
    assert.deepEqual(families({ clusterIP: 'fd00::10' }), ['SingleStack', ['IPv6']]);
    assert.deepEqual(families({ ipFamilyPolicy: 'PreferDualStack' }, true), ['PreferDualStack', ['IPv4', 'IPv6']]);
    assert.deepEqual(families({ ipFamilyPolicy: 'PreferDualStack' }), ['PreferDualStack', ['IPv4']]);
    assert.deepEqual(families({ type: 'ExternalName', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] }), [undefined, undefined]);
  });

  test('volumes and claims start Pending; the PV records when', () => {
    const pv: JsonObject = { metadata: { name: 'pv' }, spec: { hostPath: { path: '/x' } }, status: { phase: 'Bound' } };
    prepareForCreate('', 'v1', 'PersistentVolume', pv, { now });
    assert.deepEqual(pv['status'], { phase: 'Pending', lastPhaseTransitionTime: now });
    const pvc: JsonObject = { metadata: { name: 'c' }, spec: {}, status: { phase: 'Bound' } };
    prepareForCreate('', 'v1', 'PersistentVolumeClaim', pvc);
    assert.deepEqual(pvc['status'], { phase: 'Pending' });
  });

  test('kinds without create-time steps only get their defaults', () => {
    const rs: JsonObject = { metadata: { name: 'rs' }, spec: { template: { spec: { containers: [] } } } };
    assert.deepEqual(prepareForCreate('apps', 'v1', 'ReplicaSet', rs), []);
    assert.equal((rs['spec'] as JsonObject)['replicas'], 1);
  });
});
