// Unit tests of PodSecurity: label parsing, the levels' checks with upstream's messages, enforce vs
// warn, audit annotations, workload templates, namespace label validation and the existing-pods warning.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import type { KObject } from '../registry/strategy.ts';
import { FakeLister, attrs } from './fake_lister.ts';
import { PodSecurityAdmission, evaluatePod, forbiddenDetail, levelVersionString, policyFromLabels, type LevelVersion } from './pod_security.ts';
import { bindAuditAnnotationSink, type AdmissionAttributes } from './types.ts';

const LATEST = Number.POSITIVE_INFINITY;
const restricted: LevelVersion = { level: 'restricted', version: LATEST };
const baseline: LevelVersion = { level: 'baseline', version: LATEST };

function detail(lv: LevelVersion, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): string {
  return forbiddenDetail(evaluatePod(lv, meta, spec));
}

const web = { name: 'web', image: 'nginx' };
const goodContainer = {
  name: 'web', image: 'nginx',
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
};

function ns(name: string, labels: Record<string, string>): KObject {
  return { metadata: { name, labels } };
}

function pod(spec: Record<string, unknown>, name = 'x', namespace = 'ns'): KObject {
  return { metadata: { name, namespace }, spec };
}

/** Audits the request at Metadata level: returns the annotations admission records for it. */
function audited(a: AdmissionAttributes): Record<string, string> {
  const seen: Record<string, string> = {};
  bindAuditAnnotationSink(a.warnings, { level: 'Metadata', addAnnotation: (k, v) => { seen[k] ??= v; } });
  return seen;
}

describe('PodSecurity checks', () => {
  test('restricted names every failing check in upstream order', () => {
    assert.equal(detail(restricted, { containers: [web] }),
      'allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false), '
      + 'unrestricted capabilities (container "web" must set securityContext.capabilities.drop=["ALL"]), '
      + 'runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true), '
      + 'seccompProfile (pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")');
    assert.equal(detail(restricted, { containers: [goodContainer] }), '');
  });

  test('baseline checks', () => {
    const spec = {
      hostNetwork: true, hostPID: true,
      securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.tcp_rmem', value: '1' }] },
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
      containers: [
        { name: 'a', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN', 'CHOWN', 'NET_ADMIN'] }, procMount: 'Unmasked' }, ports: [{ containerPort: 80, hostPort: 8080 }] },
        { name: 'b', securityContext: { privileged: true, seccompProfile: { type: 'Unconfined' }, seLinuxOptions: { type: 'spc_t', user: 'root' } } },
      ],
    };
    assert.equal(detail(baseline, spec),
      'non-default capabilities (container "a" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add), '
      + 'host namespaces (hostNetwork=true, hostPID=true), '
      + 'hostPath volumes (volume "root"), '
      + 'hostPort (container "a" uses hostPort 8080), '
      + 'privileged (containers "a", "b" must not set securityContext.privileged=true), '
      + 'procMount (container "a" must not set securityContext.procMount to "Unmasked"), '
      + 'seLinuxOptions (container "b" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set), '
      + 'seccompProfile (container "b" must not set securityContext.seccompProfile.type to "Unconfined"), '
      + 'forbidden sysctls (kernel.msgmax)');
  });

  test('versions pick the rule of their time', () => {
    const spec = { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '1' }] }, containers: [web] };
    assert.equal(detail({ level: 'baseline', version: 31 }, spec), 'forbidden sysctls (net.ipv4.tcp_rmem)');
    assert.equal(detail({ level: 'baseline', version: 32 }, spec), '');
    // runAsUser joined restricted in v1.23; capabilities in v1.22.
    const root = { containers: [{ ...goodContainer, securityContext: { ...goodContainer.securityContext, runAsUser: 0 } }] };
    assert.equal(detail({ level: 'restricted', version: 23 }, root), 'runAsUser=0 (container "web" must not set runAsUser=0)');
    assert.equal(detail({ level: 'restricted', version: 22 }, root), '');
  });

  test('restricted volume types replace the hostPath check', () => {
    assert.equal(detail(restricted, { volumes: [{ name: 'h', hostPath: { path: '/' } }, { name: 'n', nfs: { server: 's', path: '/' } }, { name: 'e', emptyDir: {} }], containers: [goodContainer] }),
      'restricted volume types (volumes "h", "n" use restricted volume types "hostPath", "nfs")');
  });

  test('windows pods are exempt from linux-only restricted checks', () => {
    assert.equal(detail(restricted, { os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, containers: [web] }), '');
  });
});

