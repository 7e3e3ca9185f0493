// Pod volumes and their sources (ValidateVolumes / validateVolumeSource), with the path helpers and
// the per-source checks PersistentVolume sources reuse. Sources are a table in upstream's order so
// "may not specify more than 1 volume type" lands on the same field.

import { duplicate, forbidden, invalid, notSupported, required, tooLong, type ErrorList, type Path } from '../field_errors.ts';
import { utf8Length } from '../go_strings.ts';
import { inclusiveRangeError, isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, nameIsDNSSubdomain } from './names.ts';
import { validateObjectFieldSelector, validateResourceFieldSelector } from './downward_api.ts';
import { validatePersistentVolumeClaimTemplate } from './pvc_spec.ts';
import { quantityOf } from './resources.ts';
import { isSet, list, num, objAt, objList, objOr, optNum, optStr, str, strList, type Obj } from './values.ts';

const fileModeErrorMsg = 'must be a number between 0 and 0777 (octal), both inclusive';
const pdPartitionErrorMsg = inclusiveRangeError(1, 255);

/** Pod metadata needed by generic ephemeral volumes (their claim is named <pod>-<volume>). */
export interface VolumeContext {
  readonly podName: string;
  /** True when validating a Pod object rather than a template. */
  readonly resourceIsPod: boolean;
}

/** validatePathNoBacksteps: no ".." element. */
export function validatePathNoBacksteps(targetPath: string, fldPath: Path): ErrorList {
  return targetPath.split('/').includes('..') ? [invalid(fldPath, targetPath, "must not contain '..'")] : [];
}

