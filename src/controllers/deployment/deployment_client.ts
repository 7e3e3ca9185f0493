// The writes the Deployment controller makes, behind one seam so unit tests can record them.
// Deployment annotations (the revision) ride on status updates upstream; our status subresource
// keeps metadata, so a changed annotation set is patched onto the object afterwards.
import type { Deployment, ReplicaSet } from '../../api/types/apps_v1.ts';
import type { RestClient } from '../../client/rest_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';

/** Reads and writes of Deployments and ReplicaSets. */
export interface DeploymentClient {
  getDeployment(namespace: string, name: string): Promise<Deployment>;
  updateDeployment(d: Deployment): Promise<Deployment>;
  /** PUT of status; also persists changed annotations (deploymentStatusStrategy keeps them upstream). */
  updateDeploymentStatus(d: Deployment): Promise<Deployment>;
  createReplicaSet(rs: ReplicaSet): Promise<ReplicaSet>;
  updateReplicaSet(rs: ReplicaSet): Promise<ReplicaSet>;
  deleteReplicaSet(namespace: string, name: string): Promise<void>;
  patchReplicaSet(namespace: string, name: string, patch: unknown): Promise<void>;
}

/** The DeploymentClient over the API. */
export function restDeploymentClient(client: RestClient): DeploymentClient {
  const deployments = client.resource<Deployment>(resourceDescriptor('apps/v1', 'deployments'));
  const rss = client.resource<ReplicaSet>(resourceDescriptor('apps/v1', 'replicasets'));
  return {
    getDeployment: (ns, name) => deployments.inNamespace(ns).get(name),
    updateDeployment: (d) => deployments.update(d),
    async updateDeploymentStatus(d) {
      let written = await deployments.updateStatus(d);
      const patch = annotationPatch(written.metadata?.annotations, d.metadata?.annotations);
      if (patch) {
        written = await deployments.inNamespace(d.metadata?.namespace ?? '').patch(d.metadata?.name ?? '', 'merge', {
          metadata: { annotations: patch, resourceVersion: written.metadata?.resourceVersion },
        });
      }
      return written;
    },
    createReplicaSet: (rs) => rss.create(rs),
    updateReplicaSet: (rs) => rss.update(rs),
    async deleteReplicaSet(ns, name) {
      await rss.inNamespace(ns).delete(name);
    },
    async patchReplicaSet(ns, name, patch) {
      await rss.inNamespace(ns).patch(name, 'strategic', patch);
    },
  };
}

/** A merge patch turning `have` into `want`, or undefined when they agree. */
export function annotationPatch(have: Record<string, string> | undefined, want: Record<string, string> | undefined): Record<string, string | null> | undefined {
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(want ?? {})) if (have?.[k] !== v) patch[k] = v;
  for (const k of Object.keys(have ?? {})) if (!(k in (want ?? {}))) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
