// Defaults of core/v1 PodSpec and everything inside it (containers, probes, volumes), reused by
// Pod, PodTemplate and every workload's pod template; plus what only a Pod object gets.

import {
  child, defaultNil, defaultZero, eachIn, ensure, ensurePath, isEmptyLen, isNil, isObject, isZero, type Defaulter,
  type JsonObject,
} from './json.ts';
import { defaultPullPolicy } from './image.ts';
import { roundResourceList } from './resource_list.ts';
import { defaultObjectFieldSelector, defaultVolume } from './volumes.ts';

/** The container lists of a PodSpec, in the order upstream visits them. */
export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

function defaultHTTPGet(httpGet: JsonObject | undefined): void {
  if (httpGet === undefined) return;
  defaultZero(httpGet, 'path', '/');
  defaultZero(httpGet, 'scheme', 'HTTP');
}

function defaultProbe(probe: JsonObject | undefined): void {
  if (probe === undefined) return;
  defaultZero(probe, 'timeoutSeconds', 1);
  defaultZero(probe, 'periodSeconds', 10);
  defaultZero(probe, 'successThreshold', 1);
  defaultZero(probe, 'failureThreshold', 3);
  defaultHTTPGet(child(probe, 'httpGet'));
  const grpc = child(probe, 'grpc');
  if (grpc) defaultNil(grpc, 'service', '');
}

/** A container (also an init or ephemeral container). */
export function defaultContainer(container: JsonObject): void {
  if (isZero(container['imagePullPolicy'])) container['imagePullPolicy'] = defaultPullPolicy(container['image']);
  defaultZero(container, 'terminationMessagePath', '/dev/termination-log');
  defaultZero(container, 'terminationMessagePolicy', 'File');
  eachIn(container, 'ports', (port) => defaultZero(port, 'protocol', 'TCP'));
  eachIn(container, 'env', (env) => defaultObjectFieldSelector(child(child(env, 'valueFrom'), 'fieldRef')));
  // resources is a struct value upstream, so it is always present ("resources: {}").
  const resources = ensure(container, 'resources');
  roundResourceList(resources?.['limits']);
  roundResourceList(resources?.['requests']);
  defaultProbe(child(container, 'livenessProbe'));
  defaultProbe(child(container, 'readinessProbe'));
  defaultProbe(child(container, 'startupProbe'));
  const lifecycle = child(container, 'lifecycle');
  defaultHTTPGet(child(child(lifecycle, 'postStart'), 'httpGet'));
  defaultHTTPGet(child(child(lifecycle, 'preStop'), 'httpGet'));
}

/** A PodSpec wherever it appears. */
export function defaultPodSpec(spec: JsonObject): void {
  defaultZero(spec, 'dnsPolicy', 'ClusterFirst');
  defaultZero(spec, 'restartPolicy', 'Always');
  defaultNil(spec, 'securityContext', {});
  defaultNil(spec, 'terminationGracePeriodSeconds', 30);
  defaultZero(spec, 'schedulerName', 'default-scheduler');
  eachIn(spec, 'volumes', defaultVolume);
  for (const list of CONTAINER_LISTS) eachIn(spec, list, defaultContainer);
  roundResourceList(spec['overhead']);
  syncServiceAccount(spec);
}

// v1's deprecated serviceAccount is an alias of serviceAccountName: upstream reads it when
// serviceAccountName is empty and always writes it back equal to serviceAccountName (conversion
// through the internal type, which has only the one field).
function syncServiceAccount(spec: JsonObject): void {
  const name = !isZero(spec['serviceAccountName']) ? spec['serviceAccountName'] : spec['serviceAccount'];
  if (isZero(name)) {
    delete spec['serviceAccount'];
    return;
  }
  spec['serviceAccountName'] = name;
  spec['serviceAccount'] = name;
}

/** A PodTemplateSpec ({metadata, spec}); spec is a struct value upstream, so it always exists. */
export function defaultPodTemplateSpec(template: JsonObject): void {
  const spec = ensure(template, 'spec');
  if (spec) defaultPodSpec(spec);
}

/**
 * Defaults the pod template at a dotted path. Every step of such paths (spec, template, jobTemplate)
 * is a Go struct value upstream, so missing steps are created as Go would have them.
 */
export function podTemplateAt(path: string): Defaulter {
  return (obj) => {
    const template = ensurePath(obj, path);
    if (template) defaultPodTemplateSpec(template);
  };
}

/** What SetDefaults_Pod adds for Pod objects only (not for templates), then the PodSpec defaults. */
export function defaultPod(pod: JsonObject): void {
  const spec = ensure(pod, 'spec');
  if (spec === undefined) return;
  for (const list of ['containers', 'initContainers'] as const) eachIn(spec, list, defaultRequestsFromLimits);
  defaultNil(spec, 'enableServiceLinks', true);
  if (spec['hostNetwork'] === true) {
    for (const list of ['containers', 'initContainers'] as const) {
      eachIn(spec, list, (c) => eachIn(c, 'ports', (p) => {
        if (isZero(p['hostPort']) && !isZero(p['containerPort'])) p['hostPort'] = p['containerPort'];
      }));
    }
  }
  defaultPodSpec(spec);
  syncPodStatusIPs(pod);
}

// Requests a container leaves out default to its limits.
function defaultRequestsFromLimits(container: JsonObject): void {
  const resources = child(container, 'resources');
  const limits = child(resources, 'limits');
  if (resources === undefined || limits === undefined) return;
  const missing = Object.keys(limits).filter((k) => !isObject(resources['requests']) || !(k in (resources['requests'] as JsonObject)));
  if (missing.length === 0) return;
  const requests = ensure(resources, 'requests');
  if (requests === undefined) return;
  for (const key of missing) requests[key] = limits[key];
}

// status.podIP/podIPs and hostIP/hostIPs are two views of one internal list: the singular field
// wins when the two disagree, and is always written back as the first entry of the list.
function syncPodStatusIPs(pod: JsonObject): void {
  const status = child(pod, 'status');
  if (status === undefined) return;
  for (const [single, plural] of [['podIP', 'podIPs'], ['hostIP', 'hostIPs']] as const) {
    const ip = status[single];
    const list = status[plural];
    const first = Array.isArray(list) && isObject(list[0]) ? list[0]['ip'] : undefined;
    if (typeof ip === 'string' && ip !== '' && (isEmptyLen(list) || first !== ip)) {
      status[plural] = [{ ip }];
    } else if (!isNil(first) && isZero(ip)) {
      status[single] = first;
    }
  }
}
