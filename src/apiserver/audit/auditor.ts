// The audit filter (upstream's WithAudit, WithFailedAuthenticationAudit and the audit response
// writer): evaluates the policy for each request, writes RequestReceived / ResponseStarted /
// ResponseComplete / Panic events to a backend, and fills them from the request and response.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { logger } from '../../base/log.ts';
import type { UserInfo } from '../handlers/context.ts';
import type { RequestInfo } from '../request_info.ts';
import { copyEvent, nowMicros, sourceIPs, withoutManagedFields, type AuditEvent, type AuditUser } from './event.ts';
import { decodeBody, tapRequestBody, tapResponse, type AttachableResponse, type CapturedBody } from './http_tap.ts';
import { PolicyChecker, levelLess, type AuditAttributes, type AuditLevel, type AuditPolicy, type AuditStage, type RequestAuditConfig } from './policy.ts';

const log = logger('audit');

/** Where events go (audit.Sink); processEvents must not keep references to mutable state. */
export interface AuditBackend {
  processEvents(...events: AuditEvent[]): void;
  dispose(): void | Promise<void>;
}

/** What the auditor reads of an HTTP request (IncomingMessage and Http2ServerRequest both fit). */
export interface AuditRequest {
  readonly url?: string;
  readonly headers: IncomingHttpHeaders;
  readonly socket?: { readonly remoteAddress?: string } | null;
}

/** Options of the Auditor. */
export interface AuditorOptions {
  readonly policy: AuditPolicy;
  readonly backend: AuditBackend;
  /** Microseconds since the epoch (tests pin it). */
  readonly now?: () => number;
  /** Generates audit IDs when the client sent no Audit-ID header (tests pin it). */
  readonly newAuditID?: () => string;
}

/** What end() records when the caller answers without attach(). */
export interface AuditEnd {
  readonly code: number;
  readonly requestObject?: unknown;
  readonly responseObject?: unknown;
}

/** Response header carrying the audit ID, as upstream sends it. */
export const AUDIT_ID_HEADER = 'Audit-Id';

const MAX_USER_AGENT = 1024;
/** Bodies kept below RequestResponse level only to read a Status out of them. */
const MAX_STATUS_BODY = 64 * 1024;
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

const contexts = new WeakMap<object, AuditContext>();

/** The audit context of a request begun with Auditor.begin, for code deep in the handlers (annotations). */
export function auditContextOf(req: object): AuditContext | undefined {
  return contexts.get(req);
}

/** Upstream's BasicLongRunningRequestCheck(watch, proxy; attach exec proxy log portforward). */
export function isLongRunning(ri: RequestInfo): boolean {
  return ri.isResourceRequest && (LONG_RUNNING_VERBS.has(ri.verb) || LONG_RUNNING_SUBRESOURCES.has(ri.subresource));
}

function attributes(ri: RequestInfo, user: UserInfo | undefined): AuditAttributes {
  return {
    user, verb: ri.verb, isResourceRequest: ri.isResourceRequest, namespace: ri.namespace, apiGroup: ri.group,
    resource: ri.resource, subresource: ri.subresource, name: ri.name, path: ri.path,
  };
}