describe('PodSecurity policy labels', () => {
  test('warn follows enforce unless set', () => {
    const { policy, errs } = policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.29' });
    assert.deepEqual(errs, []);
    assert.equal(levelVersionString(policy.enforce), 'baseline:v1.29');
    assert.equal(levelVersionString(policy.warn), 'baseline:v1.29');
    assert.equal(levelVersionString(policy.audit), 'privileged:latest');
  });
  test('bad values are field errors; enforce fails closed', () => {
    const { policy, errs } = policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/warn-version': '1.2' });
    assert.equal(policy.enforce.level, 'restricted');
    assert.deepEqual(errs.map((e) => e.field), ['metadata.labels[pod-security.kubernetes.io/enforce]', 'metadata.labels[pod-security.kubernetes.io/warn-version]']);
  });
});

describe('PodSecurity admission', () => {
  const p = new PodSecurityAdmission();
  const lister = new FakeLister()
    .add('', 'namespaces', ns('ns', { 'pod-security.kubernetes.io/enforce': 'restricted' }))
    .add('', 'namespaces', ns('warned', { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted' }))
    .add('', 'namespaces', ns('open', {}));

  test('enforce refuses with upstream message', async () => {
    const a = attrs('CREATE', '', 'pods', pod({ containers: [{ name: 'web', securityContext: { privileged: true } }] }));
    assert.ok(p.handles(a));
    await assert.rejects(() => p.validate(a, lister), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 403);
      assert.match(e.status.message ?? '', /^pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged \(container "web" must not set securityContext.privileged=true\), allowPrivilegeEscalation != false/);
      return true;
    });
    await p.validate(attrs('CREATE', '', 'pods', pod({ containers: [goodContainer] })), lister);
  });

  test('warn adds a warning and allows', async () => {
    const a = attrs('CREATE', '', 'pods', pod({ containers: [web] }, 'x', 'warned'));
    await p.validate(a, lister);
    assert.equal(a.warnings.length, 1);
    assert.match(a.warnings[0]!, /^would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  });

  test('workloads are warned about, never refused', async () => {
    const d = { metadata: { name: 'd', namespace: 'ns' }, spec: { template: { metadata: {}, spec: { containers: [web] } } } };
    const a = attrs('CREATE', 'apps', 'deployments', d);
    assert.ok(p.handles(a));
    await p.validate(a, lister);
    assert.deepEqual(a.warnings, [`would violate PodSecurity "restricted:latest": ${detail(restricted, { containers: [web] })}`]);
    const cj = { metadata: { name: 'c', namespace: 'open' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [web] } } } } } };
    const b = attrs('CREATE', 'batch', 'cronjobs', cj);
    await p.validate(b, lister);
    assert.deepEqual(b.warnings, []);
  });

  test('insignificant pod updates are not re-evaluated', async () => {
    const old = pod({ containers: [web] });
    const changed = pod({ containers: [web], activeDeadlineSeconds: 5 });
    await p.validate(attrs('UPDATE', '', 'pods', changed, { oldObject: old }), lister);
    await assert.rejects(() => p.validate(attrs('UPDATE', '', 'pods', pod({ containers: [{ ...web, image: 'nginx:2' }] }), { oldObject: old }), lister));
  });

  test('namespaces with bad labels are invalid', async () => {
    const a = attrs('CREATE', '', 'namespaces', ns('bad', { 'pod-security.kubernetes.io/enforce': 'strict' }));
    await assert.rejects(() => p.validate(a, lister), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.code, 422);
      assert.equal(e.status.message, 'Namespace "bad" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted');
      return true;
    });
  });

  test('tightening enforce warns about existing pods', async () => {
    const l = new FakeLister()
      .add('', 'pods', pod({ containers: [web] }, 'p1', 'open'))
      .add('', 'pods', pod({ containers: [web] }, 'p0', 'open'))
      .add('', 'pods', pod({ hostNetwork: true, containers: [web] }, 'p2', 'open'));
    const a = attrs('UPDATE', '', 'namespaces', ns('open', { 'pod-security.kubernetes.io/enforce': 'baseline' }), { oldObject: ns('open', {}) });
    await p.validate(a, l);
    assert.deepEqual(a.warnings, ['existing pods in namespace "open" violate the new PodSecurity enforce level "baseline:latest"', 'p2: host namespaces']);
    const r = attrs('UPDATE', '', 'namespaces', ns('open', { 'pod-security.kubernetes.io/enforce': 'restricted' }), { oldObject: ns('open', {}) });
    await p.validate(r, l);
    assert.deepEqual(r.warnings, [
      'existing pods in namespace "open" violate the new PodSecurity enforce level "restricted:latest"',
      'p0 (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
      'p2: host namespaces, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
    ]);
  });
});

