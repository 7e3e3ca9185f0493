// The strategies of the built-in resources: which reset status on create, which track generation,
// which may be created by PUT, how names are checked, and the special cases of pods (graceful
// deletion) and namespaces (finalizers, Terminating). Data where possible, code where upstream is.
import { applyDefaults } from '../../api/defaults/registry.ts';
import type { FieldError } from '../../api/field_errors.ts';
import { nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain, validatePathSegmentName } from '../../api/validation/names.ts';
import { validatePodEphemeralContainersUpdate } from '../../api/validation/pod.ts';
import { registerStrategy, type KObject, type Strategy, type StrategyContext } from './strategy.ts';
import { meta } from './object_meta.ts';
import { crdStrategy } from '../crd/crd_strategy.ts';

type Key = `${string}/${string}`;

/** Resources whose strategy sets metadata.generation = 1 on create and bumps it on spec changes. */
const TRACKS_GENERATION: readonly Key[] = [
  'apps/deployments', 'apps/replicasets', 'apps/statefulsets', 'apps/daemonsets', 'batch/jobs', 'batch/cronjobs',
  '/replicationcontrollers', 'policy/poddisruptionbudgets', 'networking.k8s.io/ingresses', 'networking.k8s.io/networkpolicies',
  'apiextensions.k8s.io/customresourcedefinitions', 'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations', 'admissionregistration.k8s.io/validatingadmissionpolicies',
  'autoscaling/horizontalpodautoscalers',
];

/** Resources whose status the client may not set on create (PrepareForCreate clears it). */
const RESET_STATUS_ON_CREATE: readonly Key[] = [
  'apps/deployments', 'apps/replicasets', 'apps/statefulsets', 'apps/daemonsets', 'batch/jobs', 'batch/cronjobs',
  '/replicationcontrollers', 'autoscaling/horizontalpodautoscalers', 'policy/poddisruptionbudgets', 'networking.k8s.io/ingresses',
  '/services', '/resourcequotas', 'certificates.k8s.io/certificatesigningrequests', 'apiextensions.k8s.io/customresourcedefinitions',
  'apiregistration.k8s.io/apiservices', 'networking.k8s.io/networkpolicies',
];

/** Resources a PUT may create (AllowCreateOnUpdate). */
const CREATE_ON_UPDATE: readonly Key[] = ['/endpoints', '/events', 'events.k8s.io/events', 'coordination.k8s.io/leases', 'discovery.k8s.io/endpointslices'];

const DNS_LABEL_NAMES: readonly Key[] = ['/namespaces'];
const DNS1035_NAMES: readonly Key[] = ['/services'];
const PATH_SEGMENT_NAMES: readonly Key[] = [
  'rbac.authorization.k8s.io/roles', 'rbac.authorization.k8s.io/rolebindings', 'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings', 'scheduling.k8s.io/priorityclasses',
];

function base(key: Key): Strategy {
  const s: { -readonly [K in keyof Strategy]: Strategy[K] } = {};
  if (TRACKS_GENERATION.includes(key)) s.tracksGeneration = true;
  if (CREATE_ON_UPDATE.includes(key)) s.allowCreateOnUpdate = true;
  if (DNS_LABEL_NAMES.includes(key)) s.nameValidator = nameIsDNSLabel;
  else if (DNS1035_NAMES.includes(key)) s.nameValidator = nameIsDNS1035Label;
  else if (PATH_SEGMENT_NAMES.includes(key)) s.nameValidator = validatePathSegmentName;
  else s.nameValidator = nameIsDNSSubdomain;
  if (RESET_STATUS_ON_CREATE.includes(key)) {
    s.prepareForCreate = (obj: KObject) => { delete obj['status']; };
  }
  return s;
}

function register(key: Key, extra: Strategy = {}): void {
  const [group, resource] = key.split('/') as [string, string];
  registerStrategy(group, resource, { ...base(key), ...extra });
}

for (const key of new Set<Key>([...TRACKS_GENERATION, ...RESET_STATUS_ON_CREATE, ...CREATE_ON_UPDATE, ...DNS_LABEL_NAMES, ...DNS1035_NAMES, ...PATH_SEGMENT_NAMES])) {
  register(key);
}