/** validateLocalDescendingPath: relative and without backsteps. */
export function validateLocalDescendingPath(targetPath: string, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  if (targetPath.startsWith('/')) errs.push(invalid(fldPath, targetPath, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(targetPath, fldPath));
  return errs;
}

/** ValidateLocalNonReservedPath: also must not start with "..". */
export function validateLocalNonReservedPath(targetPath: string, fldPath: Path): ErrorList {
  const errs = validateLocalDescendingPath(targetPath, fldPath);
  if (targetPath.startsWith('..') && !targetPath.startsWith('../')) {
    errs.push(invalid(fldPath, targetPath, "must not start with '..'"));
  }
  return errs;
}

function validateMode(mode: unknown, fldPath: Path): ErrorList {
  const m = optNum(mode);
  return m !== undefined && (m > 0o777 || m < 0) ? [invalid(fldPath, m, fileModeErrorMsg)] : [];
}

function validateKeyToPath(kp: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  if (str(kp['key']) === '') errs.push(required(fldPath.child('key'), ''));
  if (str(kp['path']) === '') errs.push(required(fldPath.child('path'), ''));
  errs.push(...validateLocalNonReservedPath(str(kp['path']), fldPath.child('path')));
  errs.push(...validateMode(kp['mode'], fldPath.child('mode')));
  return errs;
}

function requireFields(src: Obj, fldPath: Path, ...names: string[]): ErrorList {
  return names.filter((n) => list(src[n]).length === 0 && str(src[n]) === '').map((n) => required(fldPath.child(n), ''));
}

function validatePartition(src: Obj, fldPath: Path): ErrorList {
  const p = num(src['partition']);
  return p < 0 || p > 255 ? [invalid(fldPath.child('partition'), p, pdPartitionErrorMsg)] : [];
}

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

/** validateHostPathVolumeSource. */
export function validateHostPath(src: Obj, fldPath: Path): ErrorList {
  const p = str(src['path']);
  if (p === '') return [required(fldPath.child('path'), '')];
  const errs = validatePathNoBacksteps(p, fldPath.child('path'));
  const type = optStr(src['type']);
  if (type !== undefined && !HOST_PATH_TYPES.includes(type)) errs.push(notSupported(fldPath.child('type'), type, HOST_PATH_TYPES));
  return errs;
}

/** validateNFSVolumeSource. */
export function validateNFS(src: Obj, fldPath: Path): ErrorList {
  const errs = requireFields(src, fldPath, 'server', 'path');
  if (!str(src['path']).startsWith('/')) errs.push(invalid(fldPath.child('path'), str(src['path']), 'must be an absolute path'));
  return errs;
}

const iqnRegex = /iqn\.\d{4}-\d{2}\.([A-Za-z0-9\-.]+)(:[^,;*&$|\s]+)$/;
const euiRegex = /^eui.[A-Za-z0-9]{16}$/;
const naaRegex = /^naa.[A-Za-z0-9]{32}$/;

function iqnFormatErrors(value: string, fldPath: Path, prefixMsg: string): ErrorList {
  if (!value.startsWith('iqn') && !value.startsWith('eui') && !value.startsWith('naa')) {
    return [invalid(fldPath, value, prefixMsg)];
  }
  const bad = (value.startsWith('iqn') && !iqnRegex.test(value)) || (value.startsWith('eui') && !euiRegex.test(value)) ||
    (value.startsWith('naa') && !naaRegex.test(value));
  return bad ? [invalid(fldPath, value, 'must be valid format')] : [];
}

/** validateISCSIVolumeSource (pod) / validateISCSIPersistentVolumeSource (pv). */
export function validateISCSI(src: Obj, fldPath: Path, forPV: boolean): ErrorList {
  const errs = requireFields(src, fldPath, 'targetPortal');
  const iqn = str(src['iqn']);
  if (iqn === '') errs.push(required(fldPath.child('iqn'), ''));
  else errs.push(...iqnFormatErrors(iqn, fldPath.child('iqn'), forPV ? 'must be valid format' : 'must be valid format starting with iqn, eui, or naa'));
  const lun = num(src['lun']);
  if (lun < 0 || lun > 255) errs.push(invalid(fldPath.child('lun'), lun, inclusiveRangeError(0, 255)));
  if ((src['chapAuthDiscovery'] === true || src['chapAuthSession'] === true) && !isSet(src['secretRef'])) {
    errs.push(required(fldPath.child('secretRef'), ''));
  }
  const initiator = optStr(src['initiatorName']);
  if (initiator !== undefined) {
    errs.push(...iqnFormatErrors(initiator, fldPath.child('initiatorname'), forPV ? 'must be valid format' : 'must be valid format starting with iqn, eui, or naa'));
  }
  return errs;
}

/** ValidateCSIDriverName. */
export function validateCSIDriverName(driver: string, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  if (driver === '') errs.push(required(fldPath, ''));
  if (utf8Length(driver) > 63) errs.push(tooLong(fldPath, 63));
  for (const msg of isDNS1123Subdomain(driver.toLowerCase())) errs.push(invalid(fldPath, driver, msg));
  return errs;
}

function validateFlexOptions(src: Obj, fldPath: Path): ErrorList {
  const errs = requireFields(src, fldPath, 'driver');
  for (const k of Object.keys(objOr(src['options']))) {
    const ns = k.includes('/') ? k.slice(0, k.indexOf('/')) : k;
    const normalized = '.' + ns.toLowerCase();
    if (normalized.endsWith('.kubernetes.io') || normalized.endsWith('.k8s.io')) {
      errs.push(invalid(fldPath.child('options').key(k), k, 'kubernetes.io and k8s.io namespaces are reserved'));
    }
  }
  return errs;
}

function validateFC(src: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const wwns = strList(src['targetWWNs']);
  const wwids = strList(src['wwids']);
  if (wwns.length < 1 && wwids.length < 1) errs.push(required(fldPath.child('targetWWNs'), 'must specify either targetWWNs or wwids, but not both'));
  if (wwns.length !== 0 && wwids.length !== 0) errs.push(invalid(fldPath.child('targetWWNs'), wwns, 'targetWWNs and wwids can not be specified simultaneously'));
  if (wwns.length !== 0) {
    const lun = optNum(src['lun']);
    if (lun === undefined) errs.push(required(fldPath.child('lun'), 'lun is required if targetWWNs is specified'));
    else if (lun < 0 || lun > 255) errs.push(invalid(fldPath.child('lun'), lun, inclusiveRangeError(0, 255)));
  }
  return errs;
}

function validateFlocker(src: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const name = str(src['datasetName']);
  const uuid = str(src['datasetUUID']);
  if (name === '' && uuid === '') errs.push(required(fldPath, 'one of datasetName and datasetUUID is required'));
  if (name !== '' && uuid !== '') errs.push(invalid(fldPath, 'resource', 'datasetName and datasetUUID can not be specified simultaneously'));
  if (name.includes('/')) errs.push(invalid(fldPath.child('datasetName'), name, "must not contain '/'"));
  return errs;
}

function validateStorageOS(src: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const name = str(src['volumeName']);
  if (name === '') errs.push(required(fldPath.child('volumeName'), ''));
  else for (const msg of isDNS1123Label(name)) errs.push(invalid(fldPath.child('volumeName'), name, msg));
  const ns = str(src['volumeNamespace']);
  if (ns !== '') for (const msg of isDNS1123Label(ns)) errs.push(invalid(fldPath.child('volumeNamespace'), ns, msg));
  const ref = objAt(src, 'secretRef');
  if (ref && str(ref['name']) === '') errs.push(required(fldPath.child('secretRef', 'name'), ''));
  return errs;
}

const AZURE_CACHING = ['None', 'ReadOnly', 'ReadWrite'];
const AZURE_KINDS = ['Dedicated', 'Managed', 'Shared'];

function validateAzureDisk(src: Obj, fldPath: Path): ErrorList {
  const errs = requireFields(src, fldPath, 'diskName');
  const uri = str(src['diskURI']);
  if (uri === '') errs.push(required(fldPath.child('diskURI'), ''));
  const caching = optStr(src['cachingMode']);
  if (caching !== undefined && !AZURE_CACHING.includes(caching)) errs.push(notSupported(fldPath.child('cachingMode'), caching, AZURE_CACHING));
  const kind = optStr(src['kind']);
  if (kind !== undefined && !AZURE_KINDS.includes(kind)) errs.push(notSupported(fldPath.child('kind'), kind, AZURE_KINDS));
  if (kind === 'Managed' && !uri.startsWith('/subscriptions/')) {
    errs.push(notSupported(fldPath.child('diskURI'), uri, ['/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}']));
  }
  if (kind !== undefined && kind !== 'Managed' && !uri.startsWith('https://')) {
    errs.push(notSupported(fldPath.child('diskURI'), uri, ['https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd']));
  }
  return errs;
}

function validateProjected(src: Obj, fldPath: Path): ErrorList {
  const errs = validateMode(src['defaultMode'], fldPath.child('defaultMode'));
  const allPaths = new Set<string>();
  const notePath = (p: string, badValue: string, checkEmpty = false): void => {
    if (p === '' && !checkEmpty) return;
    if (allPaths.has(p)) errs.push(invalid(fldPath, badValue, 'conflicting duplicate paths'));
    allPaths.add(p);
  };
  objList(src['sources']).forEach((source, i) => {
    let numSources = 0;
    const srcPath = fldPath.child('sources').index(i);
    for (const kind of ['secret', 'configMap'] as const) {
      const s = objAt(source, kind);
      if (!s) continue;
      numSources++;
      const projPath = srcPath.child(kind);
      if (str(s['name']) === '') errs.push(required(projPath.child('name'), ''));
      objList(s['items']).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, projPath.child('items').index(j)));
        notePath(str(kp['path']), str(s['name']));
      });
    }
    const dapi = objAt(source, 'downwardAPI');
    if (dapi) {
      numSources++;
      for (const file of objList(dapi['items'])) {
        errs.push(...validateDownwardAPIVolumeFile(file, srcPath.child('downwardAPI')));
        notePath(str(file['path']), str(file['path']));
      }
    }
    const sat = objAt(source, 'serviceAccountToken');
    if (sat) {
      numSources++;
      const projPath = srcPath.child('serviceAccountToken');
      const exp = num(sat['expirationSeconds']);
      if (exp < 600) errs.push(invalid(projPath.child('expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'));
      if (exp > 2 ** 32) errs.push(invalid(projPath.child('expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'));
      if (str(sat['path']) === '') errs.push(required(fldPath.child('path'), ''));
      else errs.push(...validateLocalNonReservedPath(str(sat['path']), fldPath.child('path')));
    }
    const ctb = objAt(source, 'clusterTrustBundle');
    if (ctb) {
      numSources++;
      const projPath = srcPath.child('clusterTrustBundle');
      if (!isSet(ctb['name']) && !isSet(ctb['signerName'])) errs.push(required(projPath, 'either name or signerName must be specified'));
      if (str(ctb['path']) === '') errs.push(required(projPath.child('path'), ''));
      errs.push(...validateLocalNonReservedPath(str(ctb['path']), projPath.child('path')));
      notePath(str(ctb['path']), str(ctb['path']), true);
    }
    if (numSources > 1) errs.push(forbidden(srcPath, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

/** validateDownwardAPIVolumeFile (errors are reported on the source's path, as upstream). */
export function validateDownwardAPIVolumeFile(file: Obj, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const p = str(file['path']);
  if (p === '') errs.push(required(fldPath.child('path'), ''));
  errs.push(...validateLocalNonReservedPath(p, fldPath.child('path')));
  const fieldRef = objAt(file, 'fieldRef');
  const resourceRef = objAt(file, 'resourceFieldRef');
  if (fieldRef) {
    errs.push(...validateObjectFieldSelector(fieldRef, 'volume', fldPath.child('fieldRef')));
    if (resourceRef) errs.push(invalid(fldPath, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (resourceRef) {
    errs.push(...validateResourceFieldSelector(resourceRef, fldPath.child('resourceFieldRef'), true));
  } else {
    errs.push(required(fldPath, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateMode(file['mode'], fldPath.child('mode')));
  return errs;
}

type SourceValidator = (src: Obj, fldPath: Path, ctx: VolumeContext, volName: string) => ErrorList;

interface SourceRule {
  /** JSON field of the source. */
  readonly key: string;
  /** Field named by "may not specify more than 1 volume type" (upstream spells a few differently). */
  readonly forbiddenName?: string;
  /** Field the source's own errors hang under, when upstream uses another name. */
  readonly childName?: string;
  readonly validate: SourceValidator;
}

function secretOrConfigMap(nameField: string): SourceValidator {
  return (src, p) => [
    ...requireFields(src, p, nameField),
    ...validateMode(src['defaultMode'], p.child('defaultMode')),
    ...objList(src['items']).flatMap((kp, i) => validateKeyToPath(kp, p.child('items').index(i))),
  ];
}

/** The pod volume sources in upstream's order. */
const POD_SOURCES: readonly SourceRule[] = [
  {
    key: 'emptyDir',
    validate: (src, p) => {
      const q = quantityOf(src['sizeLimit']);
      return q !== null && q.unscaled < 0n ? [forbidden(p.child('sizeLimit'), 'SizeLimit field must be a valid resource quantity')] : [];
    },
  },
  { key: 'hostPath', validate: (src, p) => validateHostPath(src, p) },
  {
    key: 'gitRepo',
    validate: (src, p) => [...requireFields(src, p, 'repository'), ...validateLocalDescendingPath(str(src['directory']), p.child('directory'))],
  },
  { key: 'gcePersistentDisk', childName: 'persistentDisk', validate: (src, p) => [...requireFields(src, p, 'pdName'), ...validatePartition(src, p)] },
  { key: 'awsElasticBlockStore', validate: (src, p) => [...requireFields(src, p, 'volumeID'), ...validatePartition(src, p)] },
  { key: 'secret', validate: secretOrConfigMap('secretName') },
  { key: 'nfs', validate: (src, p) => validateNFS(src, p) },
  {
    key: 'iscsi',
    validate: (src, p, _ctx, volName) => {
      const errs = validateISCSI(src, p, false);
      if (isSet(src['initiatorName']) && utf8Length(`${volName}:${str(src['targetPortal'])}`) > 64) {
        errs.push(invalid(p.child('name'), volName, 'Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.'));
      }
      return errs;
    },
  },
  { key: 'glusterfs', validate: (src, p) => requireFields(src, p, 'endpoints', 'path') },
  { key: 'flocker', validate: (src, p) => validateFlocker(src, p) },
  { key: 'persistentVolumeClaim', validate: (src, p) => requireFields(src, p, 'claimName') },
  { key: 'rbd', validate: (src, p) => requireFields(src, p, 'monitors', 'image') },
  {
    key: 'cinder',
    validate: (src, p) => {
      const errs = requireFields(src, p, 'volumeID');
      const ref = objAt(src, 'secretRef');
      if (ref && str(ref['name']) === '') errs.push(required(p.child('secretRef', 'name'), ''));
      return errs;
    },
  },
  { key: 'cephfs', forbiddenName: 'cephFS', validate: (src, p) => requireFields(src, p, 'monitors') },
  { key: 'quobyte', validate: (src, p) => requireFields(src, p, 'registry', 'volume') },
  {
    key: 'downwardAPI',
    forbiddenName: 'downwarAPI',
    validate: (src, p) => [
      ...validateMode(src['defaultMode'], p.child('defaultMode')),
      ...objList(src['items']).flatMap((f) => validateDownwardAPIVolumeFile(f, p)),
    ],
  },
  { key: 'fc', validate: (src, p) => validateFC(src, p) },
  { key: 'flexVolume', validate: (src, p) => validateFlexOptions(src, p) },
  { key: 'configMap', validate: secretOrConfigMap('name') },
  { key: 'azureFile', validate: (src, p) => requireFields(src, p, 'secretName', 'shareName') },
  { key: 'vsphereVolume', validate: (src, p) => requireFields(src, p, 'volumePath') },
  { key: 'photonPersistentDisk', validate: (src, p) => requireFields(src, p, 'pdID') },
  { key: 'portworxVolume', validate: (src, p) => requireFields(src, p, 'volumeID') },
  { key: 'azureDisk', validate: (src, p) => validateAzureDisk(src, p) },
  { key: 'storageos', validate: (src, p) => validateStorageOS(src, p) },
  { key: 'projected', validate: (src, p) => validateProjected(src, p) },
  { key: 'scaleIO', validate: (src, p) => requireFields(src, p, 'gateway', 'system', 'volumeName') },
  {
    key: 'csi',
    validate: (src, p) => {
      const errs = validateCSIDriverName(str(src['driver']), p.child('driver'));
      const ref = objAt(src, 'nodePublishSecretRef');
      if (ref) {
        const name = str(ref['name']);
        if (name === '') errs.push(required(p.child('nodePublishSecretRef', 'name'), ''));
        else for (const msg of nameIsDNSSubdomain(name, false)) errs.push(invalid(p.child('name'), name, msg));
      }
      return errs;
    },
  },
  {
    key: 'ephemeral',
    validate: (src, p, ctx, volName) => {
      const errs: ErrorList = [];
      if (!isSet(src['volumeClaimTemplate'])) errs.push(required(p.child('volumeClaimTemplate'), ''));
      else errs.push(...validatePersistentVolumeClaimTemplate(src['volumeClaimTemplate'], p.child('volumeClaimTemplate')));
      if (ctx.podName !== '' && volName !== '') {
        const pvcName = `${ctx.podName}-${volName}`;
        for (const msg of nameIsDNSSubdomain(pvcName, false)) errs.push(invalid(p.child('name'), volName, `PVC name "${pvcName}": ${msg}`));
      }
      return errs;
    },
  },
  {
    key: 'image',
    validate: (src, p, ctx) => {
      const errs: ErrorList = [];
      if (ctx.resourceIsPod && str(src['reference']) === '') errs.push(required(p.child('reference'), ''));
      errs.push(...validatePullPolicy(str(src['pullPolicy']), p.child('pullPolicy')));
      return errs;
    },
  },
];

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

/** validatePullPolicy. */
export function validatePullPolicy(policy: string, fldPath: Path): ErrorList {
  if (PULL_POLICIES.includes(policy)) return [];
  if (policy === '') return [required(fldPath, '')];
  return [notSupported(fldPath, policy, PULL_POLICIES)];
}

function validateVolumeSource(vol: Obj, fldPath: Path, ctx: VolumeContext, volName: string): ErrorList {
  const errs: ErrorList = [];
  let numVolumes = 0;
  for (const rule of POD_SOURCES) {
    const src = vol[rule.key];
    if (!isSet(src)) continue;
    if (numVolumes > 0) {
      errs.push(forbidden(fldPath.child(rule.forbiddenName ?? rule.key), 'may not specify more than 1 volume type'));
      continue;
    }
    numVolumes++;
    errs.push(...rule.validate(objOr(src), fldPath.child(rule.childName ?? rule.key), ctx, volName));
  }
  if (numVolumes === 0) errs.push(required(fldPath, 'must specify a volume type'));
  return errs;
}

/** ValidateVolumes: returns the valid volumes by name (for mount checks) and the errors. */
export function validateVolumes(volumes: unknown, fldPath: Path, ctx: VolumeContext): { vols: Map<string, Obj>; errs: ErrorList } {
  const errs: ErrorList = [];
  const vols = new Map<string, Obj>();
  const created = new Set<string>();
  const seen = new Set<string>();
  const items = objList(volumes);
  if (ctx.podName !== '') for (const v of items) if (isSet(v['ephemeral'])) created.add(`${ctx.podName}-${str(v['name'])}`);
  items.forEach((vol, i) => {
    const idxPath = fldPath.index(i);
    const name = str(vol['name']);
    const el = validateVolumeSource(vol, idxPath, ctx, name);
    if (name === '') el.push(required(idxPath.child('name'), ''));
    else for (const msg of isDNS1123Label(name)) el.push(invalid(idxPath.child('name'), name, msg));
    if (seen.has(name)) el.push(duplicate(idxPath.child('name'), name));
    if (el.length === 0) {
      seen.add(name);
      vols.set(name, vol);
    }
    else errs.push(...el);
    const claim = str(objAt(vol, 'persistentVolumeClaim')?.['claimName']);
    if (isSet(vol['persistentVolumeClaim']) && created.has(claim)) {
      errs.push(invalid(idxPath.child('persistentVolumeClaim', 'claimName'), claim, 'must not reference a PVC that gets created for an ephemeral volume'));
    }
  });
  return { vols, errs };
}

/** validateConfigMapKey-style checks used by env key selectors. */
export function configMapKeyErrors(key: string, fldPath: Path): ErrorList {
  if (key === '') return [required(fldPath, '')];
  return isConfigMapKey(key).map((msg) => invalid(fldPath, key, msg));
}
