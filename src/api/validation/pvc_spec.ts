// PersistentVolumeClaimSpec validation, shared by PersistentVolumeClaim objects, StatefulSet claim
// templates and generic ephemeral volumes, plus the restricted metadata of embedded templates.

import { forbidden, invalid, notSupported, required, type ErrorList, type Path } from '../field_errors.ts';
import { isDNS1123Subdomain, nameIsDNSSubdomain, validateNamespaceName } from './names.ts';
import { validateAnnotations, validateLabels } from './object_meta.ts';
import { validateLabelSelector } from './label_selector.ts';
import { quantityOf, validatePositiveQuantityValue, validateResourceQuantityValue } from './resources.ts';
import { isObj, isSet, objAt, objOr, optStr, str, strList, strMap, type Obj } from './values.ts';

/** Access modes, sorted as sets.List prints them. */
export const SUPPORTED_ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'] as const;
/** Volume modes, sorted. */
export const SUPPORTED_VOLUME_MODES = ['Block', 'Filesystem'] as const;

// ObjectMeta fields in struct order, for validateFieldAllowList.
const OBJECT_META_FIELDS = [
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers',
  'managedFields',
] as const;

function isNonZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObj(v)) return Object.keys(v).length > 0;
  return true;
}

/** ValidateTemplateObjectMeta: only labels and annotations may be set. */
export function validateTemplateObjectMeta(meta: unknown, fldPath: Path): ErrorList {
  const m = objOr(meta);
  const errs: ErrorList = [
    ...validateAnnotations(strMap(m['annotations']), fldPath.child('annotations')),
    ...validateLabels(strMap(m['labels']), fldPath.child('labels')),
  ];
  for (const f of OBJECT_META_FIELDS) {
    if (f === 'labels' || f === 'annotations') continue;
    if (isNonZero(m[f])) errs.push(forbidden(fldPath.child(f), 'cannot be set'));
  }
  return errs;
}

/** validateAccessModes as PV and PVC specs share it. */
export function validateAccessModes(modes: string[], fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  let rwop = false;
  let other = false;
  for (const mode of modes) {
    const supported = (SUPPORTED_ACCESS_MODES as readonly string[]).includes(mode);
    if (!supported) errs.push(notSupported(fldPath, mode, SUPPORTED_ACCESS_MODES));
    if (mode === 'ReadWriteOncePod') rwop = true;
    else if (supported) other = true;
  }
  if (rwop && other) errs.push(forbidden(fldPath, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validateDataSourceCommon(ref: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const kind = str(ref['kind']);
  if (str(ref['name']) === '') errs.push(required(fldPath.child('name'), ''));
  if (kind === '') errs.push(required(fldPath.child('kind'), ''));
  const apiGroup = str(ref['apiGroup']);
  if (apiGroup === '' && kind !== 'PersistentVolumeClaim') {
    errs.push(invalid(fldPath, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  }
  if (apiGroup !== '') {
    for (const msg of isDNS1123Subdomain(apiGroup)) errs.push(invalid(fldPath.child('apiGroup'), apiGroup, msg));
  }
  return errs;
}

/** ValidatePersistentVolumeClaimSpec (v1.32 feature gates: no VolumeAttributesClass). */
export function validatePersistentVolumeClaimSpec(specValue: unknown, fldPath: Path): ErrorList {
  const spec = objOr(specValue);
  const errs: ErrorList = [];
  const modes = strList(spec['accessModes']);
  if (modes.length === 0) errs.push(required(fldPath.child('accessModes'), 'at least 1 access mode is required'));
  if (isObj(spec['selector'])) errs.push(...validateLabelSelector(spec['selector'], {}, fldPath.child('selector')));
  errs.push(...validateAccessModes(modes, fldPath.child('accessModes')));

  const storagePath = fldPath.child('resources').key('storage');
  const requests = objOr(objAt(spec, 'resources')?.['requests']);
  if (!('storage' in requests)) {
    errs.push(required(storagePath, ''));
  } else {
    const q = quantityOf(requests['storage']);
    if (q !== null) {
      const positive = validatePositiveQuantityValue(q, storagePath);
      errs.push(...(positive.length > 0 ? positive : validateResourceQuantityValue('storage', q, storagePath)));
    }
  }
  const className = optStr(spec['storageClassName']);
  if (className !== undefined && className !== '') {
    for (const msg of nameIsDNSSubdomain(className, false)) errs.push(invalid(fldPath.child('storageClassName'), className, msg));
  }
  const volumeMode = optStr(spec['volumeMode']);
  if (volumeMode !== undefined && !(SUPPORTED_VOLUME_MODES as readonly string[]).includes(volumeMode)) {
    errs.push(notSupported(fldPath.child('volumeMode'), volumeMode, SUPPORTED_VOLUME_MODES));
  }
  const dataSource = objAt(spec, 'dataSource');
  const dataSourceRef = objAt(spec, 'dataSourceRef');
  if (dataSource) errs.push(...validateDataSourceCommon(dataSource, fldPath.child('dataSource')));
  if (dataSourceRef) {
    errs.push(...validateDataSourceCommon(dataSourceRef, fldPath.child('dataSourceRef')));
    const ns = str(dataSourceRef['namespace']);
    if (ns !== '') {
      for (const msg of validateNamespaceName(ns, false)) errs.push(invalid(fldPath.child('dataSourceRef', 'namespace'), ns, msg));
    }
  }
  const refNamespace = str(dataSourceRef?.['namespace']);
  if (dataSourceRef && refNamespace !== '') {
    if (dataSource) {
      errs.push(invalid(fldPath, fldPath.child('dataSource').toString(), 'may not be specified when dataSourceRef.namespace is specified'));
    }
  } else if (dataSource && dataSourceRef) {
    const same = (isSet(dataSource['apiGroup']) === isSet(dataSourceRef['apiGroup'])) &&
      str(dataSource['apiGroup']) === str(dataSourceRef['apiGroup']) &&
      str(dataSource['kind']) === str(dataSourceRef['kind']) && str(dataSource['name']) === str(dataSourceRef['name']);
    if (!same) errs.push(invalid(fldPath, fldPath.child('dataSource').toString(), 'must match dataSourceRef'));
  }
  return errs;
}

/** ValidatePersistentVolumeClaimTemplate: restricted metadata plus the claim spec. */
export function validatePersistentVolumeClaimTemplate(template: unknown, fldPath: Path): ErrorList {
  const t = objOr(template);
  return [
    ...validateTemplateObjectMeta(t['metadata'], fldPath.child('metadata')),
    ...validatePersistentVolumeClaimSpec(t['spec'], fldPath.child('spec')),
  ];
}
