// Pod and PodTemplateSpec validation (ValidatePodCreate, ValidatePodUpdate, ValidatePodTemplateSpec)
// beyond ObjectMeta, which the apiserver validates separately: pod-specific annotations, the spec,
// and on update the rule that only images, activeDeadlineSeconds, tolerations (additions) and
// scheduling gates (removals) may change.

import { forbidden, invalid, newPath, required, type ErrorList, type Path } from '../field_errors.ts';
import { goQuote } from '../go_strings.ts';
import { inclusiveRangeError } from './names.ts';
import { validateContainerOnlyForPod, type PodOptions } from './container.ts';
import { objectDiff } from './diff.ts';
import { validateAnnotations, validateLabels } from './object_meta.ts';
import { validatePodSpec, validateTolerations } from './pod_spec.ts';
import { validateSeccompPodAnnotations } from './security.ts';
import { cloneJson, isSet, jsonEqual, objAt, objList, objOr, optNum, semanticEqual, str, strMap, type Obj } from './values.ts';

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const APPARMOR_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const MAX_INT32 = 2147483647;

/** Options for a Pod object at v1.32 defaults. */
export const POD_OPTIONS: PodOptions = { resourceIsPod: true, relaxedEnvVarNames: true };
/** Options for pod templates at v1.32 defaults. */
export const TEMPLATE_OPTIONS: PodOptions = { resourceIsPod: false, relaxedEnvVarNames: true };

function isInt32Text(value: string): boolean {
  const c = value[0];
  const validFirst = c !== undefined && (c === '-' || (c === '0' && value === '0') || (c >= '1' && c <= '9'));
  if (!validFirst || !/^-?[0-9]+$/.test(value)) return false;
  const n = Number(value);
  return n >= -2147483648 && n <= MAX_INT32;
}

function podHasContainer(spec: Obj, name: string): boolean {
  return ['initContainers', 'containers', 'ephemeralContainers'].some((l) => objList(spec[l]).some((c) => str(c['name']) === name));
}

/** ValidatePodSpecificAnnotations. */
export function validatePodSpecificAnnotations(annotationsValue: unknown, spec: Obj, fldPath: Path): ErrorList {
  const annotations = strMap(annotationsValue);
  const errs: ErrorList = [];
  if (MIRROR_POD_ANNOTATION in annotations && str(spec['nodeName']) === '') {
    errs.push(invalid(fldPath.key(MIRROR_POD_ANNOTATION), annotations[MIRROR_POD_ANNOTATION], 'must set spec.nodeName if mirror pod annotation is set'));
  }
  if (POD_DELETION_COST in annotations && !isInt32Text(annotations[POD_DELETION_COST] as string)) {
    errs.push(invalid(fldPath.key(POD_DELETION_COST), annotations[POD_DELETION_COST], 'must be a 32bit integer'));
  }
  errs.push(...validateSeccompPodAnnotations(annotations, fldPath));
  for (const [k, v] of Object.entries(annotations)) {
    if (!k.startsWith(APPARMOR_PREFIX)) continue;
    const container = k.slice(APPARMOR_PREFIX.length);
    if (!podHasContainer(spec, container)) errs.push(invalid(fldPath.key(k), container, 'container not found'));
    if (v !== '' && v !== 'runtime/default' && v !== 'unconfined' && !v.startsWith('localhost/')) {
      errs.push(invalid(fldPath.key(k), v, `invalid AppArmor profile name: ${goQuote(v)}`));
    }
  }
  return errs;
}

// validatePodMetadataAndSpec without ValidateObjectMeta.
function validatePodMetadataAndSpec(pod: Obj): ErrorList {
  const meta = objOr(pod['metadata']);
  const spec = objOr(pod['spec']);
  const specPath = newPath('spec');
  const errs: ErrorList = [
    ...validatePodSpecificAnnotations(meta['annotations'], spec, newPath('metadata', 'annotations')),
    ...validatePodSpec(spec, str(meta['name']), specPath, POD_OPTIONS),
  ];
  if (str(spec['serviceAccountName']) === '') {
    objList(spec['volumes']).forEach((vol, vi) => {
      objList(objAt(vol, 'projected')?.['sources']).forEach((source, si) => {
        if (isSet(source['serviceAccountToken'])) {
          const p = specPath.child('volumes').index(vi).child('projected', 'sources').index(si).child('serviceAccountToken');
          errs.push(forbidden(p, 'must not be specified when serviceAccountName is not set'));
        }
      });
    });
  }
  for (const list of ['containers', 'initContainers'] as const) {
    objList(spec[list]).forEach((c, i) => errs.push(...validateContainerOnlyForPod(c, specPath.child(list).index(i))));
  }
  return errs;
}

