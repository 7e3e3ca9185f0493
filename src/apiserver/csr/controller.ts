// The in-process CSR loop over the certificatesigningrequests watch cache: auto-approves kubelet
// client requests the requester may make (approver.ts) and signs approved requests of the
// kubernetes.io signers with the cluster CA (signer.ts). It runs in the API server, which holds
// the CA key, and writes through the same registry as any client (/approval, /status).
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import type { CertificateAuthority } from '../../base/pki.ts';
import { followCache } from '../authn/cache_follow.ts';
import type { Attributes, Decision } from '../authz/authorizer.ts';
import { ApiError } from '../errors.ts';
import { rfc3339 } from '../registry/object_meta.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import { autoApproval, servingApproval, type NodeLookup } from './approver.ts';
import { loadCsrSupport, parseCsr, type ParsedCsr } from './request.ts';
import { checkForSigner, signRequest } from './signer.ts';
import { certificateOf, conditionsOf, hasTrueCondition, isApproved } from './strategy.ts';

const log = logger('csr');
const RETRY_MS = 1000;
const MANAGER = 'kube-controller-manager';

type Obj = Record<string, unknown>;

/** Options of CsrController. */
export interface CsrControllerOptions {
  /** The certificatesigningrequests registry. */
  readonly store: GenericStore;
  /** The cluster CA; without it approved requests stay unsigned. */
  readonly ca?: CertificateAuthority;
  /** The server's authorizer, for the approver's access reviews. */
  readonly authorize: (a: Attributes) => Decision | Promise<Decision>;
  /** Reads Nodes, to auto-approve a node's own kubelet serving certificate; without it those wait for an admin. */
  readonly lookupNode?: NodeLookup;
  /** Longest lifetime of a signed certificate (--cluster-signing-duration; default one year). */
  readonly signingDurationSeconds?: number;
}

/** Approves and signs CertificateSigningRequests. */
export class CsrController implements Disposable {
  readonly #o: CsrControllerOptions;
  #sub: Disposable | undefined;
  #queue: string[] = [];
  #queued = new Set<string>();
  #running = false;
  #disposed = false;
  #timers = new Set<NodeJS.Timeout>();

  constructor(o: CsrControllerOptions) {
    this.#o = o;
  }

  async start(): Promise<void> {
    await loadCsrSupport();
    await this.#o.store.cache.start();
    this.#sub = followCache(this.#o.store.cache, (e) => {
      if (e.type === 'DELETED') return;
      const obj = e.object.obj;
      if (certificateOf(obj) !== '' || hasTrueCondition(obj, 'Denied') || hasTrueCondition(obj, 'Failed')) return;
      this.#enqueue(String(((obj['metadata'] ?? {}) as Obj)['name'] ?? ''));
    });
  }

  #enqueue(name: string): void {
    if (this.#disposed || name === '' || this.#queued.has(name)) return;
    this.#queued.add(name);
    this.#queue.push(name);
    if (!this.#running) {
      this.#running = true;
      void this.#drain();
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#disposed) {
      const name = this.#queue.shift()!;
      this.#queued.delete(name);
      try {
        await this.#sync(name);
      } catch (err) {
        if (this.#disposed) break;
        log.warn('cannot process certificate signing request; retrying', { csr: name, err: err instanceof Error ? err.message : String(err) });
        const t = setTimeout(() => {
          this.#timers.delete(t);
          this.#enqueue(name);
        }, RETRY_MS);
        this.#timers.add(t);
      }
    }
    this.#running = false;
  }

  async #sync(name: string): Promise<void> {
    const store = this.#o.store;
    let csr: KObject;
    try {
      csr = await store.get('', name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
    if (certificateOf(csr) !== '' || hasTrueCondition(csr, 'Denied') || hasTrueCondition(csr, 'Failed')) return;
    const spec = (csr['spec'] ?? {}) as Obj;
    let req: ParsedCsr;
    try {
      req = parseCsr(String(spec['request'] ?? ''));
    } catch {
      return; // validation keeps unparsable requests out; nothing to do with one
    }
    if (!hasTrueCondition(csr, 'Approved')) {
      const message = await autoApproval(csr, req, this.#o.authorize)
        ?? (this.#o.lookupNode ? await servingApproval(csr, req, this.#o.lookupNode) : undefined);
      if (message === undefined) return;
      await this.#write(name, 'approval', (c) => {
        const status = (c['status'] ??= {}) as Obj;
        status['conditions'] = [...conditionsOf(c), { type: 'Approved', status: 'True', reason: 'AutoApproved', message, lastUpdateTime: rfc3339(new Date()) }];
      });
      return; // the update brings the request back, approved, for signing
    }
    if (!isApproved(csr) || !this.#o.ca) return;
    const usages = Array.isArray(spec['usages']) ? (spec['usages'] as string[]) : [];
    const check = checkForSigner(String(spec['signerName'] ?? ''), req, usages);
    if (!check.recognized) return;
    if (check.error !== undefined) {
      const error = check.error;
      await this.#write(name, 'status', (c) => {
        const status = (c['status'] ??= {}) as Obj;
        status['conditions'] = [...conditionsOf(c), {
          type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: error, lastUpdateTime: rfc3339(new Date()),
        }];
      });
      return;
    }
    const pem = await signRequest(this.#o.ca, req, usages, typeof spec['expirationSeconds'] === 'number' ? spec['expirationSeconds'] : undefined, this.#o.signingDurationSeconds);
    await this.#write(name, 'status', (c) => {
      if (certificateOf(c) !== '') throw new ApiError(409, 'Conflict', 'already signed');
      ((c['status'] ??= {}) as Obj)['certificate'] = Buffer.from(pem).toString('base64');
    });
  }

  async #write(name: string, subresource: 'approval' | 'status', change: (csr: KObject) => void): Promise<void> {
    try {
      await this.#o.store.update('', name, (current) => {
        if (!current) throw new ApiError(404, 'NotFound', 'gone');
        const next = structuredClone(current);
        change(next);
        return next;
      }, { subresource, fieldManager: MANAGER });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#sub?.dispose();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#queue = [];
    this.#queued.clear();
  }
}
