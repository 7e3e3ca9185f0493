// The defaulting registry: "group/version/Kind" -> defaulter, the equivalent of the versioned
// defaulters upstream's scheme runs when it decodes an object (feature gates at v1.32 defaults).

import { admissionregistrationV1Defaulters } from './admissionregistration.ts';
import { apiextensionsV1Defaulters } from './apiextensions.ts';
import { appsV1Defaulters } from './apps.ts';
import { autoscalingV1Defaulters, autoscalingV2Defaulters } from './autoscaling.ts';
import { batchV1Defaulters } from './batch.ts';
import { coreV1Defaulters } from './core.ts';
import { isObject, type Defaulter, type JsonObject } from './json.ts';
import { networkingV1Defaulters } from './networking.ts';
import { rbacV1Defaulters } from './rbac.ts';
import { discoveryV1Defaulters, schedulingV1Defaulters } from './small_groups.ts';
import { storageV1Defaulters } from './storage.ts';

export type { Defaulter, JsonObject } from './json.ts';

const groupVersions: ReadonlyArray<readonly [group: string, version: string, kinds: Readonly<Record<string, Defaulter>>]> = [
  ['', 'v1', coreV1Defaulters],
  ['apps', 'v1', appsV1Defaulters],
  ['batch', 'v1', batchV1Defaulters],
  ['autoscaling', 'v1', autoscalingV1Defaulters],
  ['autoscaling', 'v2', autoscalingV2Defaulters],
  ['networking.k8s.io', 'v1', networkingV1Defaulters],
  ['rbac.authorization.k8s.io', 'v1', rbacV1Defaulters],
  ['storage.k8s.io', 'v1', storageV1Defaulters],
  ['scheduling.k8s.io', 'v1', schedulingV1Defaulters],
  ['discovery.k8s.io', 'v1', discoveryV1Defaulters],
  ['admissionregistration.k8s.io', 'v1', admissionregistrationV1Defaulters],
  ['apiextensions.k8s.io', 'v1', apiextensionsV1Defaulters],
];

/** "group/version/Kind" ("" group for core, so "/v1/Pod") of a kind. */
export function defaulterKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

const registry: ReadonlyMap<string, Defaulter> = new Map(
  groupVersions.flatMap(([group, version, kinds]) =>
    Object.entries(kinds).map(([kind, fn]) => [defaulterKey(group, version, kind), fn] as const)),
);

/** Every kind that has defaults, as [group, version, kind]. */
export function defaultedKinds(): Array<[group: string, version: string, kind: string]> {
  return groupVersions.flatMap(([group, version, kinds]) => Object.keys(kinds).map((kind) => [group, version, kind] as [string, string, string]));
}

/** Whether the kind has any defaults (kinds without, such as ConfigMap or Role, are left as sent). */
export function hasDefaults(group: string, version: string, kind: string): boolean {
  return registry.has(defaulterKey(group, version, kind));
}

/**
 * Applies upstream's defaults for the kind to obj in place. Idempotent; objects of kinds without
 * defaults, and values that are not objects, are left alone. Malformed fields are skipped, never
 * thrown on: validation reports them.
 */
export function applyDefaults(group: string, version: string, kind: string, obj: unknown): void {
  if (!isObject(obj)) return;
  registry.get(defaulterKey(group, version, kind))?.(obj as JsonObject);
}