/**
 * Pods whose validatePodMetadataAndSpec found nothing, as the objects that were checked: the API
 * server stores (and keeps in its watch cache) exactly those objects, and never changes them, so
 * an update leaving name, annotations and spec as they were need not check them again.
 */
const validContent = new WeakSet<object>();

/** validatePodMetadataAndSpec, skipped when `old` passed it and `pod` has the same name, annotations and spec. */
function checkPodMetadataAndSpec(pod: Obj, old: Obj | undefined): ErrorList {
  if (old !== undefined && validContent.has(old)) {
    const m = objOr(pod['metadata']);
    const om = objOr(old['metadata']);
    if (m['name'] === om['name'] && jsonEqual(m['annotations'], om['annotations']) && jsonEqual(pod['spec'], old['spec'])) {
      validContent.add(pod);
      return [];
    }
  }
  const errs = validatePodMetadataAndSpec(pod);
  if (errs.length === 0) validContent.add(pod);
  return errs;
}

/** ValidatePodCreate (spec part). */
export function validatePod(pod: Obj): ErrorList {
  const spec = objOr(pod['spec']);
  const specPath = newPath('spec');
  const errs = checkPodMetadataAndSpec(pod, undefined);
  if (objList(spec['ephemeralContainers']).length > 0) errs.push(forbidden(specPath.child('ephemeralContainers'), 'cannot be set on create'));
  if (str(spec['nodeName']) !== '' && objList(spec['schedulingGates']).length > 0) {
    errs.push(forbidden(specPath.child('nodeName'), 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

function validateContainerUpdates(newList: unknown, oldList: unknown, fldPath: Path): { errs: ErrorList; stop: boolean } {
  const n = objList(newList);
  const o = objList(oldList);
  if (n.length !== o.length) return { errs: [forbidden(fldPath, 'pod updates may not add or remove containers')], stop: true };
  const errs: ErrorList = [];
  n.forEach((c, i) => {
    const image = str(c['image']);
    if (image === '') errs.push(required(fldPath.index(i).child('image'), ''));
    if (image.trim() !== image) errs.push(invalid(fldPath.index(i).child('image'), image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function validateAnnotationUpdates(newPod: Obj, oldPod: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const n = strMap(objOr(newPod['metadata'])['annotations']);
  const o = strMap(objOr(oldPod['metadata'])['annotations']);
  for (const [k, v] of Object.entries(o)) {
    if (k in n && n[k] === v) continue;
    if (k.startsWith(APPARMOR_PREFIX)) errs.push(forbidden(fldPath.key(k), 'may not remove or update AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION) errs.push(forbidden(fldPath.key(k), 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(n)) {
    if (k in o) continue;
    if (k.startsWith(APPARMOR_PREFIX)) errs.push(forbidden(fldPath.key(k), 'may not add AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION) errs.push(forbidden(fldPath.key(k), 'may not add mirror pod annotation'));
  }
  errs.push(...validatePodSpecificAnnotations(objOr(newPod['metadata'])['annotations'], objOr(newPod['spec']), fldPath));
  return errs;
}

function tolerationsOnlyAdded(newList: unknown, oldList: unknown, fldPath: Path): ErrorList {
  const n = objList(newList);
  for (const old of objList(oldList)) {
    const found = n.some((t) => semanticEqual({ ...old, tolerationSeconds: t['tolerationSeconds'] }, t));
    if (!found) return [forbidden(fldPath, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(newList, fldPath);
}

function schedulingGatesOnlyRemoved(newList: unknown, oldList: unknown, fldPath: Path): ErrorList {
  const oldNames = new Set(objList(oldList).map((g) => str(g['name'])));
  const added = new Map<string, number>();
  objList(newList).forEach((g, i) => added.set(str(g['name']), i));
  for (const name of oldNames) added.delete(name);
  return [...added].map(([gate, i]) => forbidden(fldPath.index(i).child('name'), `only deletion is allowed, but found new scheduling gate '${gate}'`));
}

/** ValidatePodUpdate without ValidateObjectMetaUpdate / ValidateObjectMeta. */
export function validatePodUpdate(newPod: Obj, oldPod: Obj): ErrorList {
  const specPath = newPath('spec');
  const errs = checkPodMetadataAndSpec(newPod, oldPod);
  errs.push(...validateAnnotationUpdates(newPod, oldPod, newPath('metadata', 'annotations')));
  const newSpec = objOr(newPod['spec']);
  const oldSpec = objOr(oldPod['spec']);
  for (const list of ['containers', 'initContainers'] as const) {
    const r = validateContainerUpdates(newSpec[list], oldSpec[list], specPath.child(list));
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const newADS = optNum(newSpec['activeDeadlineSeconds']);
  const oldADS = optNum(oldSpec['activeDeadlineSeconds']);
  if (newADS !== undefined) {
    if (newADS < 0 || newADS > MAX_INT32) {
      errs.push(invalid(specPath.child('activeDeadlineSeconds'), newADS, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (oldADS !== undefined && oldADS < newADS) {
      errs.push(invalid(specPath.child('activeDeadlineSeconds'), newADS, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (oldADS !== undefined) {
    errs.push(invalid(specPath.child('activeDeadlineSeconds'), null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...tolerationsOnlyAdded(newSpec['tolerations'], oldSpec['tolerations'], specPath.child('tolerations')));
  errs.push(...schedulingGatesOnlyRemoved(newSpec['schedulingGates'], oldSpec['schedulingGates'], specPath.child('schedulingGates')));
  if (semanticEqual(newSpec, oldSpec)) return errs;

  const munged = cloneJson(newSpec);
  for (const list of ['containers', 'initContainers'] as const) {
    const oldContainers = objList(oldSpec[list]);
    objList(munged[list]).forEach((c, i) => {
      c['image'] = oldContainers[i]?.['image'];
    });
  }
  munged['activeDeadlineSeconds'] = oldSpec['activeDeadlineSeconds'];
  munged['schedulingGates'] = oldSpec['schedulingGates'];
  munged['tolerations'] = oldSpec['tolerations'];
  const oldGrace = optNum(oldSpec['terminationGracePeriodSeconds']);
  if (oldGrace !== undefined && oldGrace < 0 && munged['terminationGracePeriodSeconds'] === 1) {
    munged['terminationGracePeriodSeconds'] = oldGrace;
  }
  if (objList(oldSpec['schedulingGates']).length > 0) {
    // Gated pods may add node selectors and node affinity; mutations and removals stay forbidden.
    const oldSel = strMap(oldSpec['nodeSelector']);
    const newSel = strMap(munged['nodeSelector']);
    if (Object.entries(oldSel).every(([k, v]) => newSel[k] === v)) munged['nodeSelector'] = oldSpec['nodeSelector'];
  }
  if (!semanticEqual(munged, oldSpec)) {
    errs.push(forbidden(specPath, `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${objectDiff('core.PodSpec', oldSpec, munged)}`));
  }
  return errs;
}

/** ValidatePodEphemeralContainersUpdate (without ValidateObjectMetaUpdate): ephemeral containers are append-only. */
export function validatePodEphemeralContainersUpdate(newPod: Obj, oldPod: Obj): ErrorList {
  const errs = validatePodMetadataAndSpec(newPod);
  errs.push(...validateAnnotationUpdates(newPod, oldPod, newPath('metadata', 'annotations')));
  if (MIRROR_POD_ANNOTATION in strMap(objOr(oldPod['metadata'])['annotations'])) {
    return [forbidden(newPath(''), 'static pods do not support ephemeral containers')];
  }
  const specPath = newPath('spec').child('ephemeralContainers');
  const byName = new Map(objList(objOr(newPod['spec'])['ephemeralContainers']).map((c) => [str(c['name']), c]));
  for (const old of objList(objOr(oldPod['spec'])['ephemeralContainers'])) {
    const name = str(old['name']);
    const next = byName.get(name);
    if (!next) errs.push(forbidden(specPath, `existing ephemeral containers ${goQuote(name)} may not be removed\n`));
    else if (!semanticEqual(old, next)) errs.push(forbidden(specPath, `existing ephemeral containers ${goQuote(name)} may not be changed\n${objectDiff('core.EphemeralContainer', old, next)}`));
  }
  return errs;
}

/** ValidatePodTemplateSpec (template labels and annotations are reported under `<path>.labels`, as upstream). */
export function validatePodTemplateSpec(templateValue: unknown, fldPath: Path, opts: PodOptions = TEMPLATE_OPTIONS): ErrorList {
  const template = objOr(templateValue);
  const meta = objOr(template['metadata']);
  const spec = objOr(template['spec']);
  const errs: ErrorList = [
    ...validateLabels(strMap(meta['labels']), fldPath.child('labels')),
    ...validateAnnotations(strMap(meta['annotations']), fldPath.child('annotations')),
    ...validatePodSpecificAnnotations(meta['annotations'], spec, fldPath.child('annotations')),
    ...validatePodSpec(spec, '', fldPath.child('spec'), opts),
  ];
  if (objList(spec['ephemeralContainers']).length > 0) {
    errs.push(forbidden(fldPath.child('spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

/** PodTemplate objects: the template at `template`. */
export function validatePodTemplate(obj: Obj): ErrorList {
  return validatePodTemplateSpec(obj['template'], newPath('template'));
}
