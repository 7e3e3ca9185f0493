// The PodLocator the kubelet API serves logs, exec, attach and port-forward with: pods come from
// the pod manager, container IDs from the status the kubelet computed (as upstream's
// validateContainerLogStatus), sandboxes and running containers from the runtime.
import type { ContainerStatus, Pod, PodStatus } from '../api/types/core_v1.ts';
import { KubeletError, type LocatedPod, type PodLocator } from './server/types.ts';
import { findContainer, type RuntimeStateReader } from './runtime_state.ts';

/** Where the locator looks things up. */
export interface KubeletPodLocatorDeps {
  getByName(namespace: string, name: string): Pod | undefined;
  /** The latest status the kubelet computed for a pod (else the API server's). */
  status(uid: string): PodStatus | undefined;
  readonly state: RuntimeStateReader;
}

function stripPrefix(containerID: string | undefined): string {
  return (containerID ?? '').replace(/^[a-z]+:\/\//, '');
}

/** PodLocator backed by the kubelet's own state. */
export class KubeletPodLocator implements PodLocator {
  readonly #d: KubeletPodLocatorDeps;

  constructor(deps: KubeletPodLocatorDeps) {
    this.#d = deps;
  }

  #pod(namespace: string, name: string, uid?: string): Pod {
    const pod = this.#d.getByName(namespace, name);
    if (!pod || (uid && pod.metadata?.uid !== uid)) throw new KubeletError(404, `pod ${JSON.stringify(name)} does not exist`);
    return pod;
  }

  async sandbox(namespace: string, name: string, uid?: string): Promise<LocatedPod> {
    const pod = this.#pod(namespace, name, uid);
    const podUid = pod.metadata?.uid ?? '';
    const rt = await this.#d.state.podStatus(podUid, name, namespace);
    const sb = rt.sandboxes.find((s) => s.state === 'SANDBOX_READY');
    if (!sb) throw new KubeletError(404, 'pod does not exist');
    return { uid: podUid, sandboxId: sb.id };
  }

  async logContainer(namespace: string, name: string, container: string, previous: boolean): Promise<string> {
    const pod = this.#pod(namespace, name);
    const status = this.#d.status(pod.metadata?.uid ?? '') ?? pod.status ?? {};
    const all: ContainerStatus[] = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? []), ...(status.ephemeralContainerStatuses ?? [])];
    const cs = all.find((s) => s.name === container);
    const q = (s: string): string => JSON.stringify(s);
    if (!cs) throw new KubeletError(400, `container ${q(container)} in pod ${q(name)} is not available`);
    const last = cs.lastState?.terminated;
    if (previous) {
      if (!last) throw new KubeletError(400, `previous terminated container ${q(container)} in pod ${q(name)} not found`);
      return stripPrefix(last.containerID);
    }
    const st = cs.state ?? {};
    if (st.running) return stripPrefix(cs.containerID);
    if (st.terminated) {
      if (st.terminated.containerID) return stripPrefix(st.terminated.containerID);
      if (last?.containerID) return stripPrefix(last.containerID);
      throw new KubeletError(400, `container ${q(container)} in pod ${q(name)} is terminated`);
    }
    if (last) {
      if (!last.containerID) throw new KubeletError(400, `container ${q(container)} in pod ${q(name)} is terminated`);
      return stripPrefix(last.containerID);
    }
    if (st.waiting) {
      const reason = st.waiting.reason ?? '';
      if (reason === 'ErrImagePull') throw new KubeletError(400, `container ${q(container)} in pod ${q(name)} is waiting to start: image can't be pulled`);
      if (reason === 'ImagePullBackOff') throw new KubeletError(400, `container ${q(container)} in pod ${q(name)} is waiting to start: trying and failing to pull image`);
      throw new KubeletError(400, `container ${q(container)} in pod ${q(name)} is waiting to start: ${reason}`);
    }
    throw new KubeletError(400, `container ${q(container)} in pod ${q(name)} is waiting to start - no logs yet`);
  }

  async runningContainer(namespace: string, name: string, container: string, uid?: string): Promise<string> {
    const pod = this.#pod(namespace, name, uid);
    const rt = await this.#d.state.podStatus(pod.metadata?.uid ?? '', name, namespace);
    const c = findContainer(rt, container);
    // upstream's kubelet answers 500 here: a plain error, not a CRI NotFound
    if (!c || c.state !== 'CONTAINER_RUNNING') throw new KubeletError(500, `container not found (${JSON.stringify(container)})`);
    return c.id;
  }
}
