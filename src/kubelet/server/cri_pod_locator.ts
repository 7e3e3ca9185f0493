// A PodLocator read straight from the runtime's state: sandboxes are matched by their CRI metadata
// (name, namespace, uid) and containers by name, newest attempt first. It serves the kubelet API
// before (and independently of) the pod workers' own status, e.g. for containers adopted at start.
import type { RuntimeService } from '../cri/types.ts';
import type { Container, PodSandbox } from '../cri/messages.ts';
import { KubeletError, type LocatedPod, type PodLocator } from './types.ts';

function newestFirst<T extends { createdAt: number }>(items: T[]): T[] {
  return items.sort((a, b) => b.createdAt - a.createdAt);
}

/** PodLocator over CRI ListPodSandbox/ListContainers. */
export class CriPodLocator implements PodLocator {
  readonly #runtime: RuntimeService;

  constructor(runtime: RuntimeService) {
    this.#runtime = runtime;
  }

  async #sandboxes(namespace: string, pod: string, uid?: string): Promise<PodSandbox[]> {
    const all = await this.#runtime.listPodSandbox();
    return newestFirst(all.filter((s) => s.metadata?.name === pod && s.metadata.namespace === namespace && (!uid || s.metadata.uid === uid)));
  }

  /** The pod's containers named `container`, newest attempt first. */
  async #containers(namespace: string, pod: string, container: string, uid?: string): Promise<Container[]> {
    const sandboxes = await this.#sandboxes(namespace, pod, uid);
    if (sandboxes.length === 0) throw new KubeletError(404, `pod ${JSON.stringify(pod)} does not exist`);
    // containers of older sandboxes (a recreated sandbox) are older attempts
    const found: Container[] = [];
    for (const sb of sandboxes) {
      const cs = await this.#runtime.listContainers({ podSandboxId: sb.id });
      found.push(...newestFirst(cs.filter((c) => c.metadata?.name === container)));
    }
    return found;
  }

  async sandbox(namespace: string, pod: string, uid?: string): Promise<LocatedPod> {
    const ready = (await this.#sandboxes(namespace, pod)).filter((s) => s.state === 'SANDBOX_READY');
    if (ready.length === 0) throw new KubeletError(404, 'pod does not exist');
    const sb = ready[0]!;
    if (uid && sb.metadata?.uid !== uid) throw new KubeletError(404, 'pod not found');
    return { uid: sb.metadata?.uid ?? '', sandboxId: sb.id };
  }

  async logContainer(namespace: string, pod: string, container: string, previous: boolean): Promise<string> {
    const cs = await this.#containers(namespace, pod, container);
    if (previous) {
      const prev = cs[1];
      if (!prev) throw new KubeletError(400, `previous terminated container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} not found`);
      return prev.id;
    }
    if (cs.length === 0) throw new KubeletError(400, `container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)} is not available`);
    return cs[0]!.id;
  }

  async runningContainer(namespace: string, pod: string, container: string, uid?: string): Promise<string> {
    const running = (await this.#containers(namespace, pod, container, uid)).find((c) => c.state === 'CONTAINER_RUNNING');
    // upstream's kubelet answers 500 here: a plain error, not a CRI NotFound
    if (!running) throw new KubeletError(500, `container not found (${JSON.stringify(container)})`);
    return running.id;
  }
}
