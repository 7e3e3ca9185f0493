// PersistentVolume and PersistentVolumeClaim validation beyond ObjectMeta: PV capacity, access
// modes, exactly one volume source, node affinity; PVC specs; and what updates may change.

import { forbidden, goValue, invalid, newPath, notSupported, required, type ErrorList, type Path } from '../field_errors.ts';
import { compareGoStrings, goQuote } from '../go_strings.ts';
import { cmpQuantity, quantityValue } from '../quantity.ts';
import { objectDiff } from './diff.ts';
import { isDNS1123Label, isDNS1123Subdomain, nameIsDNSSubdomain, validateNamespaceName } from './names.ts';
import { validateNodeSelector } from './pod_spec.ts';
import { SUPPORTED_VOLUME_MODES, validateAccessModes, validatePersistentVolumeClaimSpec } from './pvc_spec.ts';
import { quantityOf, validatePositiveQuantityValue } from './resources.ts';
import { validateCSIDriverName, validateHostPath, validateISCSI, validateNFS, validatePathNoBacksteps } from './volumes.ts';
import { cloneJson, isObj, isSet, len, list, num, objAt, objOr, optStr, semanticEqual, str, strList, strMap, type Obj } from './values.ts';

const SPEC = newPath('spec');
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

function requireFields(src: Obj, fldPath: Path, ...names: string[]): ErrorList {
  return names.filter((n) => len(src[n]) === 0).map((n) => required(fldPath.child(n), ''));
}

function validateSecretReference(ref: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const name = str(ref['name']);
  const ns = str(ref['namespace']);
  if (name === '') errs.push(required(fldPath.child('name'), ''));
  else for (const m of isDNS1123Subdomain(name)) errs.push(invalid(fldPath.child('name'), name, m));
  if (ns === '') errs.push(required(fldPath.child('namespace'), ''));
  else for (const m of isDNS1123Label(ns)) errs.push(invalid(fldPath.child('namespace'), ns, m));
  return errs;
}

type PVSourceValidator = (src: Obj, p: Path, pvName: string) => ErrorList;

interface PVSourceRule {
  readonly key: string;
  readonly forbiddenName?: string;
  readonly childName?: string;
  /** flexVolume is counted but never rejected as a second source upstream. */
  readonly alwaysCount?: boolean;
  readonly validate: PVSourceValidator;
}

