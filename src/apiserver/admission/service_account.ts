// ServiceAccount admission: pods run as a ServiceAccount ("default" unless named), which must exist;
// its token, the cluster CA and the namespace are mounted through a projected kube-api-access-*
// volume in every container unless automounting is off; mirror pods may reference neither.
import { randomInt } from 'node:crypto';
import type { KObject } from '../registry/strategy.ts';
import { forbidden, getArr, getFresh, getMap, getObj, getStr, metaOf, objField, type Obj } from './plugin_util.ts';
import { registerAdmissionPlugin, type AdmissionAttributes, type AdmissionLister, type AdmissionPlugin } from './types.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** Bound tokens mounted into pods live a little over an hour (WarnOnlyBoundTokenExpirationSeconds). */
export const TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const ENFORCE_MOUNTABLE_SECRETS = 'kubernetes.io/enforce-mountable-secrets';
/** The default account is created by a controller just after its namespace; upstream retries ~1s. */
const DEFAULT_ACCOUNT_WAIT_MS = 1000;
/** utilrand's alphabet: no vowels, no confusable characters. */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return s;
}

/** The projected volume source that carries the token, the CA bundle and the namespace. */
export function tokenVolumeSource(): Obj {
  return {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

function shouldAutomount(sa: KObject, spec: Obj): boolean {
  if (typeof spec['automountServiceAccountToken'] === 'boolean') return spec['automountServiceAccountToken'];
  if (typeof sa['automountServiceAccountToken'] === 'boolean') return sa['automountServiceAccountToken'];
  return true;
}

/** Adds the token volume and its mount in every (init) container without a mount at the token path. */
export function mountServiceAccountToken(spec: Obj): void {
  const volumes = getArr(spec, 'volumes');
  const existing = volumes.find((v) => getStr(v, 'name').startsWith(TOKEN_VOLUME_PREFIX));
  const volumeName = existing ? getStr(existing, 'name') : TOKEN_VOLUME_PREFIX + randomSuffix(5);
  let needsVolume = false;
  for (const c of [...getArr(spec, 'initContainers'), ...getArr(spec, 'containers')]) {
    const mounts = getArr(c, 'volumeMounts');
    if (mounts.some((m) => getStr(m, 'mountPath') === TOKEN_MOUNT_PATH)) continue;
    c['volumeMounts'] = [...mounts, { name: volumeName, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
    needsVolume = true;
  }
  if (!existing && needsVolume) spec['volumes'] = [...volumes, { name: volumeName, projected: tokenVolumeSource() }];
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function getServiceAccount(a: AdmissionAttributes, lister: AdmissionLister, name: string): Promise<KObject> {
  let sa = await getFresh(lister, '', 'serviceaccounts', a.namespace, name);
  if (!sa && name === DEFAULT_SERVICE_ACCOUNT) {
    const deadline = Date.now() + DEFAULT_ACCOUNT_WAIT_MS;
    while (!sa && Date.now() < deadline) {
      await delay(20);
      sa = lister.get('', 'serviceaccounts', a.namespace, name);
    }
  }
  if (!sa) throw forbidden(a, `error looking up service account ${a.namespace}/${name}: serviceaccount "${name}" not found`);
  return sa;
}

/** Every Secret a pod references (VisitPodSecretNames), for the mirror pod check. */
function referencesSecrets(spec: Obj): boolean {
  if (getArr(spec, 'imagePullSecrets').length > 0) return true;
  for (const v of getArr(spec, 'volumes')) {
    if (getObj(v, 'secret')) return true;
    if (getArr(getObj(v, 'projected'), 'sources').some((s) => getObj(s, 'secret'))) return true;
    for (const kind of ['azureFile', 'cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos', 'csi']) {
      const src = getObj(v, kind);
      if (src && (getStr(src, 'secretName') !== '' || getObj(src, 'secretRef') || getObj(src, 'nodePublishSecretRef'))) return true;
    }
  }
  for (const c of [...getArr(spec, 'initContainers'), ...getArr(spec, 'containers'), ...getArr(spec, 'ephemeralContainers')]) {
    if (getArr(c, 'envFrom').some((e) => getObj(e, 'secretRef'))) return true;
    if (getArr(c, 'env').some((e) => getObj(getObj(e, 'valueFrom'), 'secretKeyRef'))) return true;
  }
  return false;
}

function validateMirrorPod(a: AdmissionAttributes, spec: Obj): void {
  if (getStr(spec, 'serviceAccountName') !== '') throw forbidden(a, 'a mirror pod may not reference service accounts');
  if (referencesSecrets(spec)) throw forbidden(a, 'a mirror pod may not reference secrets');
  for (const v of getArr(spec, 'volumes')) {
    if (getArr(getObj(v, 'projected'), 'sources').some((s) => getObj(s, 'serviceAccountToken'))) {
      throw forbidden(a, 'a mirror pod may not use ServiceAccountToken volume projections');
    }
  }
}

/** The refusal when a container's environment uses a Secret the account does not list. */
function containerSecretRefusal(sa: KObject, groups: ReadonlyArray<readonly [string, readonly Obj[]]>): string | undefined {
  const saName = getStr(metaOf(sa), 'name');
  const mountable = new Set(getArr(sa, 'secrets').map((s) => getStr(s, 'name')));
  const tail = `is not allowed because service account ${saName} does not reference that secret`;
  for (const [what, list] of groups) {
    for (const c of list) {
      for (const e of getArr(c, 'env')) {
        const ref = getObj(getObj(e, 'valueFrom'), 'secretKeyRef');
        if (ref && !mountable.has(getStr(ref, 'name'))) {
          return `${what} ${getStr(c, 'name')} with envVar ${getStr(e, 'name')} referencing secret.secretName="${getStr(ref, 'name')}" ${tail}`;
        }
      }
      for (const e of getArr(c, 'envFrom')) {
        const ref = getObj(e, 'secretRef');
        if (ref && !mountable.has(getStr(ref, 'name'))) {
          return `${what} ${getStr(c, 'name')} with envFrom referencing secret.secretName="${getStr(ref, 'name')}" ${tail}`;
        }
      }
    }
  }
  return undefined;
}

/** The refusal when a pod uses a Secret its account does not list and the account enforces that. */
function limitSecretReferences(sa: KObject, spec: Obj): string | undefined {
  const saName = getStr(metaOf(sa), 'name');
  const mountable = new Set(getArr(sa, 'secrets').map((s) => getStr(s, 'name')));
  for (const v of getArr(spec, 'volumes')) {
    const secret = getObj(v, 'secret');
    if (secret && !mountable.has(getStr(secret, 'secretName'))) {
      return `volume with secret.secretName="${getStr(secret, 'secretName')}" is not allowed because service account ${saName} does not reference that secret`;
    }
  }
  const envRefusal = containerSecretRefusal(sa, [['init container', getArr(spec, 'initContainers')], ['container', getArr(spec, 'containers')]]);
  if (envRefusal) return envRefusal;
  const pullSecrets = new Set(getArr(sa, 'imagePullSecrets').map((s) => getStr(s, 'name')));
  const refs = getArr(spec, 'imagePullSecrets');
  for (let i = 0; i < refs.length; i++) {
    const n = getStr(refs[i], 'name');
    if (!pullSecrets.has(n)) return `imagePullSecrets[${i}].name="${n}" is not allowed because service account ${saName} does not reference that imagePullSecret`;
  }
  return undefined;
}

/** Ephemeral containers added later obey the same account's secret restrictions. */
async function validateEphemeralContainers(a: AdmissionAttributes, lister: AdmissionLister, spec: Obj): Promise<void> {
  const name = getStr(spec, 'serviceAccountName');
  if (name === '') throw forbidden(a, `no service account specified for pod ${a.namespace}/${a.name}`);
  const sa = await getServiceAccount(a, lister, name);
  if (getMap(metaOf(sa), 'annotations')[ENFORCE_MOUNTABLE_SECRETS] !== 'true') return;
  const why = containerSecretRefusal(sa, [['ephemeral container', getArr(spec, 'ephemeralContainers')]]);
  if (why) throw forbidden(a, why);
}

function isMirrorPod(pod: KObject): boolean {
  return MIRROR_POD_ANNOTATION in getMap(metaOf(pod), 'annotations');
}

function createServiceAccount(): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    handles: (a) => a.info.group === '' && a.info.resource === 'pods'
      && ((a.subresource === '' && a.operation === 'CREATE') || (a.subresource === 'ephemeralcontainers' && a.operation === 'UPDATE')),
    async admit(a, lister) {
      const pod = a.object;
      if (!pod || a.operation !== 'CREATE') return;
      const spec = objField(pod, 'spec');
      // The kubelet deletes a mirror pod whose spec differs from its static pod, so never change it.
      if (isMirrorPod(pod)) return;
      if (getStr(spec, 'serviceAccountName') === '') spec['serviceAccountName'] = DEFAULT_SERVICE_ACCOUNT;
      const name = getStr(spec, 'serviceAccountName');
      // The deprecated alias follows the real field, as the API's conversion keeps them equal.
      spec['serviceAccount'] = name;
      const sa = await getServiceAccount(a, lister, name);
      if (shouldAutomount(sa, spec)) mountServiceAccountToken(spec);
      if (getArr(spec, 'imagePullSecrets').length === 0 && getArr(sa, 'imagePullSecrets').length > 0) {
        spec['imagePullSecrets'] = getArr(sa, 'imagePullSecrets').map((s) => ({ name: getStr(s, 'name') }));
      }
    },
    async validate(a, lister) {
      const pod = a.object;
      if (!pod) return;
      const spec = getObj(pod, 'spec') ?? {};
      if (a.subresource === 'ephemeralcontainers') {
        await validateEphemeralContainers(a, lister, spec);
        return;
      }
      if (isMirrorPod(pod)) {
        validateMirrorPod(a, spec);
        return;
      }
      const name = getStr(spec, 'serviceAccountName');
      if (name === '') throw forbidden(a, `no service account specified for pod ${a.namespace}/${a.name}`);
      const sa = await getServiceAccount(a, lister, name);
      if (getMap(metaOf(sa), 'annotations')[ENFORCE_MOUNTABLE_SECRETS] === 'true') {
        const why = limitSecretReferences(sa, spec);
        if (why) throw forbidden(a, why);
      }
    },
  };
}

registerAdmissionPlugin('ServiceAccount', createServiceAccount);
