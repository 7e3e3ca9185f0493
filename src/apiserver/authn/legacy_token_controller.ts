// Fills Secret-based service-account tokens (upstream's tokens controller): a Secret of type
// kubernetes.io/service-account-token annotated with a ServiceAccount's name gets a signed legacy
// token, the cluster CA and the namespace. It runs in the API server because only it holds the key.
import type { Disposable } from '../../base/disposable.ts';
import { logger } from '../../base/log.ts';
import { ApiError } from '../errors.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import { followCache } from './cache_follow.ts';
import type { ObjectGetter } from './object_getter.ts';
import { legacyTokenClaims, type TokenSigner } from './service_account.ts';

const log = logger('tokens-controller');

/** The Secret type of service-account tokens. */
export const SERVICE_ACCOUNT_TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
/** Annotation naming the ServiceAccount of a token Secret. */
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
/** Annotation holding the ServiceAccount's uid. */
export const SERVICE_ACCOUNT_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

type Obj = Record<string, unknown>;

function metaOf(o: KObject): Obj {
  return (o['metadata'] ?? {}) as Obj;
}

/** Whether a Secret is a token Secret still waiting for its token. */
export function needsToken(secret: KObject): boolean {
  if (secret['type'] !== SERVICE_ACCOUNT_TOKEN_SECRET_TYPE) return false;
  const m = metaOf(secret);
  if (m['deletionTimestamp']) return false;
  const ann = (m['annotations'] ?? {}) as Obj;
  if (typeof ann[SERVICE_ACCOUNT_NAME_ANNOTATION] !== 'string' || ann[SERVICE_ACCOUNT_NAME_ANNOTATION] === '') return false;
  const data = (secret['data'] ?? {}) as Obj;
  return typeof data['token'] !== 'string' || data['token'] === '';
}

/** Options of LegacyTokenController. */
export interface LegacyTokenControllerOptions {
  readonly secrets: GenericStore;
  readonly getter: ObjectGetter;
  readonly signer: TokenSigner;
  /** The cluster CA certificate (PEM), stored as `ca.crt`. */
  readonly caPem: string;
}

/** Watches Secrets and fills the token Secrets that need it, one at a time. */
export class LegacyTokenController implements Disposable {
  readonly #o: LegacyTokenControllerOptions;
  #sub: Disposable | undefined;
  #queue: string[] = [];
  #queued = new Set<string>();
  #running = false;
  #disposed = false;
  /** Settles when the queue is empty (tests). */
  #idle: Promise<void> = Promise.resolve();

  constructor(o: LegacyTokenControllerOptions) {
    this.#o = o;
  }

  start(): void {
    this.#sub = followCache(this.#o.secrets.cache, (e) => {
      if (e.type === 'DELETED' || !needsToken(e.object.obj)) return;
      const m = metaOf(e.object.obj);
      this.#enqueue(`${String(m['namespace'])}/${String(m['name'])}`);
    });
  }

  /** Resolves once every queued Secret has been handled. */
  whenIdle(): Promise<void> {
    return this.#idle;
  }

  #enqueue(key: string): void {
    if (this.#disposed || this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    if (!this.#running) {
      this.#running = true;
      this.#idle = this.#drain();
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#disposed) {
      const key = this.#queue.shift()!;
      this.#queued.delete(key);
      try {
        await this.#sync(key);
      } catch (err) {
        log.warn('cannot fill service account token', { secret: key, err: err instanceof Error ? err.message : String(err) });
      }
    }
    this.#running = false;
  }

  async #sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const secret = await this.#o.getter.get('secrets', namespace, name);
    if (!secret || !needsToken(secret)) return;
    const ann = (metaOf(secret)['annotations'] ?? {}) as Obj;
    const saName = String(ann[SERVICE_ACCOUNT_NAME_ANNOTATION]);
    const sa = await this.#o.getter.get('serviceaccounts', namespace, saName);
    if (!sa) {
      log.debug('token secret names a missing service account', { secret: key, serviceAccount: saName });
      return;
    }
    const saUID = String(metaOf(sa)['uid'] ?? '');
    const wantUID = ann[SERVICE_ACCOUNT_UID_ANNOTATION];
    if (typeof wantUID === 'string' && wantUID !== '' && wantUID !== saUID) return;
    const token = await this.#o.signer.sign(legacyTokenClaims(sa, secret));
    try {
      await this.#o.secrets.update(namespace, name, (current) => {
        if (!current || !needsToken(current)) throw new ApiError(409, 'Conflict', 'token already filled');
        const next = structuredClone(current);
        const m = metaOf(next);
        m['annotations'] = { ...((m['annotations'] ?? {}) as Obj), [SERVICE_ACCOUNT_UID_ANNOTATION]: saUID };
        next['data'] = {
          ...((next['data'] ?? {}) as Obj),
          'ca.crt': Buffer.from(this.#o.caPem).toString('base64'),
          namespace: Buffer.from(namespace).toString('base64'),
          token: Buffer.from(token).toString('base64'),
        };
        return next;
      });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 409 || err.code === 404)) return;
      throw err;
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#sub?.dispose();
    this.#queue = [];
    this.#queued.clear();
  }
}
