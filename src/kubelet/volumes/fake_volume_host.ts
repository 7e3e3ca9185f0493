// Test doubles for the volume plugins' tests: a mounter that records instead of mounting, in-memory
// API objects, and a VolumeHost built from them. Imported by tests only.
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume } from '../../api/types/core_v1.ts';
import { FakeClock, type Clock } from '../../client/clock.ts';
import type { Mounter, TokenIssuerCache, TokenRequestSpec, VolumeHost, VolumeObjectSource } from './types.ts';

/** Records tmpfs mounts and unmounts; mountPointsUnder answers from what it recorded. */
export class FakeMounter implements Mounter {
  readonly calls: string[] = [];
  readonly mounted = new Set<string>();

  async mountTmpfs(dir: string, sizeBytes: number | undefined): Promise<void> {
    this.calls.push(`tmpfs ${dir} ${sizeBytes ?? '-'}`);
    this.mounted.add(dir);
  }

  async unmount(dir: string): Promise<void> {
    this.calls.push(`umount ${dir}`);
    this.mounted.delete(dir);
  }

  mountPointsUnder(dir: string): string[] {
    return [...this.mounted].filter((m) => m === dir || m.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  }
}

/** API objects held in maps, keyed "namespace/name" (PVs by name). */
export class FakeObjects implements VolumeObjectSource {
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  readonly claims = new Map<string, PersistentVolumeClaim>();
  readonly volumes = new Map<string, PersistentVolume>();
  gets = 0;

  async configMap(ns: string, name: string): Promise<ConfigMap | undefined> {
    this.gets++;
    return structuredClone(this.configMaps.get(`${ns}/${name}`));
  }

  async secret(ns: string, name: string): Promise<Secret | undefined> {
    this.gets++;
    return structuredClone(this.secrets.get(`${ns}/${name}`));
  }

  async persistentVolumeClaim(ns: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return structuredClone(this.claims.get(`${ns}/${name}`));
  }

  async persistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return structuredClone(this.volumes.get(name));
  }
}

/** Tokens "token-<n>" for every request, recording the requests. */
export class FakeTokens implements TokenIssuerCache {
  readonly requests: TokenRequestSpec[] = [];

  async get(spec: TokenRequestSpec): Promise<string> {
    this.requests.push(spec);
    return `token-${this.requests.length}`;
  }
}

/** A test pod: ns/p with UID u unless overridden. */
export function testPod(over: Partial<Pod> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] }, ...over };
}

/** A VolumeHost for one volume, with fakes for whatever is not given. */
export function fakeHost(o: { dir: string; volume: Volume; pod?: Pod; objects?: VolumeObjectSource; tokens?: TokenIssuerCache; mounter?: Mounter; clock?: Clock }): VolumeHost {
  return {
    pod: o.pod ?? testPod(), volume: o.volume, dir: o.dir,
    objects: o.objects ?? new FakeObjects(), tokens: o.tokens ?? new FakeTokens(),
    mounter: o.mounter ?? new FakeMounter(), clock: o.clock ?? new FakeClock(Date.UTC(2024, 0, 1)),
    allocatableMemory: 4 * 1024 ** 3, nodeAllocatable: { cpu: '2', memory: '4Gi' },
  };
}
