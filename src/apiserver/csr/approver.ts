// Auto-approval of kubelet client certificates (upstream's csrapproving controller): a request for
// the kube-apiserver-client-kubelet signer is approved when its requester may create
// certificatesigningrequests/nodeclient (a new node, typically a bootstrap token) or, renewing its
// own identity, certificatesigningrequests/selfnodeclient — asked like a SubjectAccessReview.
// Unlike upstream (which leaves them to an admin), kubelet serving requests are approved too when
// a node asks for its own name and the addresses its Node object reports (see servingApproval).
import type { Attributes, Decision } from '../authz/authorizer.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { KObject } from '../registry/strategy.ts';
import type { ParsedCsr } from './request.ts';
import { validateKubeletClientCsr, validateKubeletServingCsr } from './signer.ts';
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

/** Reads a Node by name (undefined: none). */
export type NodeLookup = (name: string) => Promise<KObject | undefined>;

const NODE_PREFIX = 'system:node:';
const NODES_GROUP = 'system:nodes';
const SERVING_IP_TYPES = new Set(['InternalIP', 'ExternalIP']);
const SERVING_DNS_TYPES = new Set(['Hostname', 'InternalDNS', 'ExternalDNS']);

/** Why a kubelet serving request is not auto-approved (undefined: approve). */
export async function servingRefusal(csr: KObject, req: ParsedCsr, lookupNode: NodeLookup): Promise<string | undefined> {
  if (spec(csr)['signerName'] !== Signers.KubeletServing) return 'not a kubelet serving request';
  const invalid = validateKubeletServingCsr(req, usagesOf(csr));
  if (invalid !== undefined) return invalid;
  const user = requesterOf(csr);
  if (!user.name.startsWith(NODE_PREFIX) || !user.groups.includes(NODES_GROUP)) return 'the requester is not a node';
  if (req.commonName !== user.name) return 'a node may only request a certificate for itself';
  const nodeName = user.name.slice(NODE_PREFIX.length);
  const node = await lookupNode(nodeName);
  if (!node) return `node ${JSON.stringify(nodeName)} is not registered`;
  const addresses = (((node['status'] ?? {}) as Obj)['addresses'] ?? []) as Array<{ type?: string; address?: string }>;
  const ips = new Set(addresses.filter((a) => SERVING_IP_TYPES.has(a.type ?? '')).map((a) => a.address));
  const names = new Set([nodeName, ...addresses.filter((a) => SERVING_DNS_TYPES.has(a.type ?? '')).map((a) => a.address)]);
  const badIp = req.ipAddresses.find((ip) => !ips.has(ip));
  if (badIp !== undefined) return `IP address ${badIp} is not an address of node ${JSON.stringify(nodeName)}`;
  const badName = req.dnsNames.find((n) => !names.has(n));
  if (badName !== undefined) return `DNS name ${badName} is not a name of node ${JSON.stringify(nodeName)}`;
  return undefined;
}

/**
 * The approval message for a node's own serving certificate, or undefined. The certificate names
 * only the node and the addresses its Node object reports. A node writes those addresses itself,
 * so this trusts a node's word about its addresses exactly as far as the cluster already does
 * (kubectl logs/exec dial them); that is the trade-off upstream leaves to admins and k3s makes.
 */
export async function servingApproval(csr: KObject, req: ParsedCsr, lookupNode: NodeLookup): Promise<string | undefined> {
  return (await servingRefusal(csr, req, lookupNode)) === undefined ? 'Auto approving kubelet serving certificate of the requesting node.' : undefined;
}
