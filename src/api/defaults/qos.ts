// The pod QoS class (status.qosClass) computed from container requests and limits, as the pod
// strategy sets it on create and the kubelet and scheduler read it. Pure: it only reads the pod.

import { child, type JsonObject } from './json.ts';
import { addQuantity, cmpQuantity, sign, tryParseQuantity, type Quantity } from '../quantity.ts';

/** The three QoS classes. */
export const PodQOSClass = { Guaranteed: 'Guaranteed', Burstable: 'Burstable', BestEffort: 'BestEffort' } as const;
export type PodQOSClass = (typeof PodQOSClass)[keyof typeof PodQOSClass];

// Only these resources count towards QoS.
const qosResources = new Set(['cpu', 'memory']);
const CONTAINER_LISTS = ['containers', 'initContainers'] as const;

/**
 * The QoS class of a pod: BestEffort without any cpu/memory request or limit, Guaranteed when every
 * container (init containers included, ephemeral ones not) limits both cpu and memory and the summed
 * requests equal the summed limits, Burstable otherwise.
 */
export function computeQOSClass(pod: JsonObject): PodQOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const spec = child(pod, 'spec');
  // Loops rather than a closure: tsx names every closure it creates, and this runs on every pod create.
  for (const key of CONTAINER_LISTS) {
    const list = spec?.[key];
    if (!Array.isArray(list)) continue;
    for (const container of list) {
      if (container === null || typeof container !== 'object' || Array.isArray(container)) continue;
      const resources = child(container as JsonObject, 'resources');
      addPositive(requests, child(resources, 'requests'));
      const found = addPositive(limits, child(resources, 'limits'));
      if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
    }
  }
  if (requests.size === 0 && limits.size === 0) return PodQOSClass.BestEffort;
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (lim === undefined || cmpQuantity(lim, req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? PodQOSClass.Guaranteed : PodQOSClass.Burstable;
}

// Adds the positive cpu/memory quantities of one ResourceList to the totals; returns their names.
function addPositive(totals: Map<string, Quantity>, list: JsonObject | undefined): Set<string> {
  const found = new Set<string>();
  if (list === undefined) return found;
  for (const [name, text] of Object.entries(list)) {
    if (!qosResources.has(name)) continue;
    const q = typeof text === 'string' || typeof text === 'number' ? tryParseQuantity(String(text)) : null;
    if (q === null || sign(q) <= 0) continue;
    found.add(name);
    const prev = totals.get(name);
    totals.set(name, prev === undefined ? q : addQuantity(prev, q));
  }
  return found;
}