function auditUser(u: UserInfo): AuditUser {
  return { username: u.name, uid: u.uid, groups: [...u.groups], extra: u.extra };
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** Evaluates the policy per request and creates audit contexts. */
export class Auditor {
  readonly #checker: PolicyChecker;
  readonly #backend: AuditBackend;
  readonly #now: () => number;
  readonly #newAuditID: () => string;

  constructor(opts: AuditorOptions) {
    this.#checker = new PolicyChecker(opts.policy);
    this.#backend = opts.backend;
    this.#now = opts.now ?? nowMicros;
    this.#newAuditID = opts.newAuditID ?? randomUUID;
  }

  /**
   * Starts auditing an authenticated request (before impersonation, so the policy matches the
   * requester, as upstream) and writes its RequestReceived event. Always returns a context; a
   * level-None context records nothing.
   */
  begin(req: AuditRequest, user: UserInfo, ri: RequestInfo, opts: { receivedAt?: number } = {}): AuditContext {
    const config = this.#checker.evaluate(attributes(ri, user));
    const auditID = this.#auditID(req);
    const ctx = new AuditContext({
      config, ri, auditID, now: this.#now, backend: this.#backend,
      event: config.level === 'None' ? undefined : this.#newEvent(req, auditID, ri, config.level, user, opts.receivedAt),
    });
    contexts.set(req, ctx);
    ctx.process('RequestReceived');
    return ctx;
  }

  /** Records a request whose credentials were refused: one ResponseStarted event with code 401. */
  failedAuthentication(req: AuditRequest, ri: RequestInfo, opts: { receivedAt?: number } = {}): void {
    const config = this.#checker.evaluate(attributes(ri, undefined));
    if (config.level === 'None') return;
    const ev = this.#newEvent(req, this.#auditID(req), ri, config.level, undefined, opts.receivedAt);
    ev.responseStatus = { message: authMethods(req), code: 401 };
    const ctx = new AuditContext({ config, ri, auditID: ev.auditID, now: this.#now, backend: this.#backend, event: ev });
    ctx.process('ResponseStarted');
  }

  #auditID(req: AuditRequest): string {
    const fromClient = header(req.headers, 'audit-id').trim();
    return fromClient !== '' ? fromClient : this.#newAuditID();
  }

  #newEvent(req: AuditRequest, auditID: string, ri: RequestInfo, level: AuditLevel, user: UserInfo | undefined, receivedAt?: number): AuditEvent {
    let ua = header(req.headers, 'user-agent');
    if (ua.length > MAX_USER_AGENT) ua = ua.slice(0, MAX_USER_AGENT) + '...TRUNCATED';
    const received = receivedAt ?? this.#now();
    const ev: AuditEvent = {
      level, auditID, stage: 'RequestReceived', requestURI: req.url ?? '/', verb: ri.verb,
      user: user ? auditUser(user) : {}, sourceIPs: sourceIPs(req.headers, req.socket?.remoteAddress ?? undefined),
      userAgent: ua, requestReceivedTimestamp: received, stageTimestamp: received,
    };
    if (ri.isResourceRequest) {
      ev.objectRef = {
        resource: ri.resource, namespace: ri.namespace, name: ri.name, apiGroup: ri.group, apiVersion: ri.version, subresource: ri.subresource,
      };
    }
    return ev;
  }
}

/** getAuthMethods: what credentials a refused request carried. */
function authMethods(req: AuditRequest): string {
  const methods: string[] = [];
  const auth = header(req.headers, 'authorization').trim();
  const parts = auth.split(' ');
  if (/^basic$/i.test(parts[0] ?? '') && parts.length > 1) methods.push('basic');
  if (parts.length > 1 && /^bearer$/i.test(parts[0] ?? '')) methods.push('bearer');
  const q = new URL(req.url ?? '/', 'https://localhost').searchParams.get('access_token');
  if (q && q.trim() !== '') methods.push('access_token');
  const sock = req.socket as Partial<TLSSocket> | null | undefined;
  const cert = typeof sock?.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
  if (cert && Object.keys(cert).length > 0) methods.push('x509');
  return methods.length > 0 ? `Authentication failed, attempted: ${methods.join(', ')}` : 'Authentication failed, no credentials provided';
}

interface ContextInit {
  readonly config: RequestAuditConfig;
  readonly ri: RequestInfo;
  readonly auditID: string;
  readonly event: AuditEvent | undefined;
  readonly now: () => number;
  readonly backend: AuditBackend;
}

/** The audit state of one request (audit.AuditContext plus the response writer decorator). */
export class AuditContext {
  /** The request's audit ID (also sent as the Audit-Id response header by attach()). */
  readonly auditID: string;
  readonly #config: RequestAuditConfig;
  readonly #ri: RequestInfo;
  readonly #ev: AuditEvent | undefined;
  readonly #now: () => number;
  readonly #backend: AuditBackend;
  readonly #longRunning: boolean;
  #codeSeen = false;
  #done = false;
  #requestLogged = false;
  #responseLogged = false;
  #reqBody: CapturedBody | undefined;
  #resBody: CapturedBody | undefined;

  constructor(init: ContextInit) {
    this.auditID = init.auditID;
    this.#config = init.config;
    this.#ri = init.ri;
    this.#ev = init.event;
    this.#now = init.now;
    this.#backend = init.backend;
    this.#longRunning = isLongRunning(init.ri);
  }

  /** False when the policy says None: nothing is recorded. */
  get enabled(): boolean {
    return this.#ev !== undefined;
  }

  /** The level the policy chose. */
  get level(): AuditLevel {
    return this.#config.level;
  }

  /** Records the user a request runs as after impersonation. */
  setImpersonatedUser(user: UserInfo): void {
    if (this.#ev) this.#ev.impersonatedUser = auditUser(user);
  }

  /** Adds an annotation; a key keeps its first value (upstream logs and ignores a change). */
  addAnnotation(key: string, value: string): void {
    const ev = this.#ev;
    if (!ev) return;
    ev.annotations ??= {};
    const prev = ev.annotations[key];
    if (prev !== undefined && prev !== value) {
      log.warn('audit annotation already set', { auditID: ev.auditID, key, value, prev });
      return;
    }
    ev.annotations[key] = value;
  }

  /** Records the authorizer's answer as the authorization.k8s.io/decision and /reason annotations. */
  setAuthorizationDecision(d: { readonly decision: string; readonly reason: string }): void {
    this.addAnnotation('authorization.k8s.io/decision', d.decision === 'allow' ? 'allow' : 'forbid');
    this.addAnnotation('authorization.k8s.io/reason', d.reason);
  }

  /** LogRequestObject: completes objectRef from the object's metadata; keeps the object from level Request. */
  logRequestObject(obj: unknown): void {
    const ev = this.#ev;
    if (!ev) return;
    this.#requestLogged = true;
    const meta = metadataOf(obj);
    if (meta && ev.objectRef) {
      const ref = ev.objectRef;
      if (!ref.namespace && typeof meta['namespace'] === 'string') ref.namespace = meta['namespace'];
      if (!ref.name && typeof meta['name'] === 'string') ref.name = meta['name'];
      if (!ref.uid && typeof meta['uid'] === 'string') ref.uid = meta['uid'];
      if (!ref.resourceVersion && typeof meta['resourceVersion'] === 'string') ref.resourceVersion = meta['resourceVersion'];
    }
    if (levelLess(ev.level, 'Request') || !this.#ri.isResourceRequest) return;
    ev.requestObject = this.#config.omitManagedFields ? withoutManagedFields(obj) : obj;
  }

  /** LogRequestPatch: the patch as sent, from level Request. */
  logRequestPatch(patch: unknown): void {
    const ev = this.#ev;
    if (!ev) return;
    this.#requestLogged = true;
    if (levelLess(ev.level, 'Request') || !this.#ri.isResourceRequest) return;
    ev.requestObject = patch;
  }

  /** LogResponseObject: a Status fills responseStatus; the object is kept at level RequestResponse. */
  logResponseObject(obj: unknown): void {
    const ev = this.#ev;
    if (!ev) return;
    this.#responseLogged = true;
    if (isStatus(obj)) {
      const s = obj as Record<string, unknown>;
      ev.responseStatus = {
        status: str(s['status']), message: str(s['message']), reason: str(s['reason']), details: s['details'],
        code: ev.responseStatus?.code ?? (typeof s['code'] === 'number' ? s['code'] : undefined),
      };
    }
    if (levelLess(ev.level, 'RequestResponse') || !this.#ri.isResourceRequest) return;
    ev.responseObject = this.#config.omitManagedFields ? withoutManagedFields(obj) : obj;
  }

  /** The response's status code is known (headers sent); long-running requests write ResponseStarted. */
  responseStarted(code: number): void {
    if (this.#codeSeen) return;
    this.#codeSeen = true;
    const ev = this.#ev;
    if (!ev) return;
    ev.responseStatus = { ...(ev.responseStatus ?? {}), code };
    ev.stage = 'ResponseStarted';
    if (this.#longRunning) this.process('ResponseStarted');
  }

  /** The request is answered: writes ResponseComplete (and a late ResponseStarted for long-running ones). */
  end(result?: AuditEnd): void {
    if (this.#done) return;
    if (result) {
      this.responseStarted(result.code);
      if (result.requestObject !== undefined) this.logRequestObject(result.requestObject);
      if (result.responseObject !== undefined) this.logResponseObject(result.responseObject);
    }
    this.#done = true;
    const ev = this.#ev;
    if (!ev) return;
    this.#logCapturedBodies();
    const closedEarly = { status: 'Success', message: 'Connection closed early', code: 200 };
    if (!ev.responseStatus && this.#longRunning) {
      ev.responseStatus = closedEarly;
      this.process('ResponseStarted');
    }
    ev.responseStatus ??= closedEarly;
    this.process('ResponseComplete');
  }

  /** The handler failed unexpectedly: writes a Panic event instead of ResponseComplete. */
  panic(err: unknown): void {
    if (this.#done) return;
    this.#done = true;
    const ev = this.#ev;
    if (!ev) return;
    ev.responseStatus = {
      status: 'Failure', message: `APIServer panic'd: ${err instanceof Error ? err.message : String(err)}`, reason: 'InternalError', code: 500,
    };
    this.process('Panic');
  }

  /**
   * Decorates the request and response (upstream's audit response writer): sends the Audit-Id
   * header, keeps the request body the handlers read and the response body they write, notes the
   * status code when headers go out, and calls end() when the response ends or the connection closes.
   */
  attach(req: object, res: AttachableResponse): void {
    try {
      if (!res.headersSent) res.setHeader(AUDIT_ID_HEADER, this.auditID);
    } catch { /* headers already gone */ }
    const ev = this.#ev;
    if (!ev) return;
    // Below level Request only create and update bodies matter: they complete objectRef.
    const verb = this.#ri.verb;
    if (this.#ri.isResourceRequest && (!levelLess(ev.level, 'Request') || verb === 'create' || verb === 'update')) this.#reqBody = tapRequestBody(req);
    this.#resBody = tapResponse(res, {
      keepAll: !levelLess(ev.level, 'RequestResponse') && this.#ri.isResourceRequest,
      maxPartial: MAX_STATUS_BODY,
      skipBody: this.#longRunning,
      started: (code) => this.responseStarted(code),
      finished: () => this.end(),
    });
  }

  /** Writes the event at a stage unless the policy omits it. */
  process(stage: AuditStage): void {
    const ev = this.#ev;
    if (!ev) return;
    ev.stage = stage;
    if (this.#config.omitStages.includes(stage)) return;
    ev.stageTimestamp = stage === 'RequestReceived' ? ev.requestReceivedTimestamp : this.#now();
    try {
      this.#backend.processEvents(copyEvent(ev));
    } catch (err) {
      log.error('audit backend failed', { err: err instanceof Error ? err.message : String(err) });
    }
  }

  #logCapturedBodies(): void {
    const ev = this.#ev!;
    const req = this.#reqBody;
    if (req && req.complete && !this.#requestLogged && req.size > 0) {
      const obj = decodeBody(Buffer.concat(req.chunks), req.contentType);
      if (obj !== undefined) {
        if (this.#ri.verb === 'patch') this.logRequestPatch(obj);
        else this.logRequestObject(obj);
      }
    }
    const res = this.#resBody;
    if (res && res.complete && !res.overflow && !this.#responseLogged && res.size > 0) {
      const text = Buffer.concat(res.chunks);
      const wanted = !levelLess(ev.level, 'RequestResponse') || text.includes('"kind":"Status"');
      const obj = wanted ? decodeBody(text, res.contentType) : undefined;
      if (obj !== undefined) this.logResponseObject(obj);
    }
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function isStatus(obj: unknown): boolean {
  return typeof obj === 'object' && obj !== null && (obj as Record<string, unknown>)['kind'] === 'Status';
}

function metadataOf(obj: unknown): Record<string, unknown> | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const m = (obj as Record<string, unknown>)['metadata'];
  return typeof m === 'object' && m !== null ? m as Record<string, unknown> : undefined;
}
