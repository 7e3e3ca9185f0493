// The API identity of a node's networking pieces (proxy, DNS, ingress, policies, service LB): they
// read Services, EndpointSlices, Pods, policies and TLS Secrets cluster-wide and write statuses,
// which the Node authorizer does not let a kubelet do. The ClusterRoles here grant exactly that.
import type { ClusterRole, ClusterRoleBinding } from '../api/types/rbac_v1.ts';
import { issueCertificate, type CertificateAuthority } from '../base/pki.ts';
import { isNotFound } from '../client/api_errors.ts';
import type { KubeObject, ResourceClient } from '../client/resource_client.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import { RestClient } from '../client/rest_client.ts';

/** The identity of the networking pieces when the agent mints their certificate. */
export const NETWORKING_USER = 'system:tkube-networking';
/** Also bound to every node, so joined agents' networking works with the node's own credentials. */
const NODES_GROUP = 'system:nodes';

const READ = ['get', 'list', 'watch'];
const RBAC = 'rbac.authorization.k8s.io';

/** What the networking pieces read and write, Secrets aside. */
export function networkingClusterRole(): ClusterRole {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRole',
    metadata: { name: NETWORKING_USER, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules: [
      { apiGroups: [''], resources: ['services', 'endpoints', 'pods', 'namespaces', 'nodes', 'configmaps'], verbs: READ },
      // load balancer statuses
      { apiGroups: [''], resources: ['services/status'], verbs: ['patch', 'update'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies', 'ingresses', 'ingressclasses'], verbs: READ },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['patch', 'update'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
    ],
  };
}

/**
 * For the networking identity only, never for every node: the Ingress controller's TLS Secrets, and
 * creating the cluster-wide kube-dns Service and `tkube` IngressClass (a joined node finds them made).
 */
export function networkingSecretsClusterRole(): ClusterRole {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRole',
    metadata: { name: `${NETWORKING_USER}:secrets`, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules: [
      { apiGroups: [''], resources: ['secrets'], verbs: READ },
      { apiGroups: [''], resources: ['services'], verbs: ['create'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: ['create'] },
    ],
  };
}

function binding(role: ClusterRole, subjects: ClusterRoleBinding['subjects']): ClusterRoleBinding {
  const name = role.metadata!.name!;
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name },
    subjects,
  };
}

/** Creates or updates both ClusterRoles and their bindings. */
export async function ensureNetworkingRbac(admin: RestClient): Promise<void> {
  const roles = admin.resource<ClusterRole>(resourceDescriptor(`${RBAC}/v1`, 'clusterroles'));
  const bindings = admin.resource<ClusterRoleBinding>(resourceDescriptor(`${RBAC}/v1`, 'clusterrolebindings'));
  const ensure = async <T extends KubeObject>(client: ResourceClient<T>, obj: T): Promise<void> => {
    try {
      const existing = await client.get(obj.metadata!.name!);
      await client.update({ ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata?.resourceVersion } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await client.create(obj);
    }
  };
  const user = { apiGroup: RBAC, kind: 'User', name: NETWORKING_USER };
  const main = networkingClusterRole();
  const secrets = networkingSecretsClusterRole();
  await ensure(roles, main);
  await ensure(roles, secrets);
  await ensure(bindings, binding(main, [user, { apiGroup: RBAC, kind: 'Group', name: NODES_GROUP }]));
  await ensure(bindings, binding(secrets, [user]));
}

/**
 * The client of the networking pieces. An agent that mints its own node certificate from the cluster
 * CA (the embedded agent) mints one for NETWORKING_USER and writes the roles; otherwise (a kubeconfig,
 * or a joined node) the agent's own client is used, which the roles cover for every node except
 * for Secrets (so Ingress TLS needs the embedded agent's identity or an admin kubeconfig).
 */
export async function networkingClient(o: { server?: string; clusterCa?: CertificateAuthority; kubeconfig?: string }, agentClient: RestClient): Promise<{ client: RestClient; dispose(): Promise<void> }> {
  if (o.kubeconfig || !o.server || !o.clusterCa) return { client: agentClient, dispose: async () => undefined };
  const ca = o.clusterCa;
  const server = o.server;
  const make = async (commonName: string, organizations: string[], days: number): Promise<RestClient> => {
    const cert = await issueCertificate({ ca, commonName, organizations, usages: 'client', days });
    return new RestClient({ server, caPem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, userAgent: 'tkube-networking' });
  };
  // Only for writing the roles: whoever holds the CA holds every right anyway.
  const admin = await make(`${NETWORKING_USER}-bootstrap`, ['system:masters'], 1);
  try {
    await ensureNetworkingRbac(admin);
  } finally {
    await admin.dispose();
  }
  const client = await make(NETWORKING_USER, [], 365);
  return { client, dispose: () => client.dispose() };
}
