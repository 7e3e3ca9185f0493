// The EndpointSlice reconciler (upstream pkg/controller/endpointslice/reconciler.go), pure: given a
// Service's desired endpoints grouped by port set and its current slices, decide which slices to
// create, update and delete, keeping endpoints in the slices they are already in and filling
// slices up to the per-slice maximum before opening new ones.
import { isDeepStrictEqual } from 'node:util';
import type { Service } from '../../api/types/core_v1.ts';
import type { Endpoint, EndpointPort, EndpointSlice } from '../../api/types/discovery_v1.ts';
import { isHeadless } from '../endpoint_pod_util.ts';

/** Label naming the Service a slice belongs to. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Label naming the controller managing a slice. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** This controller's managed-by value. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** Label marking slices of headless Services. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** Annotation with the time of the change the slice reflects. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Default --max-endpoints-per-slice. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** Endpoints sharing one port set. */
export interface EndpointGroup {
  readonly ports: EndpointPort[];
  readonly endpoints: Endpoint[];
}

/** What to write. */
export interface ReconcileResult {
  readonly create: EndpointSlice[];
  readonly update: EndpointSlice[];
  readonly delete: EndpointSlice[];
}

/** Options of reconcile. */
export interface ReconcileOptions {
  readonly addressType: string;
  readonly maxEndpointsPerSlice?: number;
  /** Trigger time for the annotation of written slices (undefined: remove it). */
  readonly triggerTime?: string;
}

/** The key that identifies an endpoint across syncs (its pod, else its address). */
export function endpointKey(ep: Endpoint): string {
  return ep.targetRef?.uid ? `uid:${ep.targetRef.uid}` : `addr:${ep.addresses.join(',')}`;
}

/** Canonical key of a port set. */
export function portsKey(ports: readonly EndpointPort[] | undefined | null): string {
  const sorted = [...(ports ?? [])].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.port ?? 0) - (b.port ?? 0) || (a.protocol ?? '').localeCompare(b.protocol ?? ''));
  return JSON.stringify(sorted.map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? '', p.appProtocol ?? '']));
}

/** The labels every slice of `svc` carries (setEndpointSliceLabels). */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) {
    if (k === LABEL_SERVICE_NAME || k === LABEL_MANAGED_BY) continue;
    labels[k] = v;
  }
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  labels[LABEL_SERVICE_NAME] = svc.metadata?.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return labels;
}

/** A new, unnamed slice of `svc` (the server completes the generated name). */
export function newSlice(svc: Service, ports: EndpointPort[], endpoints: Endpoint[], addressType: string): EndpointSlice {
  const name = svc.metadata?.name ?? '';
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      generateName: slicePrefix(name),
      namespace: svc.metadata?.namespace ?? '',
      labels: sliceLabels(svc),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    addressType,
    endpoints,
    ports,
  };
}

/** "<service>-", or the bare name when the dash would make the prefix too long. */
function slicePrefix(service: string): string {
  // 5 random characters follow; names may have 253 characters.
  return service.length + 1 > 253 - 5 ? service : `${service}-`;
}

/** Decides the writes that make `existing` hold exactly `groups`. */
export function reconcile(svc: Service, groups: readonly EndpointGroup[], existing: readonly EndpointSlice[], opts: ReconcileOptions): ReconcileResult {
  const max = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const labels = sliceLabels(svc);
  const create: EndpointSlice[] = [];
  const update = new Map<EndpointSlice, EndpointSlice>();
  const del: EndpointSlice[] = [];
  const total = groups.reduce((n, g) => n + g.endpoints.length, 0);

  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (s.addressType !== opts.addressType) {
      del.push(s);
      continue;
    }
    const k = portsKey(s.ports);
    existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
  }

  if (total === 0) {
    // No endpoints: exactly one placeholder slice, without ports, says the Service is handled.
    const placeholder = existing.find((s) => s.addressType === opts.addressType && s.endpoints.length === 0 && (s.ports ?? []).length === 0);
    for (const s of existing) if (s !== placeholder && !del.includes(s)) del.push(s);
    if (!placeholder) create.push(newSlice(svc, [], [], opts.addressType));
    else if (!metaCurrent(placeholder, labels, svc)) update.set(placeholder, withMeta(placeholder, labels, svc));
    return finish(create, [...update.values()], del, opts.triggerTime);
  }

  const wantedPorts = new Set(groups.map((g) => portsKey(g.ports)));
  for (const [k, slices] of existingByPorts) if (!wantedPorts.has(k)) del.push(...slices);

  for (const group of groups) {
    const k = portsKey(group.ports);
    const desired = new Map(group.endpoints.map((ep) => [endpointKey(ep), ep]));
    const placed = new Set<string>();
    const slices = existingByPorts.get(k) ?? [];
    const kept: EndpointSlice[] = [];
    for (const s of slices) {
      let changed = !metaCurrent(s, labels, svc);
      const eps: Endpoint[] = [];
      for (const ep of s.endpoints) {
        const key = endpointKey(ep);
        const want = desired.get(key);
        if (want === undefined || placed.has(key)) {
          changed = true;
          continue;
        }
        placed.add(key);
        if (!isDeepStrictEqual(want, ep)) changed = true;
        eps.push(want);
      }
      if (eps.length === 0) {
        del.push(s);
        continue;
      }
      const next = changed ? { ...withMeta(s, labels, svc), endpoints: eps } : s;
      if (changed) update.set(s, next);
      kept.push(s);
    }
    const remaining = group.endpoints.filter((ep) => !placed.has(endpointKey(ep)));
    // Fill slices we are writing anyway first, then untouched ones with room.
    const candidates = [...kept].sort((a, b) => Number(update.has(b)) - Number(update.has(a)));
    for (const s of candidates) {
      if (remaining.length === 0) break;
      const cur = update.get(s) ?? s;
      const room = max - cur.endpoints.length;
      if (room <= 0) continue;
      update.set(s, { ...withMeta(cur, labels, svc), endpoints: [...cur.endpoints, ...remaining.splice(0, room)] });
    }
    while (remaining.length > 0) create.push(newSlice(svc, group.ports, remaining.splice(0, max), opts.addressType));
  }
  return finish(create, [...update.values()], del, opts.triggerTime);
}

function metaCurrent(s: EndpointSlice, labels: Record<string, string>, svc: Service): boolean {
  const owner = s.metadata?.ownerReferences?.find((r) => r.controller === true);
  return isDeepStrictEqual(s.metadata?.labels ?? {}, labels) && owner?.uid === svc.metadata?.uid;
}

function withMeta(s: EndpointSlice, labels: Record<string, string>, svc: Service): EndpointSlice {
  const name = svc.metadata?.name ?? '';
  const others = (s.metadata?.ownerReferences ?? []).filter((r) => r.controller !== true);
  return {
    ...s,
    metadata: {
      ...s.metadata,
      labels,
      ownerReferences: [...others, { apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
  };
}

function finish(create: EndpointSlice[], update: EndpointSlice[], del: EndpointSlice[], triggerTime: string | undefined): ReconcileResult {
  for (const s of [...create, ...update]) {
    const annotations = { ...s.metadata?.annotations };
    if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = triggerTime;
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    s.metadata = { ...s.metadata };
    if (Object.keys(annotations).length > 0) s.metadata.annotations = annotations;
    else delete s.metadata.annotations;
  }
  return { create, update, delete: del };
}
