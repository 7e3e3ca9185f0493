// `tkube image import|ls|rm`: manage the node's images in its containerd (namespace k8s.io). When no
// server is running, a temporary containerd is started on the data dir for the command.
import { existsSync } from 'node:fs';
import { Containerd } from '../agent/containerd.ts';
import { containerdPaths } from '../agent/containerd_config.ts';
import { formatImageList, importImage, listImages, removeImage } from '../agent/images.ts';
import { CriClient } from '../kubelet/cri/client.ts';

async function answers(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return false;
  const cri = new CriClient(`unix://${socket}`, { timeoutMs: 2000 });
  try {
    await cri.version();
    return true;
  } catch {
    return false;
  } finally {
    cri.close();
  }
}

/** Runs `fn` with a containerd socket for the data dir; resolves to the exit code. */
async function withContainerd(dataDir: string, fn: (socket: string) => Promise<void>): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('tkube image: must run as root (containerd needs it)');
    return 1;
  }
  const paths = containerdPaths(dataDir);
  let temp: Containerd | undefined;
  try {
    if (!(await answers(paths.socket))) {
      temp = new Containerd({ dataDir });
      await temp.start();
    }
    await fn(paths.socket);
    return 0;
  } catch (err) {
    console.error(`tkube image: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await temp?.stop();
  }
}

/** `tkube image import FILE...` */
export function imageImport(dataDir: string, files: string[]): Promise<number> {
  return withContainerd(dataDir, async (socket) => {
    for (const f of files) {
      if (!existsSync(f)) throw new Error(`no such file: ${f}`);
      const names = await importImage(f, { socket });
      for (const n of names) console.log(`imported ${n}`);
    }
  });
}

/** `tkube image ls` */
export function imageList(dataDir: string): Promise<number> {
  return withContainerd(dataDir, async (socket) => {
    const table = formatImageList(await listImages({ socket }));
    process.stdout.write(table.endsWith('\n') ? table : `${table}\n`);
  });
}

/** `tkube image rm REF...` */
export function imageRemove(dataDir: string, refs: string[]): Promise<number> {
  return withContainerd(dataDir, async (socket) => {
    for (const r of refs) {
      await removeImage(r, { socket });
      console.log(`deleted ${r}`);
    }
  });
}
