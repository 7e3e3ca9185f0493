// Printers for storage objects: persistent volumes and claims, storage classes, volume attributes
// classes, CSI drivers and nodes, volume attachments. (CSIStorageCapacities use the default
// printer: upstream registers the default table convertor for them.)
import type { Printer } from './table.ts';
import { accessModes, age, ageColumn, col, isDeleting, list, nameColumn, quantity, type KObject } from './format.ts';

/** The storage class annotation that takes precedence over spec.storageClassName. */
const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

interface PersistentVolume extends KObject {
  spec?: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    persistentVolumeReclaimPolicy?: string;
    claimRef?: { namespace?: string; name?: string } | null;
    storageClassName?: string;
    volumeAttributesClassName?: string | null;
    volumeMode?: string | null;
  };
  status?: { phase?: string; reason?: string };
}

/** persistentvolumes: NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE (+ VOLUMEMODE). */
export const persistentVolumePrinter: Printer = {
  columns: [
    nameColumn(),
    col('Capacity', 'string', 'The storage capacity of the volume.'),
    col('Access Modes', 'string', 'How the volume can be mounted.'),
    col('Reclaim Policy', 'string', 'What happens to the volume when its claim goes.'),
    col('Status', 'string', 'The phase of the volume.'),
    col('Claim', 'string', 'The claim bound to the volume, as namespace/name.'),
    col('StorageClass', 'string', 'The storage class of the volume.'),
    col('VolumeAttributesClass', 'string', 'The volume attributes class of the volume.'),
    col('Reason', 'string', 'Why the volume is in its phase.'),
    ageColumn(),
    col('VolumeMode', 'string', 'Filesystem or Block.', 1),
  ],
  row: (obj, ctx) => {
    const pv = obj as PersistentVolume;
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const annotations = pv.metadata?.annotations ?? {};
    const storageClass = BETA_STORAGE_CLASS in annotations ? annotations[BETA_STORAGE_CLASS] : (spec.storageClassName ?? '');
    return {
      cells: [
        pv.metadata?.name ?? '',
        quantity(spec.capacity?.storage),
        accessModes(spec.accessModes),
        spec.persistentVolumeReclaimPolicy ?? '',
        isDeleting(pv) ? 'Terminating' : (pv.status?.phase ?? ''),
        claim,
        storageClass,
        spec.volumeAttributesClassName ?? '<unset>',
        pv.status?.reason ?? '',
        age(pv, ctx),
        spec.volumeMode ?? '<unset>',
      ],
    };
  },
};

interface PersistentVolumeClaim extends KObject {
  spec?: { volumeName?: string; storageClassName?: string | null; volumeAttributesClassName?: string | null; volumeMode?: string | null };
  status?: { phase?: string; accessModes?: string[]; capacity?: Record<string, string> };
}

/** persistentvolumeclaims: NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE (+ VOLUMEMODE). */
export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Status', 'string', 'The phase of the claim.'),
    col('Volume', 'string', 'The volume bound to the claim.'),
    col('Capacity', 'string', 'The capacity of the bound volume.'),
    col('Access Modes', 'string', 'How the bound volume can be mounted.'),
    col('StorageClass', 'string', 'The storage class of the claim.'),
    col('VolumeAttributesClass', 'string', 'The volume attributes class of the claim.'),
    ageColumn(),
    col('VolumeMode', 'string', 'Filesystem or Block.', 1),
  ],
  row: (obj, ctx) => {
    const pvc = obj as PersistentVolumeClaim;
    const spec = pvc.spec ?? {};
    const annotations = pvc.metadata?.annotations ?? {};
    const storageClass = BETA_STORAGE_CLASS in annotations ? annotations[BETA_STORAGE_CLASS] : (spec.storageClassName ?? '');
    // Capacity and access modes are the bound volume's, so they stay empty until binding.
    const bound = (spec.volumeName ?? '') !== '';
    return {
      cells: [
        pvc.metadata?.name ?? '',
        isDeleting(pvc) ? 'Terminating' : (pvc.status?.phase ?? ''),
        spec.volumeName ?? '',
        bound ? quantity(pvc.status?.capacity?.storage) : '',
        bound ? accessModes(pvc.status?.accessModes) : '',
        storageClass,
        spec.volumeAttributesClassName ?? '<unset>',
        age(pvc, ctx),
        spec.volumeMode ?? '<unset>',
      ],
    };
  },
};

const DEFAULT_CLASS_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

interface StorageClass extends KObject {
  provisioner?: string;
  reclaimPolicy?: string | null;
  volumeBindingMode?: string | null;
  allowVolumeExpansion?: boolean | null;
}