const PV_SOURCES: readonly PVSourceRule[] = [
  { key: 'hostPath', validate: (s, p) => validateHostPath(s, p) },
  {
    key: 'gcePersistentDisk', childName: 'persistentDisk',
    validate: (s, p) => [...requireFields(s, p, 'pdName'), ...partition(s, p)],
  },
  { key: 'awsElasticBlockStore', validate: (s, p) => [...requireFields(s, p, 'volumeID'), ...partition(s, p)] },
  {
    key: 'glusterfs',
    validate: (s, p) => {
      const errs = requireFields(s, p, 'endpoints', 'path');
      const ns = optStr(s['endpointsNamespace']);
      if (ns === '') errs.push(invalid(p.child('endpointsNamespace'), ns, 'if the endpointnamespace is set, it must be a valid namespace name'));
      else if (ns !== undefined) for (const m of validateNamespaceName(ns, false)) errs.push(invalid(p.child('endpointsNamespace'), ns, m));
      return errs;
    },
  },
  { key: 'flocker', validate: (s, p) => (str(s['datasetName']) === '' && str(s['datasetUUID']) === '' ? [required(p, 'one of datasetName and datasetUUID is required')] : []) },
  { key: 'nfs', validate: (s, p) => validateNFS(s, p) },
  { key: 'rbd', validate: (s, p) => requireFields(s, p, 'monitors', 'image') },
  { key: 'quobyte', validate: (s, p) => requireFields(s, p, 'registry', 'volume') },
  { key: 'cephfs', forbiddenName: 'cephFS', validate: (s, p) => requireFields(s, p, 'monitors') },
  {
    key: 'iscsi',
    validate: (s, p, pvName) => {
      const errs = validateISCSI(s, p, true);
      if (isSet(s['initiatorName']) && `${pvName}:${str(s['targetPortal'])}`.length > 64) {
        errs.push(invalid(p.child('targetportal'), str(s['targetPortal']), 'Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.'));
      }
      return errs;
    },
  },
  {
    key: 'cinder',
    validate: (s, p) => {
      const errs = requireFields(s, p, 'volumeID');
      const ref = objAt(s, 'secretRef');
      if (ref) errs.push(...requireFields(ref, p.child('secretRef'), 'name', 'namespace'));
      return errs;
    },
  },
  { key: 'fc', validate: (s, p) => (list(s['targetWWNs']).length < 1 && list(s['wwids']).length < 1 ? [required(p.child('targetWWNs'), 'must specify either targetWWNs or wwids, but not both')] : []) },
  { key: 'flexVolume', alwaysCount: true, validate: (s, p) => requireFields(s, p, 'driver') },
  {
    key: 'azureFile',
    validate: (s, p) => {
      const errs = requireFields(s, p, 'secretName', 'shareName');
      if (optStr(s['secretNamespace']) === '') errs.push(required(p.child('secretNamespace'), ''));
      return errs;
    },
  },
  { key: 'vsphereVolume', validate: (s, p) => requireFields(s, p, 'volumePath') },
  { key: 'photonPersistentDisk', validate: (s, p) => requireFields(s, p, 'pdID') },
  { key: 'portworxVolume', validate: (s, p) => requireFields(s, p, 'volumeID') },
  { key: 'azureDisk', validate: (s, p) => requireFields(s, p, 'diskName', 'diskURI') },
  { key: 'scaleIO', validate: (s, p) => requireFields(s, p, 'gateway', 'system', 'volumeName') },
  { key: 'local', validate: (s, p) => (str(s['path']) === '' ? [required(p.child('path'), '')] : validatePathNoBacksteps(str(s['path']), p.child('path'))) },
  { key: 'storageos', validate: (s, p) => requireFields(s, p, 'volumeName') },
  {
    key: 'csi',
    validate: (s, p) => {
      const errs = validateCSIDriverName(str(s['driver']), p.child('driver'));
      if (str(s['volumeHandle']) === '') errs.push(required(p.child('volumeHandle'), ''));
      for (const ref of ['controllerPublishSecretRef', 'controllerExpandSecretRef', 'nodePublishSecretRef', 'nodeExpandSecretRef']) {
        const r = objAt(s, ref);
        if (r) errs.push(...validateSecretReference(r, p.child(ref)));
      }
      return errs;
    },
  },
];

function partition(s: Obj, p: Path): ErrorList {
  const v = num(s['partition']);
  return v < 0 || v > 255 ? [invalid(p.child('partition'), v, 'must be between 1 and 255, inclusive')] : [];
}

// %#v of a core.ResourceList; quantities print through their String() form (upstream prints the
// Quantity struct's internals here, which carry no extra information for a reader).
function goResourceList(value: unknown): string {
  if (!isObj(value)) return 'core.ResourceList(nil)';
  const m = value;
  const keys = Object.keys(m).sort(compareGoStrings);
  return `core.ResourceList{${keys.map((k) => `${goQuote(k)}:${goQuote(str(m[k]) || String(m[k] ?? ''))}`).join(', ')}}`;
}

