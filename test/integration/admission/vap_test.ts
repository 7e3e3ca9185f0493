// ValidatingAdmissionPolicy end to end with kubectl: upstream's documented replicas policy
// denying with its exact message, params from a ConfigMap, messageExpression, Warn producing a
// kubectl warning, and the policy objects' own validation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAdmissionConfiguration, kubectlFails, kubectlOk } from '../../../src/testing/integration_helpers.ts';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let s: TestServer;
let counter = 0;

async function namespace(labels: Record<string, string> = {}): Promise<string> {
  const ns = `vap${++counter}-${process.pid}`;
  const l = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  await kubectlOk(s, ['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n${l ? `  labels:\n${l}\n` : ''}`);
  return ns;
}

function deployment(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: c
        image: nginx:1.27
`;
}

/** Retries a kubectl call until `done` holds: params (ConfigMaps) count once their watch cache has them. */
async function eventually(args: string[], input: string, done: (r: { code: number; stdout: string; stderr: string }) => boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = await s.kubectl(args, { input });
    if (done(r) || Date.now() > deadline) return r;
    // the created object must not stay behind when the policy was not in effect yet
    if (r.code === 0) await s.kubectl(['delete', '-f', '-', '--wait=false'], { input });
  }
}

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.stop();
});

describe('ValidatingAdmissionPolicy through kubectl', () => {
  test("the documented replicas policy denies with upstream's message", async () => {
    const ns = await namespace({ environment: 'test' });
    await applyAdmissionConfiguration(s, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: demo-policy.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups:   ["apps"]
      apiVersions: ["v1"]
      operations:  ["CREATE", "UPDATE"]
      resources:   ["deployments"]
  validations:
    - expression: "object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: demo-binding-test.example.com
spec:
  policyName: demo-policy.example.com
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        environment: test
`);
    const r = await eventually(['create', '-n', ns, '-f', '-'], deployment('nginx', 6), (x) => x.code !== 0);
    assert.equal(r.stderr.trim(), 'The deployments "nginx" is invalid: : ValidatingAdmissionPolicy \'demo-policy.example.com\' with binding '
      + "'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5");
    await kubectlOk(s, ['create', '-n', ns, '-f', '-'], deployment('small', 5));
    // Scaling up through an update is refused too.
    const up = await kubectlFails(s, ['patch', 'deployment', 'small', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":7}}']);
    assert.match(up, /denied request: failed expression: object\.spec\.replicas <= 5/);
    // Namespaces the binding does not select are not affected.
    const other = await namespace();
    await kubectlOk(s, ['create', '-n', other, '-f', '-'], deployment('big', 6));
  });

  test('params from a ConfigMap, messageExpression and reason', async () => {
    const ns = await namespace();
    await kubectlOk(s, ['create', 'configmap', 'limits', '-n', ns, '--from-literal=maxReplicas=3']);
    await applyAdmissionConfiguration(s, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit.example.com
spec:
  failurePolicy: Fail
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["deployments"]
  variables:
  - name: max
    expression: "int(params.data.maxReplicas)"
  validations:
  - expression: "object.spec.replicas <= variables.max"
    messageExpression: "'replicas must be no greater than ' + string(variables.max)"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replica-limit-${ns}
spec:
  policyName: replica-limit.example.com
  validationActions: [Deny]
  paramRef:
    name: limits
    namespace: ${ns}
    parameterNotFoundAction: Deny
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: ${ns}
`);
    const r = await eventually(['create', '-n', ns, '-f', '-'], deployment('four', 4), (x) => x.code !== 0);
    assert.equal(r.stderr.trim(), 'Error from server (Forbidden): error when creating "STDIN": deployments.apps "four" is forbidden: '
      + `ValidatingAdmissionPolicy 'replica-limit.example.com' with binding 'replica-limit-${ns}' denied request: replicas must be no greater than 3`);
    await kubectlOk(s, ['create', '-n', ns, '-f', '-'], deployment('three', 3));
    // Without its param the binding denies everything it selects (parameterNotFoundAction: Deny).
    await kubectlOk(s, ['delete', 'configmap', 'limits', '-n', ns]);
    const missing = await eventually(['create', '-n', ns, '-f', '-'], deployment('one', 1), (x) => x.code !== 0);
    assert.match(missing.stderr, /with binding 'replica-limit-.*' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction/);
  });

  test('Warn turns a failed validation into a kubectl warning', async () => {
    const ns = await namespace();
    await applyAdmissionConfiguration(s, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: require-team.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["configmaps"]
  matchConditions:
  - name: not-kube-root
    expression: "object.metadata.name != 'kube-root-ca.crt'"
  validations:
  - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    message: "every ConfigMap needs a team label"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: require-team-warn
spec:
  policyName: require-team.example.com
  validationActions: [Warn]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: ${ns}
`);
    const cm = (name: string, labels = ''): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${labels}data:\n  a: b\n`;
    const r = await eventually(['create', '-n', ns, '-f', '-'], cm('c0'), (x) => x.stderr.includes('Warning'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), "Warning: Validation failed for ValidatingAdmissionPolicy 'require-team.example.com' with binding 'require-team-warn': every ConfigMap needs a team label");
    const labelled = await kubectlOk(s, ['create', '-n', ns, '-f', '-'], cm('c1', '  labels:\n    team: a\n'));
    assert.equal(labelled.stderr, '');
  });

  test('the policy objects themselves are validated', async () => {
    const err = await kubectlFails(s, ['apply', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: broken.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["deployments"]
  validations:
  - expression: "object.spec.replicas <="
  - expression: "params.x == 1"
`);
    assert.match(err, /^The ValidatingAdmissionPolicy "broken.example.com" is invalid: \n\* spec.validations\[0\].expression: Invalid value: "object.spec.replicas <=": compilation failed: ERROR: <input>:1:/);
    assert.match(err, /spec.validations\[1\].expression: Invalid value: "params.x == 1": compilation failed: ERROR: <input>:1:1: undeclared reference to 'params'/);
    const binding = await kubectlFails(s, ['apply', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: b
spec:
  policyName: x
  validationActions: [Deny, Warn]
`);
    assert.equal(binding, 'The ValidatingAdmissionPolicyBinding "b" is invalid: spec.validationActions: Invalid value: '
      + '[]admissionregistration.ValidationAction{"Deny", "Warn"}: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)');
  });
});