// Pods: deletion is graceful once the pod is on a node (status on create: prepare_for_create.ts).
register('/pods', {
  returnDeletedObject: true,
  // pods/ephemeralcontainers changes spec.ephemeralContainers and nothing else (dropNonEphemeralContainerUpdates)
  prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
    if (ctx.subresource !== 'ephemeralcontainers') return;
    const next = structuredClone(old);
    const spec = (next['spec'] ?? (next['spec'] = {})) as Record<string, unknown>;
    const wanted = ((obj['spec'] ?? {}) as Record<string, unknown>)['ephemeralContainers'];
    if (wanted === undefined) delete spec['ephemeralContainers'];
    else spec['ephemeralContainers'] = wanted;
    meta(next)['resourceVersion'] = meta(obj)['resourceVersion'];
    // the field manager has recorded this write's ownership already
    if (meta(obj)['managedFields'] !== undefined) meta(next)['managedFields'] = meta(obj)['managedFields'];
    for (const k of Object.keys(obj)) delete obj[k];
    Object.assign(obj, next);
    applyDefaults('', 'v1', 'Pod', obj);
  },
  validateUpdate(obj: KObject, old: KObject, ctx: StrategyContext): FieldError[] {
    return ctx.subresource === 'ephemeralcontainers' ? validatePodEphemeralContainersUpdate(obj, old) : [];
  },
  checkGracefulDelete(obj: KObject, requested: number | undefined) {
    const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
    const status = (obj['status'] ?? {}) as Record<string, unknown>;
    let period = requested ?? (typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 30);
    if (!spec['nodeName']) period = 0;
    if (status['phase'] === 'Failed' || status['phase'] === 'Succeeded') period = 0;
    return period > 0 ? { gracePeriodSeconds: period } : undefined;
  },
});

// Namespaces (Active with the "kubernetes" finalizer on create: prepare_for_create.ts): delete marks Terminating until the
// namespace controller has emptied it and removed the finalizer.
register('/namespaces', {
  nameValidator: nameIsDNSLabel,
  prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
    if (ctx.subresource === '') {
      // spec.finalizers change only through /finalize; status only through /status.
      obj['spec'] = structuredClone(old['spec'] ?? {});
    } else if (ctx.subresource === 'finalize') {
      const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
      const next = structuredClone(old);
      (next['spec'] as Record<string, unknown> | undefined ?? (next['spec'] = {}) as Record<string, unknown>)['finalizers'] = spec['finalizers'] ?? [];
      for (const k of Object.keys(obj)) delete obj[k];
      Object.assign(obj, next);
    }
  },
  canFinishDeletion(obj: KObject): boolean {
    const fin = ((obj['spec'] ?? {}) as Record<string, unknown>)['finalizers'];
    return !Array.isArray(fin) || fin.length === 0;
  },
  beforeDelete(obj: KObject): 'delete' | 'update' {
    const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
    const fin = spec['finalizers'];
    if (Array.isArray(fin) && fin.length > 0) {
      obj['status'] = { ...((obj['status'] ?? {}) as Record<string, unknown>), phase: 'Terminating' };
      meta(obj);
      return 'update';
    }
    return 'delete';
  },
});

// DaemonSets: the template generation lives in an annotation the controller labels pods with
// (`pod-template-generation`), "1" on create and bumped on every template change, as upstream.
const DS_TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';
register('apps/daemonsets', {
  prepareForCreate(obj: KObject): void {
    delete obj['status'];
    const m = meta(obj);
    m['annotations'] = { ...((m['annotations'] ?? {}) as Record<string, string>), [DS_TEMPLATE_GENERATION]: '1' };
  },
  prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
    if (ctx.subresource !== '') return;
    const oldGen = Number(((meta(old)['annotations'] ?? {}) as Record<string, string>)[DS_TEMPLATE_GENERATION] ?? '0');
    const templateChanged = JSON.stringify((obj['spec'] as Record<string, unknown> | undefined)?.['template']) !== JSON.stringify((old['spec'] as Record<string, unknown> | undefined)?.['template']);
    const m = meta(obj);
    m['annotations'] = { ...((m['annotations'] ?? {}) as Record<string, string>), [DS_TEMPLATE_GENERATION]: String(templateChanged ? oldGen + 1 : oldGen) };
  },
});

// CustomResourceDefinitions: storedVersions, validation and the cleanup finalizer on delete (crd/crd_strategy.ts).
register('apiextensions.k8s.io/customresourcedefinitions', crdStrategy);