/** storageclasses: NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE; "(default)" marks the default. */
export const storageClassPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Provisioner', 'string', 'The provisioner that creates volumes of this class.'),
    col('ReclaimPolicy', 'string', 'The reclaim policy of volumes of this class.'),
    col('VolumeBindingMode', 'string', 'When claims of this class are bound.'),
    col('AllowVolumeExpansion', 'string', 'Whether volumes of this class can grow.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const sc = obj as StorageClass;
    const annotations = sc.metadata?.annotations ?? {};
    const isDefault = DEFAULT_CLASS_ANNOTATIONS.some((a) => annotations[a] === 'true');
    return {
      cells: [
        `${sc.metadata?.name ?? ''}${isDefault ? ' (default)' : ''}`,
        sc.provisioner ?? '',
        sc.reclaimPolicy ?? 'Delete',
        sc.volumeBindingMode ?? 'Immediate',
        sc.allowVolumeExpansion === true,
        age(sc, ctx),
      ],
    };
  },
};

interface VolumeAttributesClass extends KObject {
  driverName?: string;
}

/** volumeattributesclasses: NAME DRIVERNAME AGE; "(default)" marks the default. */
export const volumeAttributesClassPrinter: Printer = {
  columns: [nameColumn(), col('DriverName', 'string', 'The CSI driver of the class.'), ageColumn()],
  row: (obj, ctx) => {
    const vac = obj as VolumeAttributesClass;
    const isDefault = vac.metadata?.annotations?.['volumeattributesclass.alpha.kubernetes.io/is-default-class'] === 'true';
    return { cells: [`${vac.metadata?.name ?? ''}${isDefault ? ' (default)' : ''}`, vac.driverName ?? '', age(vac, ctx)] };
  },
};

interface CSIDriver extends KObject {
  spec?: {
    attachRequired?: boolean | null;
    podInfoOnMount?: boolean | null;
    storageCapacity?: boolean | null;
    tokenRequests?: { audience?: string }[] | null;
    requiresRepublish?: boolean | null;
    volumeLifecycleModes?: string[];
  };
}

/** csidrivers: NAME ATTACHREQUIRED PODINFOONMOUNT STORAGECAPACITY TOKENREQUESTS REQUIRESREPUBLISH MODES AGE. */
export const csiDriverPrinter: Printer = {
  columns: [
    nameColumn(),
    col('AttachRequired', 'boolean', 'Whether volumes need an attach step.'),
    col('PodInfoOnMount', 'boolean', 'Whether the driver gets pod information on mount.'),
    col('StorageCapacity', 'boolean', 'Whether the scheduler considers storage capacity.'),
    col('TokenRequests', 'string', 'Audiences of the service account tokens passed to the driver.'),
    col('RequiresRepublish', 'boolean', 'Whether volumes are republished periodically.'),
    col('Modes', 'string', 'Volume lifecycle modes the driver supports.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const d = obj as CSIDriver;
    const spec = d.spec ?? {};
    const modes = list(spec.volumeLifecycleModes).join(',');
    const tokens = spec.tokenRequests;
    return {
      cells: [
        d.metadata?.name ?? '',
        spec.attachRequired ?? true,
        spec.podInfoOnMount ?? false,
        spec.storageCapacity ?? false,
        tokens === undefined || tokens === null ? '<unset>' : list(tokens).map((t) => t.audience ?? '').join(','),
        spec.requiresRepublish ?? false,
        modes === '' ? '<none>' : modes,
        age(d, ctx),
      ],
    };
  },
};

interface CSINode extends KObject {
  spec?: { drivers?: unknown[] };
}

/** csinodes: NAME DRIVERS AGE. */
export const csiNodePrinter: Printer = {
  columns: [nameColumn(), col('Drivers', 'integer', 'Number of CSI drivers registered on the node.'), ageColumn()],
  row: (obj, ctx) => ({ cells: [obj.metadata?.name ?? '', list((obj as CSINode).spec?.drivers).length, age(obj, ctx)] }),
};

interface VolumeAttachment extends KObject {
  spec?: { attacher?: string; nodeName?: string; source?: { persistentVolumeName?: string | null } };
  status?: { attached?: boolean };
}

/** volumeattachments: NAME ATTACHER PV NODE ATTACHED AGE. */
export const volumeAttachmentPrinter: Printer = {
  columns: [
    nameColumn(),
    // Upstream marks this column with the "name" format too.
    { ...col('Attacher', 'string', 'The volume plugin that attaches the volume.'), format: 'name' },
    col('PV', 'string', 'The persistent volume being attached.'),
    col('Node', 'string', 'The node the volume is attached to.'),
    col('Attached', 'boolean', 'Whether the attach operation succeeded.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const va = obj as VolumeAttachment;
    return {
      cells: [
        va.metadata?.name ?? '',
        va.spec?.attacher ?? '',
        va.spec?.source?.persistentVolumeName ?? '',
        va.spec?.nodeName ?? '',
        va.status?.attached === true,
        age(va, ctx),
      ],
    };
  },
};
