// How the Job controller creates, deletes and patches pods (upstream controller.RealPodControl),
// recording SuccessfulCreate/FailedCreate/SuccessfulDelete/FailedDelete events on the Job.
// An interface so unit tests substitute a fake that records calls.
import type { Pod, PodTemplateSpec } from '../../api/types/core_v1.ts';
import type { OwnerReference } from '../../api/types/meta_v1.ts';
import { isNotFound } from '../../client/api_errors.ts';
import type { EventRecorder } from '../../client/events.ts';
import type { RestClient } from '../../client/rest_client.ts';
import type { KubeObject, ResourceClient } from '../../client/resource_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';

/** The pod writes a controller makes. */
export interface PodControl {
  /** Creates a pod from `template` owned by `controllerRef`, named by `generateName`. */
  createPod(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference, generateName: string): Promise<Pod>;
  deletePod(namespace: string, name: string, owner: KubeObject): Promise<void>;
  /** Strategic-merge patch. */
  patchPod(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
}

/** The pod a controller would create from a template (controller.GetPodFromTemplate). */
export function podFromTemplate(template: PodTemplateSpec, controllerRef: OwnerReference, generateName: string): Pod {
  const t = structuredClone(template);
  const metadata: Pod['metadata'] = { generateName };
  if (t.metadata?.labels) metadata.labels = t.metadata.labels;
  if (t.metadata?.annotations) metadata.annotations = t.metadata.annotations;
  if (t.metadata?.finalizers) metadata.finalizers = t.metadata.finalizers;
  metadata.ownerReferences = [controllerRef];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: t.spec ?? { containers: [] } };
}

/** PodControl over the API. */
export class RealPodControl implements PodControl {
  #pods: ResourceClient<Pod>;
  #recorder: EventRecorder;

  constructor(client: RestClient, recorder: EventRecorder) {
    this.#pods = client.resource<Pod>(resourceDescriptor('v1', 'pods'));
    this.#recorder = recorder;
  }

  async createPod(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef: OwnerReference, generateName: string): Promise<Pod> {
    const pod = podFromTemplate(template, controllerRef, generateName);
    pod.metadata!.namespace = namespace;
    try {
      const created = await this.#pods.inNamespace(namespace).create(pod);
      this.#recorder.eventf(owner, 'Normal', 'SuccessfulCreate', 'Created pod: %v', created.metadata?.name ?? '');
      return created;
    } catch (err) {
      this.#recorder.eventf(owner, 'Warning', 'FailedCreate', 'Error creating: %v', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  async deletePod(namespace: string, name: string, owner: KubeObject): Promise<void> {
    try {
      await this.#pods.inNamespace(namespace).delete(name);
    } catch (err) {
      if (isNotFound(err)) throw err;
      this.#recorder.eventf(owner, 'Warning', 'FailedDelete', 'Error deleting: %v', err instanceof Error ? err.message : String(err));
      throw err;
    }
    this.#recorder.eventf(owner, 'Normal', 'SuccessfulDelete', 'Deleted pod: %v', name);
  }

  async patchPod(namespace: string, name: string, patch: Record<string, unknown>): Promise<void> {
    await this.#pods.inNamespace(namespace).patch(name, 'strategic', patch);
  }
}
