// Defaults of core/v1 volume sources, persistent volume sources and claim specs, shared by pods,
// every pod template, PersistentVolumes, PersistentVolumeClaims, StatefulSet claim templates and
// VolumeAttachments' inline specs.

import { child, defaultNil, defaultZero, eachIn, ensure, isNil, type JsonObject } from './json.ts';
import { roundResourceList } from './resource_list.ts';

/** Mode bits (0644) upstream gives secret, configMap, downwardAPI and projected volumes. */
export const DEFAULT_VOLUME_MODE = 0o644;

/** Every volume source field of core/v1 Volume (all of its properties but name). */
export const VOLUME_SOURCE_FIELDS: readonly string[] = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'configMap', 'csi', 'downwardAPI',
  'emptyDir', 'ephemeral', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk', 'gitRepo', 'glusterfs',
  'hostPath', 'image', 'iscsi', 'nfs', 'persistentVolumeClaim', 'photonPersistentDisk', 'portworxVolume',
  'projected', 'quobyte', 'rbd', 'scaleIO', 'secret', 'storageos', 'vsphereVolume',
];

/** env[].valueFrom.fieldRef and downwardAPI items: the field path is read against apiVersion v1. */
export function defaultObjectFieldSelector(fieldRef: JsonObject | undefined): void {
  if (fieldRef !== undefined) defaultZero(fieldRef, 'apiVersion', 'v1');
}

function defaultDownwardAPIItems(source: JsonObject | undefined): void {
  eachIn(source, 'items', (item) => defaultObjectFieldSelector(child(item, 'fieldRef')));
}

// The sources a PersistentVolume and a pod volume share default the same way.
function defaultSharedSources(holder: JsonObject): void {
  const hostPath = child(holder, 'hostPath');
  if (hostPath) defaultNil(hostPath, 'type', '');
  const iscsi = child(holder, 'iscsi');
  if (iscsi) defaultZero(iscsi, 'iscsiInterface', 'default');
  const rbd = child(holder, 'rbd');
  if (rbd) {
    defaultZero(rbd, 'pool', 'rbd');
    defaultZero(rbd, 'user', 'admin');
    defaultZero(rbd, 'keyring', '/etc/ceph/keyring');
  }
  const azureDisk = child(holder, 'azureDisk');
  if (azureDisk) {
    defaultNil(azureDisk, 'cachingMode', 'ReadWrite');
    defaultNil(azureDisk, 'fsType', 'ext4');
    defaultNil(azureDisk, 'readOnly', false);
    defaultNil(azureDisk, 'kind', 'Shared');
  }
  const scaleIO = child(holder, 'scaleIO');
  if (scaleIO) {
    defaultZero(scaleIO, 'storageMode', 'ThinProvisioned');
    defaultZero(scaleIO, 'fsType', 'xfs');
  }
}

/** A pod volume: emptyDir when it names no source, then the defaults of its source. */
export function defaultVolume(volume: JsonObject): void {
  if (VOLUME_SOURCE_FIELDS.every((f) => isNil(volume[f]))) volume['emptyDir'] = {};
  defaultSharedSources(volume);
  for (const key of ['secret', 'configMap'] as const) {
    const source = child(volume, key);
    if (source) defaultNil(source, 'defaultMode', DEFAULT_VOLUME_MODE);
  }
  const downwardAPI = child(volume, 'downwardAPI');
  if (downwardAPI) {
    defaultNil(downwardAPI, 'defaultMode', DEFAULT_VOLUME_MODE);
    defaultDownwardAPIItems(downwardAPI);
  }
  const projected = child(volume, 'projected');
  if (projected) {
    defaultNil(projected, 'defaultMode', DEFAULT_VOLUME_MODE);
    eachIn(projected, 'sources', (source) => {
      defaultDownwardAPIItems(child(source, 'downwardAPI'));
      const token = child(source, 'serviceAccountToken');
      if (token) defaultNil(token, 'expirationSeconds', 3600);
    });
  }
  const claimSpec = child(child(child(volume, 'ephemeral'), 'volumeClaimTemplate'), 'spec');
  if (claimSpec) defaultPersistentVolumeClaimSpec(claimSpec);
}

/** A PersistentVolumeClaimSpec wherever it appears: Filesystem mode, rounded resources. */
export function defaultPersistentVolumeClaimSpec(spec: JsonObject): void {
  defaultNil(spec, 'volumeMode', 'Filesystem');
  const resources = child(spec, 'resources');
  roundResourceList(resources?.['limits']);
  roundResourceList(resources?.['requests']);
}

/** A whole PersistentVolumeClaim object (also a StatefulSet's volumeClaimTemplates entries). */
export function defaultPersistentVolumeClaim(pvc: JsonObject): void {
  const status = ensure(pvc, 'status');
  if (status) defaultZero(status, 'phase', 'Pending');
  const spec = ensure(pvc, 'spec');
  if (spec) defaultPersistentVolumeClaimSpec(spec);
  roundResourceList(status?.['capacity']);
  roundResourceList(status?.['allocatedResources']);
}

/** A PersistentVolumeSpec (a PV's spec, or a VolumeAttachment's inlineVolumeSpec). */
export function defaultPersistentVolumeSpec(spec: JsonObject): void {
  roundResourceList(spec['capacity']);
  defaultSharedSources(spec);
}

/** A whole PersistentVolume object. */
export function defaultPersistentVolume(pv: JsonObject): void {
  const status = ensure(pv, 'status');
  if (status) defaultZero(status, 'phase', 'Pending');
  const spec = ensure(pv, 'spec');
  if (spec) {
    defaultZero(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    defaultNil(spec, 'volumeMode', 'Filesystem');
    defaultPersistentVolumeSpec(spec);
  }
}
