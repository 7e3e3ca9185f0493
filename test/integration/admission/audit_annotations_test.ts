// Admission audit annotations in the audit log of a real API server (--audit-policy-file and
// --audit-log-path), driven by kubectl: PodSecurity's enforced policy and audit-mode violations,
// a ValidatingAdmissionPolicy Audit action's validation_failure and a policy's auditAnnotations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClusterPki } from '../../../src/base/pki.ts';
import { writeKubeconfig } from '../../../src/base/kubeconfig.ts';
import { ApiServer } from '../../../src/apiserver/server.ts';
import { bootstrapCluster } from '../../../src/apiserver/bootstrap.ts';
import { ORDERED_PLUGINS } from '../../../src/apiserver/admission/chain.ts';
import { Auditor } from '../../../src/apiserver/audit/auditor.ts';
import { AuditLogBackend } from '../../../src/apiserver/audit/log_backend.ts';
import { loadAuditPolicy } from '../../../src/apiserver/audit/policy.ts';
import { openStore } from '../../../src/storage/registry.ts';
import type { Store } from '../../../src/storage/types.ts';
import '../../../src/storage/drivers/all.ts';

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

let dir: string;
let store: Store;
let api: ApiServer;
let backend: AuditLogBackend;
let logPath: string;
let kubeconfig: string;

interface LoggedEvent {
  stage: string;
  verb: string;
  requestURI: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  annotations?: Record<string, string>;
}

function kubectl(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const cacheDir = join(dir, 'kubectl-cache');
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], {
      env: { ...process.env, HOME: dir, KUBECACHEDIR: cacheDir }, timeout: 30_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(input);
  });
}

async function ok(args: readonly string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r;
}

/** The ResponseComplete event of the create of resource/name (not a dry run); waits for the log to have it. */
async function createEvent(resource: string, name: string): Promise<LoggedEvent> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await backend.flush();
    const events = (await readFile(logPath, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LoggedEvent);
    const ev = events.find((e) => e.stage === 'ResponseComplete' && e.verb === 'create' && e.objectRef?.resource === resource
      && e.objectRef.name === name && !e.requestURI.includes('dryRun'));
    if (ev) return ev;
    if (Date.now() > deadline) assert.fail(`no audit line for the create of ${resource}/${name}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function podSecurityAnnotations(ev: LoggedEvent): Record<string, string> {
  return Object.fromEntries(Object.entries(ev.annotations ?? {}).filter(([k]) => k.startsWith('pod-security.kubernetes.io/')));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tkube-audit-adm-'));
  const pki = await ensureClusterPki({ dir: join(dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
  const policyPath = join(dir, 'audit-policy.yaml');
  await writeFile(policyPath, POLICY);
  logPath = join(dir, 'log', 'audit.log');
  backend = new AuditLogBackend({ path: logPath, maxAgeDays: 1, maxBackups: 1, maxSizeMB: 10 });
  store = await openStore({ endpoint: 'memory://' });
  api = new ApiServer({
    store, port: 0, bindAddress: '127.0.0.1', admissionPlugins: ORDERED_PLUGINS.filter((p) => p !== 'ServiceAccount'),
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem },
    auditor: new Auditor({ policy: await loadAuditPolicy(policyPath), backend }),
  });
  await api.start();
  await bootstrapCluster({ storeFor: (i) => api.storeFor(i), serviceCidr: '10.43.0.0/16', advertiseIP: '127.0.0.1', advertisePort: api.port });
  kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfig, { server: `https://127.0.0.1:${api.port}`, caPem: pki.ca.certPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem });
});

after(async () => {
  await api?.dispose();
  await backend?.dispose();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('admission audit annotations in the audit log', () => {
  test('PodSecurity records the enforced policy and audit-mode violations of admitted and refused pods', async () => {
    await ok(['create', 'namespace', 'psa']);
    await ok(['label', 'namespace', 'psa', 'pod-security.kubernetes.io/enforce=baseline', 'pod-security.kubernetes.io/audit=restricted']);
    await ok(['run', 'web', '-n', 'psa', '--image=busybox', '--restart=Never']);
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

    const refused = await kubectl(['run', 'root', '-n', 'psa', '--image=busybox', '--restart=Never', '--privileged']);
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
    await ok(['create', 'namespace', 'vap']);
    await ok(['apply', '-f', '-'], `apiVersion: admissionregistration.k8s.io/v1
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
    // The policy works once the server's watch cache has it: its Warn action says when.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await ok(['create', 'deployment', 'web', '-n', 'vap', '--image=busybox', '--replicas=3', '--dry-run=server']);
      if (r.stderr.includes('replicas must be no greater than 2')) break;
      assert.ok(Date.now() < deadline, 'the policy never took effect');
    }
    const r = await ok(['create', 'deployment', 'web', '-n', 'vap', '--image=busybox', '--replicas=3']);
    assert.match(r.stderr, /Warning: Validation failed for ValidatingAdmissionPolicy 'replica-limit.example.com' with binding 'replica-limit-binding.example.com': replicas must be no greater than 2/);
    const ev = await createEvent('deployments', 'web');
    assert.equal(ev.responseStatus?.code, 201);
    assert.equal(ev.annotations?.['validation.policy.admission.k8s.io/validation_failure'],
      '[{"message":"replicas must be no greater than 2","policy":"replica-limit.example.com","binding":"replica-limit-binding.example.com",'
      + '"expressionIndex":0,"validationActions":["Warn","Audit"]}]');
    assert.equal(ev.annotations?.['replica-limit.example.com/high-replica-count'], 'Deployment spec.replicas set to 3');
  });
});