/** ValidatePersistentVolumeSpec for a PersistentVolume object. */
function validatePersistentVolumeSpec(specValue: unknown, pvName: string): ErrorList {
  const spec = objOr(specValue);
  const errs: ErrorList = [];
  const modes = strList(spec['accessModes']);
  if (modes.length === 0) errs.push(required(SPEC.child('accessModes'), ''));
  errs.push(...validateAccessModes(modes, SPEC.child('accessModes')));
  const capacity = objOr(spec['capacity']);
  const capPath = SPEC.child('capacity');
  if (Object.keys(capacity).length === 0) errs.push(required(capPath, ''));
  if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(notSupported(capPath, goValue(goResourceList(spec['capacity'])), ['storage']));
  for (const [r, v] of Object.entries(capacity)) {
    const q = quantityOf(v);
    if (q === null) continue;
    if (quantityValue(q) < 0n) errs.push(invalid(capPath.key(r), Number(quantityValue(q)), 'must be a valid resource quantity'));
    errs.push(...validatePositiveQuantityValue(q, capPath.key(r)));
  }
  const reclaim = str(spec['persistentVolumeReclaimPolicy']);
  if (reclaim !== '' && !RECLAIM_POLICIES.includes(reclaim)) errs.push(notSupported(SPEC.child('persistentVolumeReclaimPolicy'), reclaim, RECLAIM_POLICIES));
  let nodeAffinitySpecified = false;
  const nodeAffinity = objAt(spec, 'nodeAffinity');
  if (nodeAffinity) {
    nodeAffinitySpecified = true;
    const req = objAt(nodeAffinity, 'required');
    if (req) errs.push(...validateNodeSelector(req, SPEC.child('nodeAffinity', 'required')));
    else errs.push(required(SPEC.child('nodeAffinity', 'required'), 'must specify required node constraints'));
  }
  let numVolumes = 0;
  for (const rule of PV_SOURCES) {
    const src = spec[rule.key];
    if (!isSet(src)) continue;
    if (numVolumes > 0 && !rule.alwaysCount) {
      errs.push(forbidden(SPEC.child(rule.forbiddenName ?? rule.key), 'may not specify more than 1 volume type'));
      continue;
    }
    numVolumes++;
    errs.push(...rule.validate(objOr(src), SPEC.child(rule.childName ?? rule.key), pvName));
    if (rule.key === 'local' && !nodeAffinitySpecified) errs.push(required(SPEC.child('nodeAffinity'), 'Local volume requires node affinity'));
  }
  if (numVolumes === 0) errs.push(required(SPEC, 'must specify a volume type'));
  const hostPath = objAt(spec, 'hostPath');
  if (hostPath && str(hostPath['path']).replace(/\/+/g, '/').replace(/(.)\/$/, '$1') === '/' && reclaim === 'Recycle') {
    errs.push(forbidden(SPEC.child('persistentVolumeReclaimPolicy'), "may not be 'recycle' for a hostPath mount of '/'"));
  }
  const className = str(spec['storageClassName']);
  if (className !== '') for (const m of nameIsDNSSubdomain(className, false)) errs.push(invalid(SPEC.child('storageClassName'), className, m));
  const volumeMode = optStr(spec['volumeMode']);
  if (volumeMode !== undefined && !(SUPPORTED_VOLUME_MODES as readonly string[]).includes(volumeMode)) {
    errs.push(notSupported(SPEC.child('volumeMode'), volumeMode, SUPPORTED_VOLUME_MODES));
  }
  return errs;
}

/** ValidatePersistentVolume without ObjectMeta. */
export function validatePersistentVolume(pv: Obj): ErrorList {
  return validatePersistentVolumeSpec(pv['spec'], str(objOr(pv['metadata'])['name']));
}

function pvSource(spec: Obj): Obj {
  const out: Obj = {};
  for (const rule of PV_SOURCES) if (isSet(spec[rule.key])) out[rule.key] = spec[rule.key];
  return out;
}

/** ValidatePersistentVolumeUpdate without ObjectMeta. */
export function validatePersistentVolumeUpdate(pv: Obj, old: Obj): ErrorList {
  const errs = validatePersistentVolume(pv);
  const spec = objOr(pv['spec']);
  const oldSpec = objOr(old['spec']);
  const newSource = cloneJson(pvSource(spec));
  const oldSource = pvSource(oldSpec);
  const newCSI = objAt(newSource, 'csi');
  if (newCSI && objAt(oldSource, 'csi') && !isSet(objAt(oldSource, 'csi')?.['controllerExpandSecretRef'])) delete newCSI['controllerExpandSecretRef'];
  if (!semanticEqual(newSource, oldSource)) {
    errs.push(forbidden(newPath('spec', 'persistentvolumesource'), `spec.persistentvolumesource is immutable after creation\n${objectDiff('core.PersistentVolumeSource', oldSource, newSource)}`));
  }
  if (optStr(spec['volumeMode']) !== optStr(oldSpec['volumeMode'])) errs.push(invalid(newPath('volumeMode'), optStr(spec['volumeMode']) ?? null, 'field is immutable'));
  if (isSet(oldSpec['nodeAffinity']) && !semanticEqual(spec['nodeAffinity'], oldSpec['nodeAffinity'])) {
    errs.push(invalid(newPath('nodeAffinity'), isSet(spec['nodeAffinity']) ? goValue('core.VolumeNodeAffinity{...}') : null, 'field is immutable, except for updating from beta label to GA'));
  }
  return errs;
}

