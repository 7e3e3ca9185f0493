// Helpers shared by the built-in admission plugins: typed access to the JSON objects they inspect,
// upstream's admission.NewForbidden, container visiting, and lookups that tolerate a lagging cache.
import type { KObject } from '../registry/strategy.ts';
import { newForbidden, type ApiError } from '../errors.ts';
import type { AdmissionAttributes, AdmissionLister } from './types.ts';

/** A JSON object. */
export type Obj = Record<string, unknown>;

/**
 * A lister that can also read storage directly. The server may provide `fetch`; without it the
 * plugins poll the cache briefly, as upstream waits for its informers before a live lookup.
 */
export interface LiveLister extends AdmissionLister {
  fetch?(group: string, resource: string, namespace: string, name: string): Promise<KObject | undefined>;
}

/** True when `a` is about the given group/resource (and no subresource). */
export function isResource(a: AdmissionAttributes, group: string, resource: string): boolean {
  return a.info.group === group && a.info.resource === resource && a.subresource === '';
}

/** The object field as an object, created when missing. */
export function objField(o: Obj, key: string): Obj {
  const v = o[key];
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Obj;
  const created: Obj = {};
  o[key] = created;
  return created;
}

/** The object field, or undefined. */
export function getObj(o: unknown, key: string): Obj | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const v = (o as Obj)[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** The array field, or []. */
export function getArr(o: unknown, key: string): Obj[] {
  if (typeof o !== 'object' || o === null) return [];
  const v = (o as Obj)[key];
  return Array.isArray(v) ? (v as Obj[]) : [];
}

/** The string field, or ''. */
export function getStr(o: unknown, key: string): string {
  if (typeof o !== 'object' || o === null) return '';
  const v = (o as Obj)[key];
  return typeof v === 'string' ? v : '';
}

/** A string map field (labels, annotations, nodeSelector, resource lists) or {}. */
export function getMap(o: unknown, key: string): Record<string, string> {
  const v = getObj(o, key);
  return (v ?? {}) as Record<string, string>;
}

/** metadata of an object. */
export function metaOf(o: unknown): Obj {
  return getObj(o, 'metadata') ?? {};
}

/** upstream's admission.NewForbidden(a, err): `<resource> "<name>" is forbidden: <why>` (403). */
export function forbidden(a: AdmissionAttributes, why: string): ApiError {
  return newForbidden({ group: a.info.group, resource: a.info.resource }, a.name, why);
}

/** Every container of a pod spec: init containers, containers, then ephemeral ones (as upstream's visitor). */
export function allContainers(spec: Obj): Obj[] {
  return [...getArr(spec, 'initContainers'), ...getArr(spec, 'containers'), ...getArr(spec, 'ephemeralContainers')];
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An object from the cache; when absent, read storage (if the lister can) or poll the cache for up
 * to `waitMs`, because an object written a moment ago may not have reached the watch cache yet.
 */
export async function getFresh(lister: AdmissionLister, group: string, resource: string, namespace: string, name: string,
  waitMs = 50): Promise<KObject | undefined> {
  const cached = lister.get(group, resource, namespace, name);
  if (cached) return cached;
  const live = lister as LiveLister;
  if (typeof live.fetch === 'function') return live.fetch(group, resource, namespace, name);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await delay(Math.min(10, Math.max(1, deadline - Date.now())));
    const o = lister.get(group, resource, namespace, name);
    if (o) return o;
  }
  return undefined;
}

/** Go's %v of a sorted string set joined by `sep`. */
export function sortedUnique(items: Iterable<string>): string[] {
  return [...new Set(items)].sort();
}

/** creationTimestamp as milliseconds (0 when missing). */
export function createdAt(o: unknown): number {
  const t = Date.parse(getStr(metaOf(o), 'creationTimestamp'));
  return Number.isNaN(t) ? 0 : t;
}
