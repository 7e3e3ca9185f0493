// What `tkube server` sets up at start so nodes can join with a bootstrap token, as `kubeadm init`
// does in its bootstrap-token phase: the kube-public/cluster-info ConfigMap (server URL and CA,
// signed per token by the bootstrap signer) and the RBAC bindings that let token holders request
// a node client certificate that is approved automatically, and nodes renew theirs.
import { stringify } from 'yaml';
import type { ConfigMap } from '../api/types/core_v1.ts';
import type { ClusterRoleBinding, Role, RoleBinding } from '../api/types/rbac_v1.ts';
import { isAlreadyExists, isNotFound } from '../client/api_errors.ts';
import { resourceDescriptor, type ResourceDescriptor } from '../client/resource_descriptor.ts';
import type { RestClient } from '../client/rest_client.ts';
import type { KubeObject } from '../client/resource_client.ts';
import {
  BOOTSTRAP_DEFAULT_GROUP, CLUSTER_INFO_KUBECONFIG_KEY, CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE,
} from '../controllers/bootstrap/token_secret.ts';
import { DEFAULT_NODE_TOKEN_GROUP } from './token_command.ts';

const RBAC = 'rbac.authorization.k8s.io';
const NODES_GROUP = 'system:nodes';

/** The kubeconfig cluster-info carries: one cluster, no user (kubeadm's layout). */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  return stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(caPem).toString('base64'), server }, name: '' }],
    contexts: null, 'current-context': '', kind: 'Config', preferences: {}, users: null,
  });
}

function group(name: string) {
  return { kind: 'Group', apiGroup: RBAC, name };
}

/** The join bindings (kubeadm's names with our prefix), the cluster-info reader Role and its binding. */
export function joinRbacObjects(): { clusterRoleBindings: ClusterRoleBinding[]; roles: Role[]; roleBindings: RoleBinding[] } {
  const crb = (name: string, role: string, subject: string): ClusterRoleBinding => ({
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role }, subjects: [group(subject)],
  });
  return {
    clusterRoleBindings: [
      crb('tkube:kubelet-bootstrap', 'system:node-bootstrapper', DEFAULT_NODE_TOKEN_GROUP),
      crb('tkube:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', DEFAULT_NODE_TOKEN_GROUP),
      crb('tkube:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', NODES_GROUP),
    ],
    roles: [{
      apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'tkube:bootstrap-signer-clusterinfo', namespace: CLUSTER_INFO_NAMESPACE },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: [CLUSTER_INFO_NAME] }],
    }],
    roleBindings: [{
      apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'tkube:bootstrap-signer-clusterinfo', namespace: CLUSTER_INFO_NAMESPACE },
      roleRef: { apiGroup: RBAC, kind: 'Role', name: 'tkube:bootstrap-signer-clusterinfo' },
      // kubeadm lets system:anonymous read it; anonymous requests are off by default here, so token holders may too.
      subjects: [{ kind: 'User', apiGroup: RBAC, name: 'system:anonymous' }, group(BOOTSTRAP_DEFAULT_GROUP)],
    }],
  };
}

async function ensure<T extends KubeObject>(client: RestClient, desc: ResourceDescriptor, obj: T): Promise<void> {
  try {
    await client.resource<T>(desc, obj.metadata?.namespace).create(obj);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/** Creates what is missing and points cluster-info at `server`; idempotent, run at every start. */
export async function ensureJoinSupport(client: RestClient, opts: { server: string; caPem: string }): Promise<void> {
  const objs = joinRbacObjects();
  for (const b of objs.clusterRoleBindings) await ensure(client, resourceDescriptor(`${RBAC}/v1`, 'clusterrolebindings'), b);
  for (const r of objs.roles) await ensure(client, resourceDescriptor(`${RBAC}/v1`, 'roles'), r);
  for (const b of objs.roleBindings) await ensure(client, resourceDescriptor(`${RBAC}/v1`, 'rolebindings'), b);
  const content = clusterInfoKubeconfig(opts.server, opts.caPem);
  const cms = client.resource<ConfigMap>(resourceDescriptor('v1', 'configmaps'), CLUSTER_INFO_NAMESPACE);
  let cm: ConfigMap | undefined;
  try {
    cm = await cms.get(CLUSTER_INFO_NAME);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!cm) {
    await ensure(client, resourceDescriptor('v1', 'configmaps'), {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE },
      data: { [CLUSTER_INFO_KUBECONFIG_KEY]: content },
    } satisfies ConfigMap);
  } else if (cm.data?.[CLUSTER_INFO_KUBECONFIG_KEY] !== content) {
    // The bootstrap signer re-signs the new content.
    await cms.update({ ...cm, data: { ...cm.data, [CLUSTER_INFO_KUBECONFIG_KEY]: content } });
  }
}
