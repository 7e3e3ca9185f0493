// Contracts of the kubelet's HTTPS API (:10250): how it finds a pod's sandbox and containers
// (PodLocator, implemented by the pod-lifecycle kubelet, or over CRI state by cri_pod_locator.ts),
// and the one error type its handlers throw, carrying the HTTP status upstream's kubelet answers.

/** A pod on this node as the runtime knows it. */
export interface LocatedPod {
  readonly uid: string;
  /** CRI sandbox ID of the pod's current (ready) sandbox. */
  readonly sandboxId: string;
}

/** Finds pods and containers on this node by their API names. */
export interface PodLocator {
  /** The pod's sandbox; throws KubeletError 404 when the pod is not on this node (or its UID differs). */
  sandbox(namespace: string, pod: string, uid?: string): Promise<LocatedPod>;
  /**
   * The CRI container ID whose log to read: the current instance, or with `previous` the last
   * terminated one. Throws KubeletError (400 with upstream's message, e.g. `previous terminated
   * container "c" in pod "p" not found`; 404 when the pod or container is unknown).
   */
  logContainer(namespace: string, pod: string, container: string, previous: boolean): Promise<string>;
  /** The CRI ID of the running container to exec in or attach to; KubeletError 404 otherwise. */
  runningContainer(namespace: string, pod: string, container: string, uid?: string): Promise<string>;
}

/** A failed kubelet API call: the HTTP status and the plain-text body upstream's kubelet sends. */
export class KubeletError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = 'KubeletError';
    this.code = code;
  }
}

/** An authenticated caller of the kubelet API (from its client certificate). */
export interface KubeletUser {
  readonly name: string;
  readonly groups: readonly string[];
}
