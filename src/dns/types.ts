// Contracts of the cluster DNS: what feeds the record index (DnsSource), the question/answer shapes
// the pure resolver works on, and the options shared by the index and the server.
// Records use dns-packet's answer shape (names without the trailing dot) so the server encodes them as is.

import type { Disposable } from '../base/disposable.ts';
import type { Namespace, Pod, Service } from '../api/types/core_v1.ts';
import type { EndpointSlice } from '../api/types/discovery_v1.ts';

/** An object change as an informer delivers it; deletes carry the last known object. */
export type DnsEvent =
  | { readonly type: 'upsert' | 'delete'; readonly kind: 'Service'; readonly object: Service }
  | { readonly type: 'upsert' | 'delete'; readonly kind: 'EndpointSlice'; readonly object: EndpointSlice }
  | { readonly type: 'upsert' | 'delete'; readonly kind: 'Pod'; readonly object: Pod }
  | { readonly type: 'upsert' | 'delete'; readonly kind: 'Namespace'; readonly object: Namespace }
  /** Every kind has delivered its initial list; until then unknown names answer SERVFAIL, as CoreDNS. */
  | { readonly type: 'synced' };

/**
 * The narrow feed the DNS index is built from: Services, EndpointSlices (discovery.k8s.io/v1),
 * Namespaces, and Pods (only needed with podMode "verified"). subscribe replays the current objects
 * as upserts, then sends 'synced', then changes.
 */
export interface DnsSource {
  subscribe(handler: (event: DnsEvent) => void): Disposable;
}

/** How `<a-b-c-d>.<ns>.pod.<zone>` names are answered (CoreDNS's `pods` option). */
export const PodMode = { disabled: 'disabled', insecure: 'insecure', verified: 'verified' } as const;
export type PodMode = (typeof PodMode)[keyof typeof PodMode];

/** Options of the cluster zone; defaults are k3s's CoreDNS configuration. */
export interface ClusterDnsOptions {
  /** Cluster domain, without trailing dot. Default "cluster.local". */
  readonly zone?: string;
  /** TTL of every cluster record and of the SOA minimum. Default 5 (CoreDNS kubernetes plugin). */
  readonly ttl?: number;
  /** Default "insecure" (k3s: `pods insecure`). */
  readonly podMode?: PodMode;
  /** Addresses the DNS server is reached at, answered for `ns.dns.<zone>` and NS. Default ["10.43.0.10"]. */
  readonly nameservers?: readonly string[];
  /** Names in namespaces the index has not seen are NXDOMAIN (CoreDNS). Default true. */
  readonly requireNamespaces?: boolean;
  /** Milliseconds since the epoch; the SOA serial is the time of the last change. Default Date.now. */
  readonly now?: () => number;
}

/** DNS response codes (RFC 1035, 6891). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;
export type Rcode = (typeof Rcode)[keyof typeof Rcode];

/** One question: the name as asked (case kept, no trailing dot) and the type mnemonic ("A", "SRV", "UNKNOWN_65"...). */
export interface DnsQuestion {
  readonly name: string;
  readonly type: string;
}

/** SRV record data. */
export interface SrvData {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

/** SOA record data. */
export interface SoaData {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

/** A resource record of a type the cluster zone produces (class IN). */
export type ResourceRecord =
  | { readonly name: string; readonly type: 'A' | 'AAAA' | 'CNAME' | 'PTR' | 'NS'; readonly ttl: number; readonly data: string }
  | { readonly name: string; readonly type: 'SRV'; readonly ttl: number; readonly data: SrvData }
  | { readonly name: string; readonly type: 'TXT'; readonly ttl: number; readonly data: readonly string[] }
  | { readonly name: string; readonly type: 'SOA'; readonly ttl: number; readonly data: SoaData };

/** The cluster zone's answer to one question. */
export interface DnsAnswer {
  readonly kind: 'answer';
  readonly rcode: Rcode;
  readonly authoritative: boolean;
  readonly answers: readonly ResourceRecord[];
  readonly authorities: readonly ResourceRecord[];
  readonly additionals: readonly ResourceRecord[];
  /**
   * The answer ends in a CNAME to a name outside the cluster zone (an ExternalName Service): the
   * server resolves `name` through forwarding and appends what it gets, as CoreDNS does.
   */
  readonly chase?: DnsQuestion;
}

/** What resolve() decides: an answer, or "not ours" (forward it, or SERVFAIL without a forwarder). */
export type Resolution = DnsAnswer | { readonly kind: 'next' };
