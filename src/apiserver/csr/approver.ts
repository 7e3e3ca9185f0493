// Auto-approval of kubelet client certificates (upstream's csrapproving controller): a request for
// the kube-apiserver-client-kubelet signer is approved when its requester may create
// certificatesigningrequests/nodeclient (a new node, typically a bootstrap token) or, renewing its
// own identity, certificatesigningrequests/selfnodeclient — asked like a SubjectAccessReview.
import type { Attributes, Decision } from '../authz/authorizer.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { KObject } from '../registry/strategy.ts';
import type { ParsedCsr } from './request.ts';
import { validateKubeletClientCsr } from './signer.ts';
import { Signers } from './strategy.ts';

type Obj = Record<string, unknown>;

interface Recognizer {
  readonly subresource: string;
  readonly message: string;
  recognize(csr: KObject, req: ParsedCsr): boolean;
}

function spec(csr: KObject): Obj {
  return (csr['spec'] ?? {}) as Obj;
}

function usagesOf(csr: KObject): string[] {
  const u = spec(csr)['usages'];
  return Array.isArray(u) ? u.filter((x): x is string => typeof x === 'string') : [];
}

function isNodeClientCert(csr: KObject, req: ParsedCsr): boolean {
  return spec(csr)['signerName'] === Signers.KubeAPIServerClientKubelet && validateKubeletClientCsr(req, usagesOf(csr)) === undefined;
}

const RECOGNIZERS: readonly Recognizer[] = [
  {
    subresource: 'selfnodeclient',
    message: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
    recognize: (csr, req) => isNodeClientCert(csr, req) && spec(csr)['username'] === req.commonName,
  },
  {
    subresource: 'nodeclient',
    message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
    recognize: isNodeClientCert,
  },
];

/** The requester recorded in the CSR's spec. */
export function requesterOf(csr: KObject): UserInfo {
  const s = spec(csr);
  const user: UserInfo = {
    name: typeof s['username'] === 'string' ? s['username'] : '',
    groups: Array.isArray(s['groups']) ? (s['groups'] as string[]) : [],
    ...(typeof s['uid'] === 'string' && s['uid'] !== '' ? { uid: s['uid'] } : {}),
    ...(typeof s['extra'] === 'object' && s['extra'] !== null ? { extra: s['extra'] as Record<string, string[]> } : {}),
  };
  return user;
}

/** The approval message when the request may be auto-approved, else undefined. */
export async function autoApproval(csr: KObject, req: ParsedCsr, authorize: (a: Attributes) => Decision | Promise<Decision>): Promise<string | undefined> {
  const user = requesterOf(csr);
  for (const r of RECOGNIZERS) {
    if (!r.recognize(csr, req)) continue;
    const d = await authorize({
      user, verb: 'create', isResourceRequest: true, namespace: '', apiGroup: 'certificates.k8s.io', apiVersion: '*',
      resource: 'certificatesigningrequests', subresource: r.subresource, name: '', path: '',
    });
    if (d.decision === 'allow') return r.message;
  }
  return undefined;
}
