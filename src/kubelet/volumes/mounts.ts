// A container's volumeMounts as CRI mounts (upstream's makeMounts): the volume's host path, or a
// subPath / subPathExpr inside it (created when missing, refused when it escapes the volume), with
// read-only and mount propagation. Failures become CreateContainerConfigError.
import { chmodSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod, VolumeMount } from '../../api/types/core_v1.ts';
import type { Mount, MountPropagation } from '../cri/messages.ts';
import { expand, type EnvPair } from '../env.ts';
import type { MountedVolume } from './types.ts';

/** subPathExpr with $(VAR) from the container's environment (ExpandContainerVolumeMounts). */
export function expandSubPathExpr(mount: VolumeMount, env: readonly EnvPair[]): string {
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const missing = new Set<string>();
  const out = expand(mount.subPathExpr ?? '', (name) => {
    const v = vars.get(name);
    if (v === undefined || v === '') missing.add(name);
    return v ?? '';
  });
  if (missing.size > 0) throw new Error(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** The host path of a subPath inside a volume, created if missing, resolved so it cannot escape. */
export function prepareSubPath(volumePath: string, subPath: string, mountName: string, containerName: string): string {
  if (subPath.startsWith('/')) throw new Error(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..')) throw new Error(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  const hostPath = join(volumePath, subPath);
  let exists = true;
  try {
    statSync(hostPath);
  } catch {
    exists = false;
  }
  let root: string;
  try {
    root = realpathSync(volumePath);
  } catch {
    throw new Error(`failed to prepare subPath for volumeMount ${JSON.stringify(mountName)} of container ${JSON.stringify(containerName)}`);
  }
  if (!exists) {
    // created now with the volume's own mode, so the pod's user can use it as it could the volume
    try {
      const mode = statSync(volumePath).mode & 0o7777;
      const parts = subPath.split('/').filter((p) => p !== '' && p !== '.');
      let cur = root;
      for (const p of parts) {
        cur = join(cur, p);
        try {
          mkdirSync(cur, { mode });
          chmodSync(cur, mode);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        // a link planted on the way must not lead outside the volume
        if (!isInside(realpathSync(cur), root)) throw new Error('escapes the volume');
      }
    } catch {
      throw new Error(`failed to create subPath directory for volumeMount ${JSON.stringify(mountName)} of container ${JSON.stringify(containerName)}`);
    }
  }
  let resolved: string;
  try {
    resolved = realpathSync(hostPath);
  } catch {
    throw new Error(`failed to prepare subPath for volumeMount ${JSON.stringify(mountName)} of container ${JSON.stringify(containerName)}`);
  }
  if (!isInside(resolved, root)) {
    throw new Error(`failed to prepare subPath for volumeMount ${JSON.stringify(mountName)} of container ${JSON.stringify(containerName)}`);
  }
  return resolved;
}

function propagation(p: string | undefined): MountPropagation {
  if (p === 'HostToContainer') return 'PROPAGATION_HOST_TO_CONTAINER';
  if (p === 'Bidirectional') return 'PROPAGATION_BIDIRECTIONAL';
  return 'PROPAGATION_PRIVATE';
}

/** The CRI mounts of a container's volumeMounts. */
export function makeMounts(_pod: Pod, container: Container, volumes: ReadonlyMap<string, MountedVolume>, env: readonly EnvPair[]): Mount[] {
  const out: Mount[] = [];
  for (const m of container.volumeMounts ?? []) {
    const vol = volumes.get(m.name);
    if (!vol) throw new Error(`cannot find volume ${JSON.stringify(m.name)} to mount into container ${JSON.stringify(container.name)}`);
    let subPath = m.subPath ?? '';
    if (m.subPathExpr) subPath = expandSubPathExpr(m, env);
    let hostPath = vol.hostPath;
    if (subPath !== '') hostPath = prepareSubPath(vol.hostPath, subPath, m.name, container.name);
    if (m.recursiveReadOnly === 'Enabled') {
      throw new Error(`volume ${JSON.stringify(m.name)} requested recursive read-only mode, but it is not supported by the runtime`);
    }
    out.push({
      containerPath: m.mountPath,
      hostPath,
      readonly: m.readOnly === true || vol.readOnly,
      selinuxRelabel: false,
      propagation: propagation(m.mountPropagation),
    });
  }
  return out;
}
