// The Binder seam over the API (DefaultBinder's client call): POST pods/NAME/binding with the
// pod's uid, so a pod deleted and recreated under the same name is never bound by mistake.

import type { Binding, Pod } from '../../api/types/core_v1.ts';
import type { ResourceClient } from '../../client/resource_client.ts';
import type { Binder } from '../scheduler.ts';

/** Binds through pods/binding. */
export class ApiBinder implements Binder {
  readonly #pods: ResourceClient<Pod>;

  constructor(pods: ResourceClient<Pod>) {
    this.#pods = pods;
  }

  async bind(pod: Pod, nodeName: string): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const binding: Binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { namespace: ns, name, ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}) },
      target: { kind: 'Node', name: nodeName },
    };
    await this.#pods.inNamespace(ns).createSubresource(name, 'binding', binding);
  }
}
