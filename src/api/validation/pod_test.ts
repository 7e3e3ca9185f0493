// Tests for Pod validation on create and update (registry entry "/Pod"), on defaulted v1 JSON,
// with upstream's field paths and messages.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../defaults/registry.ts';
import { errorString } from '../field_errors.ts';
import { validateObject, validateObjectUpdate } from './registry.ts';

type J = Record<string, unknown>;

function defaulted(obj: J): J {
  const copy = structuredClone(obj);
  applyDefaults('', 'v1', 'Pod', copy);
  return copy;
}

function create(obj: J): string[] {
  return validateObject('', 'Pod', defaulted(obj)).map(errorString);
}

function update(obj: J, old: J): string[] {
  return validateObjectUpdate('', 'Pod', defaulted(obj), defaulted(old)).map(errorString);
}

function pod(spec: J, meta: J = {}): J {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', ...meta }, spec };
}

const nginx = { name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] };
const RFC1123_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

describe('Pod create', () => {
  test('textbook pods are valid', () => {
    assert.deepEqual(create(pod({ containers: [nginx] })), []);
    assert.deepEqual(create(pod({
      volumes: [{ name: 'cfg', configMap: { name: 'app-config' } }, { name: 'cache', emptyDir: {} }],
      initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'] }],
      containers: [{
        name: 'app', image: 'busybox', command: ['sleep', '3600'],
        env: [{ name: 'MODE', value: 'prod' }, { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
        envFrom: [{ configMapRef: { name: 'app-config' } }],
        volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }, { name: 'cache', mountPath: '/cache' }],
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
        readinessProbe: { tcpSocket: { port: 'http' } },
        ports: [{ name: 'http', containerPort: 8080 }],
      }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } } }] } },
    })), []);
  });

  const cases: Array<[string, J, string[]]> = [
    ['no containers', pod({ containers: [] }), ['spec.containers: Required value']],
    ['a container without image', pod({ containers: [{ name: 'web' }] }), ['spec.containers[0].image: Required value']],
    ['a bad container name', pod({ containers: [{ name: 'Web_1', image: 'nginx' }] }), [`spec.containers[0].name: Invalid value: "Web_1": ${RFC1123_LABEL}`]],
    ['duplicate container names', pod({ containers: [nginx, { name: 'web', image: 'redis' }] }), ['spec.containers[1].name: Duplicate value: "web"']],
    ['an unknown restart policy', pod({ restartPolicy: 'Sometimes', containers: [nginx] }),
      ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']],
    ['a container port out of range', pod({ containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 70000 }] }] }),
      ['spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive']],
    ['an unsupported protocol', pod({ containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 53, protocol: 'ICMP' }] }] }),
      ['spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"']],
    ['conflicting host ports', pod({ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }, { name: 'b', image: 'x', ports: [{ containerPort: 81, hostPort: 8080 }] }] }),
      ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']],
    ['a mount of a missing volume', pod({ containers: [{ name: 'web', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] }),
      ['spec.containers[0].volumeMounts[0].name: Not found: "data"']],
    ['a hostPath volume without path', pod({ volumes: [{ name: 'data', hostPath: {} }], containers: [nginx] }), ['spec.volumes[0].hostPath.path: Required value']],
    ['a volume with two sources', pod({ volumes: [{ name: 'data', emptyDir: {}, hostPath: { path: '/tmp' } }], containers: [nginx] }),
      ['spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type']],
    ['a configMap volume without a name', pod({ volumes: [{ name: 'cfg', configMap: {} }], containers: [nginx] }), ['spec.volumes[0].configMap.name: Required value']],
    ['an env var with value and valueFrom', pod({ containers: [{ name: 'web', image: 'nginx', env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] }),
      ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty']],
    ['an unsupported downward API field', pod({ containers: [{ name: 'web', image: 'nginx', env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }] }] }),
      ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"']],
    ['requests above limits', pod({ containers: [{ name: 'web', image: 'nginx', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }),
      ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1']],
    ['an unknown unqualified resource', pod({ containers: [{ name: 'web', image: 'nginx', resources: { limits: { gpu: '1' } } }] }), [
      'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified',
      'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
      // Pod defaulting copies limits into missing requests, so upstream reports them twice.
      'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified',
      'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    ]],
    ['a probe without handler', pod({ containers: [{ name: 'web', image: 'nginx', livenessProbe: { periodSeconds: 5 } }] }),
      ['spec.containers[0].livenessProbe: Required value: must specify a handler type']],
    ['a liveness probe with successThreshold 2', pod({ containers: [{ name: 'web', image: 'nginx', livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }] }),
      ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1']],
    ['an init container with a probe', pod({ initContainers: [{ name: 'init', image: 'x', readinessProbe: { exec: { command: ['true'] } } }], containers: [nginx] }),
      ['spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always']],
    ['an init container named like a container', pod({ initContainers: [{ name: 'web', image: 'x' }], containers: [nginx] }),
      ['spec.initContainers[0].name: Duplicate value: "web"']],
    ['dnsPolicy None without dnsConfig', pod({ dnsPolicy: 'None', containers: [nginx] }),
      ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None']],
    ['a toleration with Exists and a value', pod({ tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }], containers: [nginx] }),
      ["spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"]],
    ['a bad node selector label', pod({ nodeSelector: { 'a b': 'x' }, containers: [nginx] }),
      ["spec.nodeSelector: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]],
    ['ephemeral containers on create', pod({ containers: [nginx], ephemeralContainers: [{ name: 'debug', image: 'busybox' }] }),
      ['spec.ephemeralContainers: Forbidden: cannot be set on create']],
    ['a mirror pod annotation without nodeName', pod({ containers: [nginx] }, { annotations: { 'kubernetes.io/config.mirror': 'x' } }),
      ['metadata.annotations[kubernetes.io/config.mirror]: Invalid value: "x": must set spec.nodeName if mirror pod annotation is set']],
    ['a non-standard finalizer', pod({ containers: [nginx] }, { finalizers: ['cleanup'] }),
      ['metadata.finalizers[0]: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified']],
    ['a negative activeDeadlineSeconds', pod({ activeDeadlineSeconds: -1, containers: [nginx] }),
      ['spec.activeDeadlineSeconds: Invalid value: -1: must be between 1 and 2147483647, inclusive']],
    ['a hostNetwork pod whose hostPort differs', pod({ hostNetwork: true, containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080 }] }] }),
      ['spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true']],
  ];
  for (const [name, obj, want] of cases) {
    test(`rejects ${name}`, () => assert.deepEqual(create(obj), want));
  }
});

describe('Pod update', () => {
  const old = pod({ containers: [nginx], tolerations: [{ key: 'a', operator: 'Exists' }] });
  const UPDATABLE = 'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n';

  test('an image change, a new toleration and a deadline are allowed', () => {
    const next = pod({ containers: [{ ...nginx, image: 'nginx:1.28' }], activeDeadlineSeconds: 60, tolerations: [{ key: 'a', operator: 'Exists' }, { key: 'b', operator: 'Exists' }] });
    assert.deepEqual(update(next, old), []);
  });

  test('other spec changes are forbidden with upstream\'s message and a diff', () => {
    const errs = update(pod({ containers: [{ ...nginx, ports: [{ containerPort: 81 }] }], tolerations: [{ key: 'a', operator: 'Exists' }] }), old);
    assert.equal(errs.length, 1);
    assert.ok(errs[0]?.startsWith(UPDATABLE), errs[0]);
    assert.match(errs[0] ?? '', /containers\[0\]\.ports\[0\]\.containerPort: 80/);
  });

  test('adding a container is forbidden and stops further checks', () => {
    assert.deepEqual(update(pod({ containers: [nginx, { name: 'b', image: 'x' }], tolerations: [{ key: 'a', operator: 'Exists' }] }), old),
      ['spec.containers: Forbidden: pod updates may not add or remove containers']);
  });

  test('removing a toleration is forbidden', () => {
    assert.deepEqual(update(pod({ containers: [nginx] }), old).slice(0, 1),
      ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);
  });

  test('activeDeadlineSeconds may only shrink', () => {
    const withDeadline = pod({ containers: [nginx], activeDeadlineSeconds: 30, tolerations: [{ key: 'a', operator: 'Exists' }] });
    assert.deepEqual(update({ ...withDeadline, spec: { ...(withDeadline['spec'] as J), activeDeadlineSeconds: 60 } }, withDeadline),
      ['spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value']);
  });

  test('an emptied image is required', () => {
    assert.deepEqual(update(pod({ containers: [{ ...nginx, image: '' }], tolerations: [{ key: 'a', operator: 'Exists' }] }), old), [
      'spec.containers[0].image: Required value',
      'spec.containers[0].image: Required value',
    ]);
  });
});

describe('Pod update of an object already validated', () => {
  // The shortcut: an update that keeps name, annotations and spec of an old pod that passed
  // validation skips validating them again. Its answers must be those of the full check.
  const invalidSpec = { containers: [{ name: 'Bad_Name', image: 'nginx' }] };

  test('an old pod that passed validation and an update of its labels: nothing to report, as in full', () => {
    const old = defaulted(pod({ containers: [nginx] }));
    assert.deepEqual(validateObject('', 'Pod', old), []);
    const next = structuredClone(old);
    (next['metadata'] as J)['labels'] = { a: 'b' };
    assert.deepEqual(validateObjectUpdate('', 'Pod', next, old), []);
    // and the full check of the same pair (old not known to be valid) agrees
    assert.deepEqual(validateObjectUpdate('', 'Pod', structuredClone(next), structuredClone(old)), []);
  });

  test('an old pod never validated is checked in full even when unchanged', () => {
    const old = defaulted(pod(invalidSpec));
    const next = structuredClone(old);
    (next['metadata'] as J)['labels'] = { a: 'b' };
    const errs = validateObjectUpdate('', 'Pod', next, old).map(errorString);
    assert.ok(errs.some((e) => e.startsWith('spec.containers[0].name: Invalid value: "Bad_Name"')), errs.join('\n'));
  });

  test('a validated old pod whose spec or annotations the update changes is checked in full', () => {
    const old = defaulted(pod({ containers: [nginx] }));
    assert.deepEqual(validateObject('', 'Pod', old), []);
    const badImage = structuredClone(old);
    ((badImage['spec'] as J)['containers'] as J[])[0]!['image'] = ' nginx';
    assert.ok(validateObjectUpdate('', 'Pod', badImage, old).map(errorString).some((e) => e.includes('must not have leading or trailing whitespace')));
    const badAnnotation = structuredClone(old);
    (badAnnotation['metadata'] as J)['annotations'] = { 'controller.kubernetes.io/pod-deletion-cost': 'x' };
    const got = validateObjectUpdate('', 'Pod', badAnnotation, old).map(errorString);
    assert.ok(got.some((e) => e.endsWith('must be a 32bit integer')), got.join('\n'));
    assert.deepEqual(got, validateObjectUpdate('', 'Pod', structuredClone(badAnnotation), structuredClone(old)).map(errorString));
  });
});
