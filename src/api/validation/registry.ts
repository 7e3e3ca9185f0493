// Kind-specific validation of built-in objects, as a table from group/kind to create and update
// rules (upstream's strategy Validate / ValidateUpdate minus ObjectMeta, which the apiserver runs
// first). Objects are the defaulted v1 JSON; field paths are their JSON paths.

import type { ErrorList } from '../field_errors.ts';
import {
  validateMutatingWebhookConfiguration, validateMutatingWebhookConfigurationUpdate, validateValidatingAdmissionPolicy,
  validateValidatingAdmissionPolicyBinding, validateValidatingAdmissionPolicyUpdate, validateValidatingWebhookConfiguration,
  validateValidatingWebhookConfigurationUpdate,
} from './admissionregistration.ts';
import { validateCronJob, validateCronJobUpdate, validateJob, validateJobUpdate } from './batch.ts';
import {
  validateConfigMap, validateConfigMapUpdate, validateMetadataKubeFinalizers, validateNamespace, validateSecret,
  validateSecretUpdate,
} from './config.ts';
import { validateNode, validateNodeUpdate } from './node.ts';
import { validatePod, validatePodTemplate, validatePodUpdate } from './pod.ts';
import { validateService, validateServiceUpdate } from './service.ts';
import {
  validatePersistentVolume, validatePersistentVolumeClaim, validatePersistentVolumeClaimUpdate, validatePersistentVolumeUpdate,
} from './storage.ts';
import type { Obj } from './values.ts';
import {
  validateDaemonSet, validateDeployment, validateReplicaSet, validateReplicationController, validateSelectorImmutable,
  validateStatefulSet, validateStatefulSetUpdate,
} from './workloads.ts';

/** Create and update rules of one kind. */
interface KindRules {
  readonly create: (obj: Obj) => ErrorList;
  /** Defaults to create(obj) when absent. */
  readonly update?: (obj: Obj, old: Obj) => ErrorList;
}

// Deployment, ReplicaSet and DaemonSet: the spec again on update, then (apps/v1) an immutable selector.
function withImmutableSelector(validate: (obj: Obj) => ErrorList): KindRules {
  return { create: validate, update: (obj, old) => [...validate(obj), ...validateSelectorImmutable(obj, old)] };
}

const rules: ReadonlyMap<string, KindRules> = new Map<string, KindRules>([
  ['/Pod', { create: validatePod, update: validatePodUpdate }],
  ['/PodTemplate', { create: validatePodTemplate }],
  ['/ReplicationController', { create: validateReplicationController }],
  ['/Service', { create: validateService, update: validateServiceUpdate }],
  ['/ConfigMap', { create: validateConfigMap, update: validateConfigMapUpdate }],
  ['/Secret', { create: validateSecret, update: validateSecretUpdate }],
  ['/Namespace', { create: validateNamespace, update: () => [] }],
  ['/Node', { create: validateNode, update: validateNodeUpdate }],
  ['/PersistentVolume', { create: validatePersistentVolume, update: validatePersistentVolumeUpdate }],
  ['/PersistentVolumeClaim', { create: validatePersistentVolumeClaim, update: validatePersistentVolumeClaimUpdate }],
  ['apps/Deployment', withImmutableSelector(validateDeployment)],
  ['apps/ReplicaSet', withImmutableSelector(validateReplicaSet)],
  ['apps/DaemonSet', withImmutableSelector(validateDaemonSet)],
  ['apps/StatefulSet', { create: validateStatefulSet, update: validateStatefulSetUpdate }],
  ['batch/Job', { create: (obj) => validateJob(obj), update: validateJobUpdate }],
  ['batch/CronJob', { create: validateCronJob, update: validateCronJobUpdate }],
  ['admissionregistration.k8s.io/ValidatingWebhookConfiguration', { create: validateValidatingWebhookConfiguration, update: validateValidatingWebhookConfigurationUpdate }],
  ['admissionregistration.k8s.io/MutatingWebhookConfiguration', { create: validateMutatingWebhookConfiguration, update: validateMutatingWebhookConfigurationUpdate }],
  ['admissionregistration.k8s.io/ValidatingAdmissionPolicy', { create: validateValidatingAdmissionPolicy, update: validateValidatingAdmissionPolicyUpdate }],
  ['admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding', { create: validateValidatingAdmissionPolicyBinding }],
]);

// Groups whose validation goes through the core ValidateObjectMeta wrapper, which also insists
// that unqualified finalizer names be standard ones (admissionregistration and apiextensions use
// the generic apimachinery one).
const KUBE_FINALIZER_GROUPS = new Set([
  '', 'apps', 'batch', 'autoscaling', 'networking.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'storage.k8s.io',
  'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'scheduling.k8s.io', 'node.k8s.io', 'certificates.k8s.io',
]);

/** Kinds with validation rules beyond ObjectMeta, as "group/Kind" ("" group for core). */
export function validatedKinds(): string[] {
  return [...rules.keys()];
}

/**
 * Validation of a new object of a built-in kind beyond ObjectMeta, in upstream's order (append
 * these to validateObjectMeta's errors). [] for kinds without rules.
 */
export function validateObject(group: string, kind: string, obj: Record<string, unknown>): ErrorList {
  const errs: ErrorList = KUBE_FINALIZER_GROUPS.has(group) ? validateMetadataKubeFinalizers(obj) : [];
  const r = rules.get(`${group}/${kind}`);
  if (r) errs.push(...r.create(obj));
  return errs;
}

/**
 * Validation of an update of a built-in object beyond ObjectMetaUpdate (append to
 * validateObjectMetaUpdate's errors). obj is the new object after defaulting, old the stored one.
 */
export function validateObjectUpdate(group: string, kind: string, obj: Record<string, unknown>, old: Record<string, unknown>): ErrorList {
  const errs: ErrorList = KUBE_FINALIZER_GROUPS.has(group) ? validateMetadataKubeFinalizers(obj) : [];
  const r = rules.get(`${group}/${kind}`);
  if (r) errs.push(...(r.update ? r.update(obj, old) : r.create(obj)));
  return errs;
}
