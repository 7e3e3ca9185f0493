// Unit tests of ServiceAccount admission: the default account, the projected token volume and its
// mounts, automount opt-outs, image pull secrets, missing accounts and mirror pods.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import type { KObject } from '../registry/strategy.ts';
import { admissionPluginFactory } from './types.ts';
import { FakeLister, attrs } from './fake_lister.ts';
import { tokenVolumeSource } from './service_account.ts';
import './service_account.ts';

const p = admissionPluginFactory('ServiceAccount')!({});

type Spec = { volumes?: KObject[]; containers: KObject[]; initContainers?: KObject[]; [k: string]: unknown };

function pod(spec: Record<string, unknown> = {}, annotations?: Record<string, string>): KObject {
  return { metadata: { name: 'x', namespace: 'ns', ...(annotations ? { annotations } : {}) }, spec: { containers: [{ name: 'web', image: 'nginx' }], ...spec } };
}

function spec(o: KObject): Spec {
  return o['spec'] as Spec;
}

async function message(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 403);
    return e.status.message ?? '';
  }
  return 'allowed';
}

const accounts = new FakeLister()
  .add('', 'serviceaccounts', { metadata: { name: 'default', namespace: 'ns' } })
  .add('', 'serviceaccounts', { metadata: { name: 'quiet', namespace: 'ns' }, automountServiceAccountToken: false, imagePullSecrets: [{ name: 'regcred' }] });

describe('ServiceAccount', () => {
  test('sets the default account and mounts the kube-api-access volume in every container', async () => {
    const obj = pod({ initContainers: [{ name: 'init', image: 'busybox' }] });
    const a = attrs('CREATE', '', 'pods', obj);
    assert.ok(p.handles(a));
    await p.admit!(a, accounts);
    const s = spec(obj);
    assert.equal(s['serviceAccountName'], 'default');
    assert.equal(s['serviceAccount'], 'default');
    assert.equal(s.volumes?.length, 1);
    const vol = s.volumes![0]!;
    assert.match(String(vol['name']), /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(vol['projected'], tokenVolumeSource());
    assert.deepEqual((vol['projected'] as { sources: KObject[] }).sources[0], { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
    for (const c of [...s.containers, ...s.initContainers!]) {
      assert.deepEqual(c['volumeMounts'], [{ name: vol['name'], readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    }
    assert.equal(await message(() => p.validate!(a, accounts)), 'allowed');
  });

  test('containers with their own mount at the token path are left alone', async () => {
    const obj = pod({ containers: [{ name: 'web', volumeMounts: [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }] });
    await p.admit!(attrs('CREATE', '', 'pods', obj), accounts);
    assert.equal(spec(obj).volumes, undefined);
  });

  test('automount can be turned off by the account or the pod; pull secrets come from the account', async () => {
    const obj = pod({ serviceAccountName: 'quiet' });
    await p.admit!(attrs('CREATE', '', 'pods', obj), accounts);
    assert.equal(spec(obj).volumes, undefined);
    assert.deepEqual(spec(obj)['imagePullSecrets'], [{ name: 'regcred' }]);
    const optOut = pod({ automountServiceAccountToken: false });
    await p.admit!(attrs('CREATE', '', 'pods', optOut), accounts);
    assert.equal(spec(optOut).volumes, undefined);
    const optIn = pod({ serviceAccountName: 'quiet', automountServiceAccountToken: true });
    await p.admit!(attrs('CREATE', '', 'pods', optIn), accounts);
    assert.equal(spec(optIn).volumes?.length, 1);
  });

  test('refuses a pod whose account does not exist', async () => {
    assert.equal(await message(() => p.admit!(attrs('CREATE', '', 'pods', pod({ serviceAccountName: 'ghost' })), accounts)),
      'pods "x" is forbidden: error looking up service account ns/ghost: serviceaccount "ghost" not found');
  });

  test('waits for the default account to appear', async () => {
    const l = new FakeLister();
    setTimeout(() => l.add('', 'serviceaccounts', { metadata: { name: 'default', namespace: 'ns' } }), 30);
    const obj = pod();
    await p.admit!(attrs('CREATE', '', 'pods', obj), l);
    assert.equal(spec(obj)['serviceAccountName'], 'default');
  });

  test('mirror pods are not changed and may reference neither accounts nor secrets', async () => {
    const mirror = { 'kubernetes.io/config.mirror': 'abc' };
    const obj = pod({}, mirror);
    const a = attrs('CREATE', '', 'pods', obj);
    await p.admit!(a, accounts);
    assert.equal(spec(obj)['serviceAccountName'], undefined);
    assert.equal(await message(() => p.validate!(a, accounts)), 'allowed');
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', pod({ serviceAccountName: 'default' }, mirror)), accounts)),
      'pods "x" is forbidden: a mirror pod may not reference service accounts');
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', pod({ volumes: [{ name: 's', secret: { secretName: 'k' } }] }, mirror)), accounts)),
      'pods "x" is forbidden: a mirror pod may not reference secrets');
  });

  test('accounts that enforce mountable secrets refuse other secrets', async () => {
    const l = new FakeLister().add('', 'serviceaccounts', {
      metadata: { name: 'strict', namespace: 'ns', annotations: { 'kubernetes.io/enforce-mountable-secrets': 'true' } }, secrets: [{ name: 'ok' }],
    });
    const bad = pod({ serviceAccountName: 'strict', volumes: [{ name: 'v', secret: { secretName: 'other' } }] });
    assert.equal(await message(() => p.validate!(attrs('CREATE', '', 'pods', bad), l)),
      'pods "x" is forbidden: volume with secret.secretName="other" is not allowed because service account strict does not reference that secret');
  });
});

describe('ServiceAccount ephemeral containers', () => {
  test('an ephemeral container may not use a secret an enforcing account does not list', async () => {
    const l = new FakeLister().add('', 'serviceaccounts', {
      metadata: { name: 'strict', namespace: 'ns', annotations: { 'kubernetes.io/enforce-mountable-secrets': 'true' } }, secrets: [{ name: 'ok' }],
    });
    const obj = pod({ serviceAccountName: 'strict', ephemeralContainers: [{ name: 'dbg', envFrom: [{ secretRef: { name: 'other' } }] }] });
    const a = attrs('UPDATE', '', 'pods', obj, { oldObject: pod({ serviceAccountName: 'strict' }), subresource: 'ephemeralcontainers' });
    assert.ok(p.handles(a));
    assert.equal(await message(() => p.validate!(a, l)),
      'pods "x" is forbidden: ephemeral container dbg with envFrom referencing secret.secretName="other" is not allowed because service account strict does not reference that secret');
  });
});
