// The CertificateSigningRequest registry strategy (upstream's csrStrategy, csrStatusStrategy and
// csrApprovalStrategy): the spec is fixed at create, the main resource never changes status,
// /status may not touch approval, /approval changes only the conditions. Validation as upstream.
import {
  duplicate, forbidden, invalid, newPath, notSupported, omitValue, required, type FieldError,
} from '../../api/field_errors.ts';
import { rfc3339 } from '../registry/object_meta.ts';
import '../registry/strategies.ts';
import { registerStrategy, strategyFor, type KObject, type StrategyContext } from '../registry/strategy.ts';
import { parseCsr } from './request.ts';

export const CSR_GROUP = 'certificates.k8s.io';
export const CSR_RESOURCE = 'certificatesigningrequests';

/** The signers this server knows. */
export const Signers = {
  KubeAPIServerClient: 'kubernetes.io/kube-apiserver-client',
  KubeAPIServerClientKubelet: 'kubernetes.io/kube-apiserver-client-kubelet',
  KubeletServing: 'kubernetes.io/kubelet-serving',
  LegacyUnknown: 'kubernetes.io/legacy-unknown',
} as const;

const ALL_USAGES = [
  'any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment', 'decipher only',
  'digital signature', 'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'key agreement',
  'key encipherment', 'microsoft sgc', 'netscape sgc', 'ocsp signing', 's/mime', 'server auth', 'signing', 'timestamping',
];

type Obj = Record<string, unknown>;

/** A CSR's conditions. */
export function conditionsOf(csr: KObject): Obj[] {
  const c = ((csr['status'] ?? {}) as Obj)['conditions'];
  return Array.isArray(c) ? (c as Obj[]) : [];
}

/** Whether the CSR carries a condition of the type with status True. */
export function hasTrueCondition(csr: KObject, type: string): boolean {
  return conditionsOf(csr).some((c) => c['type'] === type && c['status'] === 'True');
}

/** Whether the CSR is approved and not denied (upstream's IsCertificateRequestApproved). */
export function isApproved(csr: KObject): boolean {
  let approved = false;
  for (const c of conditionsOf(csr)) {
    if (c['type'] === 'Approved') approved = true;
    if (c['type'] === 'Denied') return false;
  }
  return approved;
}

/** The certificate PEM text, or ''. */
export function certificateOf(csr: KObject): string {
  const c = ((csr['status'] ?? {}) as Obj)['certificate'];
  return typeof c === 'string' ? c : '';
}

