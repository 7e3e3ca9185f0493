// Admission audit annotations in the audit log of a real API server (--audit-policy-file and
// --audit-log-path), driven by kubectl: PodSecurity's enforced policy and audit-mode violations,
// a ValidatingAdmissionPolicy Audit action's validation_failure and a policy's auditAnnotations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyAdmissionConfiguration, kubectlOk, startAuditedServer, type AuditedServer, type LoggedEvent,
} from '../../../src/testing/integration_helpers.ts';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/version", "/openapi/*"]
  - level: None
    verbs: ["get", "list", "watch"]
  - level: Metadata
`;

let s: AuditedServer;

/** The ResponseComplete event of the create of resource/name (not a dry run); waits for the log to have it. */
async function createEvent(resource: string, name: string): Promise<LoggedEvent> {
  const isCreate = (e: LoggedEvent): boolean => e.stage === 'ResponseComplete' && e.verb === 'create' && e.objectRef?.['resource'] === resource
    && e.objectRef['name'] === name && !e.requestURI.includes('dryRun');
  return (await s.untilLogged(`the create of ${resource}/${name}`, isCreate)).find(isCreate)!;
}

function podSecurityAnnotations(ev: LoggedEvent): Record<string, string> {
  return Object.fromEntries(Object.entries(ev.annotations ?? {}).filter(([k]) => k.startsWith('pod-security.kubernetes.io/')));
}

before(async () => {
  s = await startAuditedServer(POLICY);
});

after(async () => {
  await s?.stop();
});

describe('admission audit annotations in the audit log', () => {
  test('PodSecurity records the enforced policy and audit-mode violations of admitted and refused pods', async () => {
    await kubectlOk(s, ['create', 'namespace', 'psa']);
    await kubectlOk(s, ['label', 'namespace', 'psa', 'pod-security.kubernetes.io/enforce=baseline', 'pod-security.kubernetes.io/audit=restricted']);
    await kubectlOk(s, ['run', 'web', '-n', 'psa', '--image=busybox', '--restart=Never']);
    const admitted = await createEvent('pods', 'web');
    assert.equal(admitted.responseStatus?.code, 201);
    assert.deepEqual(podSecurityAnnotations(admitted), {
      'pod-security.kubernetes.io/audit-violations': 'would violate PodSecurity "restricted:latest": '
        + 'allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false), '
        + 'unrestricted capabilities (container "web" must set securityContext.capabilities.drop=["ALL"]), '
        + 'runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true), '
        + 'seccompProfile (pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      'pod-security.kubernetes.io/enforce-policy': 'baseline:latest',
    });

    const refused = await s.kubectl(['run', 'root', '-n', 'psa', '--image=busybox', '--restart=Never', '--privileged']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /violates PodSecurity "baseline:latest": privileged/);
    const denied = await createEvent('pods', 'root');
    assert.equal(denied.responseStatus?.code, 403);
    assert.deepEqual(Object.keys(podSecurityAnnotations(denied)).sort(),
      ['pod-security.kubernetes.io/audit-violations', 'pod-security.kubernetes.io/enforce-policy']);
    assert.equal(denied.annotations?.['pod-security.kubernetes.io/enforce-policy'], 'baseline:latest');
    assert.match(denied.annotations?.['pod-security.kubernetes.io/audit-violations'] ?? '',
      /^would violate PodSecurity "restricted:latest": privileged \(container "root" must not set securityContext\.privileged=true\), allowPrivilegeEscalation != false/);
  });

  test('a ValidatingAdmissionPolicy Audit action and auditAnnotations are recorded for an admitted request', async () => {
    await kubectlOk(s, ['create', 'namespace', 'vap']);
    await applyAdmissionConfiguration(s, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit.example.com
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  validations:
  - expression: "object.spec.replicas <= 2"
    message: "replicas must be no greater than 2"
  auditAnnotations:
  - key: "high-replica-count"
    valueExpression: "'Deployment spec.replicas set to ' + string(object.spec.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replica-limit-binding.example.com
spec:
  policyName: replica-limit.example.com
  validationActions: [Warn, Audit]
`);
    const r = await kubectlOk(s, ['create', 'deployment', 'web', '-n', 'vap', '--image=busybox', '--replicas=3']);
    assert.match(r.stderr, /Warning: Validation failed for ValidatingAdmissionPolicy 'replica-limit.example.com' with binding 'replica-limit-binding.example.com': replicas must be no greater than 2/);
    const ev = await createEvent('deployments', 'web');
    assert.equal(ev.responseStatus?.code, 201);
    assert.equal(ev.annotations?.['validation.policy.admission.k8s.io/validation_failure'],
      '[{"message":"replicas must be no greater than 2","policy":"replica-limit.example.com","binding":"replica-limit-binding.example.com",'
      + '"expressionIndex":0,"validationActions":["Warn","Audit"]}]');
    assert.equal(ev.annotations?.['replica-limit.example.com/high-replica-count'], 'Deployment spec.replicas set to 3');
  });
});
