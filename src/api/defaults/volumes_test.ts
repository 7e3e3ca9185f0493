// Checks the volume source list against the vendored OpenAPI document, and claim/PV defaults.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { VOLUME_SOURCE_FIELDS, defaultVolume } from './volumes.ts';

const specPath = new URL('../openapi/kubernetes-v1.32-openapi-v2.json', import.meta.url);

describe('volumes', () => {
  test('the volume source list is every property of core/v1 Volume but name', () => {
    const spec = JSON.parse(readFileSync(specPath, 'utf8')) as { definitions: Record<string, { properties: Record<string, unknown> }> };
    const volume = spec.definitions['io.k8s.api.core.v1.Volume'];
    assert.ok(volume);
    const fromSpec = Object.keys(volume.properties).filter((k) => k !== 'name').sort();
    assert.deepEqual([...VOLUME_SOURCE_FIELDS].sort(), fromSpec);
  });

  test('a volume naming any source gets no emptyDir', () => {
    const v: Record<string, unknown> = { name: 'n', nfs: { server: 's', path: '/' } };
    defaultVolume(v);
    assert.deepEqual(v, { name: 'n', nfs: { server: 's', path: '/' } });
  });

  test('legacy sources get their declarative defaults', () => {
    const v: Record<string, unknown> = {
      name: 'n',
      iscsi: { targetPortal: 't', iqn: 'i', lun: 0 },
      azureDisk: { diskName: 'd', diskURI: 'u' },
      scaleIO: { gateway: 'g', system: 's', secretRef: { name: 'x' } },
    };
    defaultVolume(v);
    assert.deepEqual(v, {
      name: 'n',
      iscsi: { targetPortal: 't', iqn: 'i', lun: 0, iscsiInterface: 'default' },
      azureDisk: { diskName: 'd', diskURI: 'u', cachingMode: 'ReadWrite', fsType: 'ext4', readOnly: false, kind: 'Shared' },
      scaleIO: { gateway: 'g', system: 's', secretRef: { name: 'x' }, storageMode: 'ThinProvisioned', fsType: 'xfs' },
    });
  });
});