describe('PodSecurity audit annotations', () => {
  const lister = new FakeLister()
    .add('', 'namespaces', ns('audited', { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/audit': 'restricted' }))
    .add('', 'namespaces', ns('warned', { 'pod-security.kubernetes.io/warn': 'restricted' }))
    .add('', 'namespaces', ns('open', {}))
    .add('', 'namespaces', ns('exempt', { 'pod-security.kubernetes.io/enforce': 'restricted' }))
    .add('', 'namespaces', ns('bad', { 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/audit': 'restricted' }));
  const p = new PodSecurityAdmission({ exemptNamespaces: ['exempt'], exemptUsers: ['ci'], exemptRuntimeClasses: ['kata'] });
  const restrictedWeb = detail(restricted, { containers: [web] });

  test('an admitted pod records the enforced policy and its audit-mode violations', async () => {
    const a = attrs('CREATE', '', 'pods', pod({ containers: [web] }, 'x', 'audited'));
    const annotations = audited(a);
    await p.validate(a, lister);
    assert.deepEqual(annotations, {
      'pod-security.kubernetes.io/enforce-policy': 'baseline:latest',
      'pod-security.kubernetes.io/audit-violations': `would violate PodSecurity "restricted:latest": ${restrictedWeb}`,
    });
  });

  test('a refused pod still records both', async () => {
    const bad = { hostNetwork: true, containers: [web] };
    const a = attrs('CREATE', '', 'pods', pod(bad, 'x', 'audited'));
    const annotations = audited(a);
    await assert.rejects(() => p.validate(a, lister), ApiError);
    assert.deepEqual(annotations, {
      'pod-security.kubernetes.io/enforce-policy': 'baseline:latest',
      'pod-security.kubernetes.io/audit-violations': `would violate PodSecurity "restricted:latest": ${detail(restricted, bad)}`,
    });
  });

  test('warn violations are warnings only; an unlabeled namespace records privileged:latest', async () => {
    const a = attrs('CREATE', '', 'pods', pod({ containers: [web] }, 'x', 'warned'));
    const annotations = audited(a);
    await p.validate(a, lister);
    assert.equal(a.warnings.length, 1);
    assert.deepEqual(annotations, { 'pod-security.kubernetes.io/enforce-policy': 'privileged:latest' });
    const o = attrs('CREATE', '', 'pods', pod({ containers: [web] }, 'x', 'open'));
    const open = audited(o);
    await p.validate(o, lister);
    assert.deepEqual(open, { 'pod-security.kubernetes.io/enforce-policy': 'privileged:latest' });
  });

  test('exemptions say which one applied', async () => {
    const byNamespace = attrs('CREATE', '', 'pods', pod({ containers: [web] }, 'x', 'exempt'));
    const n = audited(byNamespace);
    await p.validate(byNamespace, lister);
    assert.deepEqual(n, { 'pod-security.kubernetes.io/exempt': 'namespace' });
    const byUser: AdmissionAttributes = { ...attrs('CREATE', '', 'pods', pod({ containers: [web] }, 'x', 'audited')), user: { name: 'ci', groups: [] } };
    const u = audited(byUser);
    await p.validate(byUser, lister);
    assert.deepEqual(u, { 'pod-security.kubernetes.io/exempt': 'user' });
    const byClass = attrs('CREATE', '', 'pods', pod({ runtimeClassName: 'kata', hostNetwork: true, containers: [web] }, 'x', 'audited'));
    const c = audited(byClass);
    await p.validate(byClass, lister);
    assert.deepEqual(c, { 'pod-security.kubernetes.io/exempt': 'runtimeClass' });
  });

  test('workloads record audit violations but no enforced policy', async () => {
    const d = { metadata: { name: 'd', namespace: 'audited' }, spec: { template: { metadata: {}, spec: { containers: [web] } } } };
    const a = attrs('CREATE', 'apps', 'deployments', d);
    const annotations = audited(a);
    await p.validate(a, lister);
    assert.deepEqual(annotations, { 'pod-security.kubernetes.io/audit-violations': `would violate PodSecurity "restricted:latest": ${restrictedWeb}` });
  });

  test('unparsable namespace labels are recorded as an error', async () => {
    const a = attrs('CREATE', '', 'pods', pod({ containers: [goodContainer] }, 'x', 'bad'));
    const annotations = audited(a);
    await p.validate(a, lister);
    assert.deepEqual(annotations, {
      'pod-security.kubernetes.io/error': 'Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
      'pod-security.kubernetes.io/enforce-policy': 'restricted:latest',
    });
  });

  test('requests nobody audits get no annotations and the same answers', async () => {
    const a = attrs('CREATE', '', 'pods', pod({ containers: [web] }, 'x', 'audited'));
    await p.validate(a, lister);
    assert.deepEqual(a.warnings, []);
    await assert.rejects(() => p.validate(attrs('CREATE', '', 'pods', pod({ hostNetwork: true, containers: [web] }, 'x', 'audited')), lister), ApiError);
  });
});
