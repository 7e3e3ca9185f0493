// The audit.k8s.io/v1 Event and its JSON encoding, field for field in the order and with the
// omissions of upstream's Go structs, so log processors written for kube-apiserver read our lines.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuditLevel, AuditStage } from './policy.ts';

/** authentication.k8s.io/v1 UserInfo as written in events. */
export interface AuditUser {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** The object a request is about. */
export interface AuditObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

/** metav1.Status as recorded in responseStatus (only the bounded fields). */
export interface AuditResponseStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: unknown;
  code?: number;
}

/** One audit event; mutable while its request is in flight. */
export interface AuditEvent {
  level: AuditLevel;
  auditID: string;
  stage: AuditStage;
  requestURI: string;
  verb: string;
  user: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus?: AuditResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  /** Microseconds since the epoch. */
  requestReceivedTimestamp: number;
  /** Microseconds since the epoch. */
  stageTimestamp: number;
  annotations?: Record<string, string>;
}

/** metav1.MicroTime text: RFC 3339 in UTC with exactly six fractional digits. */
export function formatMicroTime(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.000Z
  const extra = String(Math.floor(micros) - ms * 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${extra}Z`;
}

/** The current time in microseconds since the epoch. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

function user(u: AuditUser): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (u.username) o['username'] = u.username;
  if (u.uid) o['uid'] = u.uid;
  if (u.groups && u.groups.length > 0) o['groups'] = u.groups;
  if (u.extra && Object.keys(u.extra).length > 0) o['extra'] = sortedRecord(u.extra);
  return o;
}

function sortedRecord<T>(r: Readonly<Record<string, T>>): Record<string, T> {
  // Go's encoder writes map keys in byte order.
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = r[k] as T;
  return out;
}

function objectRef(r: AuditObjectRef): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of ['resource', 'namespace', 'name', 'uid', 'apiGroup', 'apiVersion', 'resourceVersion', 'subresource'] as const) {
    if (r[k]) o[k] = r[k];
  }
  return o;
}

function status(s: AuditResponseStatus): Record<string, unknown> {
  // metav1.Status: ListMeta is not omitempty, so "metadata":{} is always there.
  const o: Record<string, unknown> = { metadata: {} };
  if (s.status) o['status'] = s.status;
  if (s.message) o['message'] = s.message;
  if (s.reason) o['reason'] = s.reason;
  if (s.details !== undefined && s.details !== null) o['details'] = s.details;
  if (s.code) o['code'] = s.code;
  return o;
}

/** The event as a plain object in audit.k8s.io/v1 field order. */
export function eventToJSON(ev: AuditEvent): Record<string, unknown> {
  const o: Record<string, unknown> = {
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: ev.level, auditID: ev.auditID, stage: ev.stage,
    requestURI: ev.requestURI, verb: ev.verb, user: user(ev.user),
  };
  if (ev.impersonatedUser) o['impersonatedUser'] = user(ev.impersonatedUser);
  if (ev.sourceIPs && ev.sourceIPs.length > 0) o['sourceIPs'] = ev.sourceIPs;
  if (ev.userAgent) o['userAgent'] = ev.userAgent;
  if (ev.objectRef) o['objectRef'] = objectRef(ev.objectRef);
  if (ev.responseStatus) o['responseStatus'] = status(ev.responseStatus);
  if (ev.requestObject !== undefined) o['requestObject'] = ev.requestObject;
  if (ev.responseObject !== undefined) o['responseObject'] = ev.responseObject;
  o['requestReceivedTimestamp'] = formatMicroTime(ev.requestReceivedTimestamp);
  o['stageTimestamp'] = formatMicroTime(ev.stageTimestamp);
  if (ev.annotations && Object.keys(ev.annotations).length > 0) o['annotations'] = sortedRecord(ev.annotations);
  return o;
}

/** One log line: the event's JSON and a newline. */
export function encodeEventLine(ev: AuditEvent): string {
  return JSON.stringify(eventToJSON(ev)) + '\n';
}

/** A deep snapshot of an event, so a backend may keep it while the request goes on. */
export function copyEvent(ev: AuditEvent): AuditEvent {
  return {
    ...ev,
    user: { ...ev.user },
    impersonatedUser: ev.impersonatedUser ? { ...ev.impersonatedUser } : undefined,
    sourceIPs: ev.sourceIPs ? [...ev.sourceIPs] : undefined,
    objectRef: ev.objectRef ? { ...ev.objectRef } : undefined,
    responseStatus: ev.responseStatus ? { ...ev.responseStatus } : undefined,
    annotations: ev.annotations ? { ...ev.annotations } : undefined,
  };
}

function normalizeIP(ip: string): string | undefined {
  let s = ip.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.toLowerCase().startsWith('::ffff:') && /^\d+\.\d+\.\d+\.\d+$/.test(s.slice(7))) s = s.slice(7);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) return s.split('.').every((p) => Number(p) <= 255) ? s.split('.').map((p) => String(Number(p))).join('.') : undefined;
  if (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s)) return s.toLowerCase();
  return undefined;
}

/**
 * utilnet.SourceIPs: X-Forwarded-For entries, then X-Real-Ip unless already listed, then the
 * connection's address unless it equals the last one.
 */
export function sourceIPs(headers: IncomingHttpHeaders, remoteAddress: string | undefined): string[] {
  const out: string[] = [];
  const xff = headers['x-forwarded-for'];
  const xffText = Array.isArray(xff) ? xff.join(',') : xff;
  if (xffText) {
    for (const part of xffText.split(',')) {
      const ip = normalizeIP(part);
      if (ip) out.push(ip);
    }
  }
  const real = headers['x-real-ip'];
  const realIP = typeof real === 'string' ? normalizeIP(real) : undefined;
  if (realIP && !out.includes(realIP)) out.push(realIP);
  const remote = remoteAddress ? normalizeIP(remoteAddress) : undefined;
  if (remote && (out.length === 0 || out[out.length - 1] !== remote)) out.push(remote);
  return out;
}

/** A copy without metadata.managedFields (of an object, of each list item, of each table row's object). */
export function withoutManagedFields(obj: unknown): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return obj;
  const o = obj as Record<string, unknown>;
  const out: Record<string, unknown> = { ...o };
  const meta = o['metadata'];
  if (typeof meta === 'object' && meta !== null && 'managedFields' in meta) {
    const { managedFields: _dropped, ...rest } = meta as Record<string, unknown>;
    out['metadata'] = rest;
  }
  if (Array.isArray(o['items'])) out['items'] = o['items'].map(withoutManagedFields);
  if (o['kind'] === 'Table' && Array.isArray(o['rows'])) {
    out['rows'] = o['rows'].map((row) => {
      if (typeof row !== 'object' || row === null) return row;
      const r = row as Record<string, unknown>;
      return 'object' in r ? { ...r, object: withoutManagedFields(r['object']) } : r;
    });
  }
  return out;
}