function validateSignerName(name: unknown): FieldError[] {
  const path = newPath('spec', 'signerName');
  if (typeof name !== 'string' || name === '') return [required(path, '')];
  const slash = name.indexOf('/');
  const domain = slash < 0 ? '' : name.slice(0, slash);
  const rest = slash < 0 ? '' : name.slice(slash + 1);
  if (slash < 0 || rest === '' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/.test(domain)) {
    return [invalid(path, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  }
  return [];
}

function validateConditions(csr: KObject): FieldError[] {
  const base = newPath('status', 'conditions');
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false, denied = false;
  conditionsOf(csr).forEach((c, i) => {
    const type = typeof c['type'] === 'string' ? c['type'] : '';
    const status = c['status'];
    if (type === '') errs.push(required(base.index(i).child('type'), ''));
    if (status !== 'True' && status !== 'False' && status !== 'Unknown') {
      errs.push(notSupported(base.index(i).child('status'), status ?? '', ['False', 'True', 'Unknown']));
    }
    if (seen.has(type)) errs.push(duplicate(base.index(i).child('type'), type));
    seen.add(type);
    if (type === 'Approved' || type === 'Denied') {
      if (type === 'Approved') approved = true;
      else denied = true;
      if (status !== 'True') errs.push(notSupported(base.index(i).child('status'), status ?? '', ['True']));
    }
  });
  if (approved && denied) errs.push(invalid(base, omitValue, 'Approved and Denied conditions are mutually exclusive'));
  return errs;
}

function validateCertificate(csr: KObject): FieldError[] {
  const cert = certificateOf(csr);
  if (cert === '') return [];
  const path = newPath('status', 'certificate');
  const text = Buffer.from(cert, 'base64').toString('latin1');
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
  if (blocks.length === 0) return [invalid(path, '<certificate data>', 'at least one CERTIFICATE PEM block is required')];
  const other = blocks.find((b) => b[1] !== 'CERTIFICATE');
  if (other) return [invalid(path, '<certificate data>', `only CERTIFICATE PEM blocks are allowed, found "${other[1]}"`)];
  return [];
}

/** Field errors of a CSR (create, and every update). */
export function validateCsr(csr: KObject): FieldError[] {
  const spec = (csr['spec'] ?? {}) as Obj;
  const errs: FieldError[] = [];
  const request = spec['request'];
  if (typeof request !== 'string' || request === '') {
    errs.push(invalid(newPath('spec', 'request'), omitValue, 'PEM block type must be CERTIFICATE REQUEST'));
  } else {
    try {
      parseCsr(request);
    } catch (err) {
      errs.push(invalid(newPath('spec', 'request'), omitValue, (err as Error).message));
    }
  }
  const usages = Array.isArray(spec['usages']) ? (spec['usages'] as unknown[]) : [];
  if (usages.length === 0) errs.push(required(newPath('spec', 'usages'), ''));
  const seen = new Set<unknown>();
  usages.forEach((u, i) => {
    if (typeof u !== 'string' || !ALL_USAGES.includes(u)) errs.push(notSupported(newPath('spec', 'usages').index(i), u, ALL_USAGES));
    else if (seen.has(u)) errs.push(duplicate(newPath('spec', 'usages').index(i), u));
    seen.add(u);
  });
  if (spec['signerName'] === Signers.LegacyUnknown) {
    errs.push(invalid(newPath('spec', 'signerName'), spec['signerName'], 'the legacy signerName is not allowed via this API version'));
  } else {
    errs.push(...validateSignerName(spec['signerName']));
  }
  const exp = spec['expirationSeconds'];
  if (typeof exp === 'number' && exp < 600) {
    errs.push(invalid(newPath('spec', 'expirationSeconds'), exp, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr), ...validateCertificate(csr));
  return errs;
}

/** Fills lastUpdateTime, and lastTransitionTime from the old condition of the same type and status. */
function populateConditionTimestamps(obj: KObject, old: KObject | undefined, now: Date): void {
  const oldConds = old ? conditionsOf(old) : [];
  for (const c of conditionsOf(obj)) {
    if (!c['lastUpdateTime']) c['lastUpdateTime'] = rfc3339(now);
    if (!c['lastTransitionTime']) {
      const prev = oldConds.find((o) => o['type'] === c['type']);
      c['lastTransitionTime'] = prev && prev['status'] === c['status'] && prev['lastTransitionTime'] ? prev['lastTransitionTime'] : rfc3339(now);
    }
  }
}

const isApproval = (c: Obj): boolean => c['type'] === 'Approved' || c['type'] === 'Denied';

function prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
  obj['spec'] = structuredClone(old['spec']);
  if (ctx.subresource === 'status') {
    // Status writers (signers) may not approve or deny.
    const status = (obj['status'] ??= {}) as Obj;
    status['conditions'] = [...conditionsOf(old).filter(isApproval), ...conditionsOf(obj).filter((c) => !isApproval(c))].map((c) => structuredClone(c));
    if ((status['conditions'] as unknown[]).length === 0) delete status['conditions'];
    populateConditionTimestamps(obj, old, ctx.now);
  } else if (ctx.subresource === 'approval') {
    // Approvers change the conditions only.
    const conditions = conditionsOf(obj);
    const status = structuredClone((old['status'] ?? {}) as Obj);
    if (conditions.length > 0) status['conditions'] = conditions;
    else delete status['conditions'];
    obj['status'] = status;
    populateConditionTimestamps(obj, old, ctx.now);
  } else {
    if (old['status'] === undefined) delete obj['status'];
    else obj['status'] = structuredClone(old['status']);
  }
}

function validateUpdate(obj: KObject, old: KObject, ctx: StrategyContext): FieldError[] {
  const errs = validateCsr(obj);
  if (ctx.subresource === 'approval') {
    for (const type of ['Approved', 'Denied']) {
      if (hasTrueCondition(old, type) && !hasTrueCondition(obj, type)) {
        errs.push(forbidden(newPath('status', 'conditions'), `updates may not remove a condition of type "${type}"`));
      }
    }
  }
  if (ctx.subresource === 'status') {
    const oldCert = certificateOf(old), cert = certificateOf(obj);
    const path = newPath('status', 'certificate');
    if (oldCert !== '' && cert !== oldCert) errs.push(invalid(path, '<certificate data>', 'updates may not modify existing certificate content'));
    if (oldCert === '' && cert !== '') {
      if (!hasTrueCondition(obj, 'Approved')) errs.push(invalid(path, '<certificate data>', 'certificate may only be set if the Approved condition is present'));
      if (hasTrueCondition(obj, 'Denied') || hasTrueCondition(obj, 'Failed')) {
        errs.push(invalid(path, '<certificate data>', 'certificate may not be set if a Denied or Failed condition is present'));
      }
    }
  }
  return errs;
}

const base = strategyFor(CSR_GROUP, CSR_RESOURCE);

registerStrategy(CSR_GROUP, CSR_RESOURCE, {
  ...base,
  // The requester is never the client's to claim: the create handler records it afterwards
  // (a create through another path, such as server-side apply, records nobody).
  prepareForCreate(obj: KObject, ctx: StrategyContext) {
    base.prepareForCreate?.(obj, ctx);
    const spec = obj['spec'];
    if (typeof spec === 'object' && spec !== null) for (const k of ['username', 'uid', 'groups', 'extra']) delete (spec as Obj)[k];
    delete obj['status'];
  },
  // Upstream does not care what requests are called: kubelets name theirs node-csr-<base64url digest>.
  nameValidator: () => [],
  validate: (obj: KObject) => validateCsr(obj),
  prepareForUpdate,
  validateUpdate,
});