/** ValidatePersistentVolumeClaim without ObjectMeta. */
export function validatePersistentVolumeClaim(pvc: Obj): ErrorList {
  return validatePersistentVolumeClaimSpec(pvc['spec'], SPEC);
}

/** ValidatePersistentVolumeClaimUpdate without ObjectMeta (RecoverVolumeExpansionFailure on, as in v1.32). */
export function validatePersistentVolumeClaimUpdate(pvc: Obj, old: Obj): ErrorList {
  const errs = validatePersistentVolumeClaim(pvc);
  const spec = objOr(pvc['spec']);
  const oldSpec = objOr(old['spec']);
  const newClone = cloneJson(spec);
  const oldClone = cloneJson(oldSpec);
  if (str(oldSpec['volumeName']) === '') oldClone['volumeName'] = newClone['volumeName'];
  const oldAnn = strMap(objOr(old['metadata'])['annotations']);
  const newAnn = strMap(objOr(pvc['metadata'])['annotations']);
  const oldSC = optStr(oldSpec['storageClassName']);
  const newSC = optStr(spec['storageClassName']);
  const upgradeFromAnnotation = BETA_STORAGE_CLASS in oldAnn && oldSC === undefined && newSC !== undefined &&
    newSC === oldAnn[BETA_STORAGE_CLASS] && (!(BETA_STORAGE_CLASS in newAnn) || newAnn[BETA_STORAGE_CLASS] === oldAnn[BETA_STORAGE_CLASS]);
  if (upgradeFromAnnotation) {
    delete newClone['storageClassName'];
  } else {
    if ((newAnn[BETA_STORAGE_CLASS] ?? '') !== (oldAnn[BETA_STORAGE_CLASS] ?? '')) {
      errs.push(invalid(newPath('metadata', 'annotations', BETA_STORAGE_CLASS), newAnn[BETA_STORAGE_CLASS] ?? '', 'field is immutable'));
    }
    if (newSC !== undefined && oldSC === undefined && (!(BETA_STORAGE_CLASS in oldAnn) || newSC === oldAnn[BETA_STORAGE_CLASS])) {
      delete newClone['storageClassName'];
    }
  }
  const bound = str(objAt(pvc, 'status')?.['phase']) === 'Bound';
  const newRequests = objAt(newClone, 'resources', 'requests');
  if (bound && newRequests) newRequests['storage'] = objAt(oldSpec, 'resources', 'requests')?.['storage'];
  if (!semanticEqual(newClone, oldClone)) {
    errs.push(forbidden(SPEC, `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${objectDiff('core.PersistentVolumeClaimSpec', oldClone, newClone)}`));
  }
  const oldSize = quantityOf(objAt(oldSpec, 'resources', 'requests')?.['storage']);
  const newSize = quantityOf(objAt(spec, 'resources', 'requests')?.['storage']);
  const statusSize = quantityOf(objAt(old, 'status', 'capacity')?.['storage']);
  if (oldSize !== null && newSize !== null && cmpQuantity(newSize, oldSize) < 0 && statusSize !== null && cmpQuantity(newSize, statusSize) <= 0) {
    errs.push(forbidden(newPath('spec', 'resources', 'requests', 'storage'), 'field can not be less than status.capacity'));
  }
  if (optStr(spec['volumeMode']) !== optStr(oldSpec['volumeMode'])) errs.push(invalid(newPath('volumeMode'), optStr(spec['volumeMode']) ?? null, 'field is immutable'));
  return errs;
}
