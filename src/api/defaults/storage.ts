// Defaulters of the storage.k8s.io/v1 kinds (upstream pkg/apis/storage/v1 defaults, feature gates
// at v1.32 defaults: SELinuxMountReadWriteOncePod on).

import { at, fieldDefaults, type Defaulter } from './json.ts';
import { defaultPersistentVolumeSpec } from './volumes.ts';

/** storage.k8s.io/v1 kinds with defaults. */
export const storageV1Defaulters: Readonly<Record<string, Defaulter>> = {
  StorageClass: fieldDefaults([
    { path: 'reclaimPolicy', value: 'Delete' },
    { path: 'volumeBindingMode', value: 'Immediate' },
  ]),
  CSIDriver: fieldDefaults([
    { path: 'spec.attachRequired', value: true },
    { path: 'spec.podInfoOnMount', value: false },
    { path: 'spec.storageCapacity', value: false },
    { path: 'spec.fsGroupPolicy', value: 'ReadWriteOnceWithFSType' },
    { path: 'spec.volumeLifecycleModes', value: ['Persistent'], when: 'empty' },
    { path: 'spec.requiresRepublish', value: false },
    { path: 'spec.seLinuxMount', value: false },
  ]),
  VolumeAttachment: (va) => {
    const inline = at(va, 'spec.source.inlineVolumeSpec');
    if (inline) defaultPersistentVolumeSpec(inline);
  },
};
