// The AdmissionReview a webhook receives (admission.k8s.io/v1, or v1beta1 for webhooks that only
// speak it) and the checks on its answer (upstream's webhook/request): uid, allowed, patch and
// patchType, warnings, audit annotations.
import { randomUUID } from 'node:crypto';
import { convertObject } from '../../../api/conversion.ts';
import { groupVersionString } from '../../../api/resource_types.ts';
import type { KObject } from '../../registry/strategy.ts';
import type { AdmissionAttributes } from '../types.ts';
import { kindFor, requestResource, type MatchedResource } from './rules.ts';

/** A JSON object. */
type Obj = Record<string, unknown>;

const OPTIONS_KIND = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions', CONNECT: '' } as const;

/** The request's object and old object in the matched version (converted from the stored one). */
export interface VersionedObjects {
  readonly object: KObject | undefined;
  readonly oldObject: KObject | undefined;
}

/** Converts an object from the stored version to the matched one (a copy either way). */
export function toMatchedVersion(a: AdmissionAttributes, m: MatchedResource, obj: KObject | undefined): KObject | undefined {
  if (!obj) return undefined;
  const from = groupVersionString(a.info.group, a.info.version);
  const to = groupVersionString(m.kind.group, m.kind.version);
  if (from === to || m.kind.kind !== a.info.kind) return structuredClone(obj);
  return convertObject(obj, from, to, a.info.kind);
}

/** Converts a (patched) object back from the matched version to the stored one. */
export function fromMatchedVersion(a: AdmissionAttributes, m: MatchedResource, obj: KObject): KObject {
  const from = groupVersionString(m.kind.group, m.kind.version);
  const to = groupVersionString(a.info.group, a.info.version);
  if (from === to || m.kind.kind !== a.info.kind) return obj;
  return convertObject(obj, from, to, a.info.kind);
}

/** The versioned objects of a request. */
export function versionedObjects(a: AdmissionAttributes, m: MatchedResource): VersionedObjects {
  return { object: toMatchedVersion(a, m, a.object), oldObject: toMatchedVersion(a, m, a.oldObject) };
}

/** admissionv1.AdmissionRequest without object and oldObject (CreateAdmissionRequest; CEL's `request`). */
export function admissionRequest(a: AdmissionAttributes, m: MatchedResource, uid = ''): Obj {
  const req = requestResource(a);
  const requestKind = kindFor(req, a.subresource);
  const user = a.user;
  const userInfo: Obj = user ? { username: user.name } : {};
  if (user?.uid) userInfo['uid'] = user.uid;
  if (user && user.groups.length > 0) userInfo['groups'] = [...user.groups];
  if (user?.extra && Object.keys(user.extra).length > 0) userInfo['extra'] = structuredClone(user.extra);
  const out: Obj = { uid };
  out['kind'] = { ...m.kind };
  out['resource'] = { group: m.info.group, version: m.info.version, resource: m.info.resource };
  if (a.subresource !== '') out['subResource'] = a.subresource;
  out['requestKind'] = { ...requestKind };
  out['requestResource'] = { group: req.group, version: req.version, resource: req.resource };
  if (a.subresource !== '') out['requestSubResource'] = a.subresource;
  if (a.name !== '') out['name'] = a.name;
  const namespace = a.info.group === '' && a.info.resource === 'namespaces' ? a.name : a.namespace;
  if (namespace !== '') out['namespace'] = namespace;
  out['operation'] = a.operation;
  out['userInfo'] = userInfo;
  out['dryRun'] = a.dryRun;
  const optionsKind = OPTIONS_KIND[a.operation];
  if (optionsKind !== '') {
    const options: Obj = { kind: optionsKind, apiVersion: 'meta.k8s.io/v1' };
    if (a.dryRun) options['dryRun'] = ['All'];
    out['options'] = options;
  }
  return out;
}

