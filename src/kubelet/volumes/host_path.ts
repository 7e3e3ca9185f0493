// The hostPath plugin: a path on the node, bind-mounted as it is. Its `type` is checked first as
// upstream checks it (DirectoryOrCreate and FileOrCreate create what is missing), with upstream's
// messages. HostPath PersistentVolumes go through the same checks.
import { closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import type { Volume } from '../../api/types/core_v1.ts';
import type { MountedVolume, VolumeHost, VolumePlugin } from './types.ts';
import { VolumeError } from './types.ts';

/** The file type names upstream's GetFileType reports. */
function fileType(st: Stats): string {
  if (st.isDirectory()) return 'Directory';
  if (st.isSocket()) return 'Socket';
  if (st.isCharacterDevice()) return 'CharDevice';
  if (st.isBlockDevice()) return 'BlockDevice';
  if (st.isFile()) return 'File';
  return 'Unknown';
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function typeMatchedOrError(path: string, expected: string, description: string): void {
  const st = statOrUndefined(path);
  if (!st) throw new VolumeError(`hostPath ${path} doesn't exist`);
  const got = fileType(st);
  if (got !== expected) throw new VolumeError(`hostPath type check failed: ${path} is not a ${description}, it's a ${got}`);
}

/** Checks (and for the *OrCreate types makes) the path as its type says (checkType). */
export function checkHostPathType(path: string, type: string | undefined): void {
  if (path.split('/').includes('..')) throw new VolumeError(`invalid HostPath \`${path}\`: must not contain '..'`);
  switch (type ?? '') {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!statOrUndefined(path)) {
        mkdirSync(path, { recursive: true, mode: 0o755 });
        return;
      }
      return typeMatchedOrError(path, 'Directory', 'directory');
    case 'Directory':
      return typeMatchedOrError(path, 'Directory', 'directory');
    case 'FileOrCreate':
      if (!statOrUndefined(path)) {
        // like os.OpenFile(O_CREATE, 0644): the parent must exist
        try {
          closeSync(openSync(path, 'a', 0o644));
        } catch (err) {
          throw new VolumeError(`open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
        }
        return;
      }
      return typeMatchedOrError(path, 'File', 'file');
    case 'File':
      return typeMatchedOrError(path, 'File', 'file');
    case 'Socket':
      return typeMatchedOrError(path, 'Socket', 'socket file');
    case 'CharDevice':
      return typeMatchedOrError(path, 'CharDevice', 'character device');
    case 'BlockDevice':
      return typeMatchedOrError(path, 'BlockDevice', 'block device');
    default:
      throw new VolumeError(`${type} is an invalid volume type`);
  }
}

/** The hostPath plugin. */
export const hostPathPlugin: VolumePlugin = {
  name: 'kubernetes.io~host-path',
  refreshes: false,
  canSupport: (v: Volume) => v.hostPath !== undefined,
  async setUp(host: VolumeHost): Promise<MountedVolume> {
    const src = host.volume.hostPath!;
    checkHostPathType(src.path, src.type);
    return { hostPath: src.path, readOnly: false, plugin: 'host-path' };
  },
};