/** Which AdmissionReview version to send: the first of the webhook's list this server speaks. */
export function reviewVersion(accepted: readonly string[]): 'v1' | 'v1beta1' | undefined {
  for (const v of accepted) if (v === 'v1' || v === 'v1beta1') return v;
  return undefined;
}

/** A review to send, with the uid its answer must echo. */
export interface Review {
  readonly uid: string;
  readonly version: 'v1' | 'v1beta1';
  readonly body: Obj;
}

/** CreateAdmissionObjects: the AdmissionReview for one webhook call. */
export function createAdmissionReview(a: AdmissionAttributes, m: MatchedResource, objs: VersionedObjects, version: 'v1' | 'v1beta1'): Review {
  const uid = randomUUID();
  const request = admissionRequest(a, m, uid);
  const withObjects: Obj = {};
  for (const [k, v] of Object.entries(request)) {
    withObjects[k] = v;
    // upstream's field order: …userInfo, object, oldObject, dryRun, options
    if (k === 'userInfo') {
      withObjects['object'] = objs.object ?? null;
      withObjects['oldObject'] = objs.oldObject ?? null;
    }
  }
  return { uid, version, body: { kind: 'AdmissionReview', apiVersion: `admission.k8s.io/${version}`, request: withObjects } };
}

/** What a webhook answered (webhookrequest.AdmissionResponse). */
export interface AdmissionResult {
  readonly allowed: boolean;
  /** The denial's metav1.Status (result). */
  readonly result: Obj | undefined;
  readonly patch: Buffer | undefined;
  readonly patchType: string;
  readonly warnings: readonly string[];
  readonly auditAnnotations: Readonly<Record<string, string>>;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** VerifyAdmissionResponse: throws an Error with upstream's words when the answer is unusable. */
export function verifyAdmissionResponse(review: Review, mutating: boolean, answer: unknown): AdmissionResult {
  if (!isObj(answer)) throw new Error('webhook response was absent');
  const response = answer['response'];
  if (!isObj(response)) throw new Error('webhook response was absent');
  const uid = typeof response['uid'] === 'string' ? response['uid'] : '';
  if (uid !== review.uid) throw new Error(`expected response.uid="${review.uid}", got "${uid}"`);
  const apiVersion = typeof answer['apiVersion'] === 'string' ? answer['apiVersion'] : '';
  const kind = typeof answer['kind'] === 'string' ? answer['kind'] : '';
  if (review.version === 'v1' && (apiVersion !== 'admission.k8s.io/v1' || kind !== 'AdmissionReview')) {
    const [g, v] = apiVersion.includes('/') ? apiVersion.split('/', 2) as [string, string] : ['', apiVersion];
    throw new Error(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${g}/${v}, Kind=${kind}`);
  }
  let patch: Buffer | undefined;
  if (typeof response['patch'] === 'string' && response['patch'] !== '') patch = Buffer.from(response['patch'], 'base64');
  let patchType = typeof response['patchType'] === 'string' ? response['patchType'] : '';
  if (review.version === 'v1beta1' && patch && patchType === '') patchType = 'JSONPatch';
  if (patch && patch.length > 0) {
    if (patchType === '') throw new Error('webhook returned response.patch but not response.patchType');
    if (!mutating) throw new Error('validating webhook may not return response.patch');
  } else if (patchType !== '') {
    if (mutating) throw new Error('webhook returned response.patchType but not response.patch');
    throw new Error('validating webhook may not return response.patchType');
  }
  const warnings = Array.isArray(response['warnings']) ? response['warnings'].filter((w): w is string => typeof w === 'string') : [];
  const auditAnnotations: Record<string, string> = {};
  if (isObj(response['auditAnnotations'])) {
    for (const [k, v] of Object.entries(response['auditAnnotations'])) if (typeof v === 'string') auditAnnotations[k] = v;
  }
  return {
    allowed: response['allowed'] === true,
    result: isObj(response['status']) ? response['status'] : undefined,
    patch, patchType, warnings, auditAnnotations,
  };
}
