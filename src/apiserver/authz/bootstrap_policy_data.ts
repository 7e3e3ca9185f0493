// The default RBAC policy of Kubernetes v1.32 as data: the ClusterRoles, ClusterRoleBindings and the
// kube-system/kube-public Roles and RoleBindings the API server creates at start (upstream's
// bootstrappolicy). Entries behind a feature gate carry it; bootstrap_policy.ts builds the objects.

/** One PolicyRule; list order is free, the builder sorts each list as upstream does. */
export interface RuleSpec {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
  /** Present only when this feature gate is enabled. */
  readonly gate?: string;
}

/** A default ClusterRole. */
export interface ClusterRoleSpec {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** The aggregationRule: one matchLabels selector per entry. */
  readonly aggregate?: ReadonlyArray<Readonly<Record<string, string>>>;
  readonly rules?: readonly RuleSpec[];
  readonly gate?: string;
}

/** Subjects of a default binding. */
export interface SubjectsSpec {
  readonly users?: readonly string[];
  readonly groups?: readonly string[];
  /** [namespace, name] pairs. */
  readonly serviceAccounts?: ReadonlyArray<readonly [string, string]>;
}

/** A default ClusterRoleBinding; its name is the role's unless given. */
export interface ClusterRoleBindingSpec extends SubjectsSpec {
  readonly role: string;
  readonly name?: string;
  readonly gate?: string;
}

/** A default namespaced Role. */
export interface RoleSpec {
  readonly namespace: string;
  readonly name: string;
  readonly rules: readonly RuleSpec[];
}

/** A default RoleBinding to a Role of its namespace; its name is the role's unless given. */
export interface RoleBindingSpec extends SubjectsSpec {
  readonly namespace: string;
  readonly role: string;
  readonly name?: string;
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_WRITE = [...READ, ...WRITE];
const READ_UPDATE = ['get', 'list', 'watch', 'update', 'patch'];

function res(verbs: readonly string[], apiGroups: readonly string[], resources: readonly string[], more: { resourceNames?: readonly string[]; gate?: string } = {}): RuleSpec {
  return { verbs, apiGroups, resources, ...more };
}

function urls(verbs: readonly string[], nonResourceURLs: readonly string[], gate?: string): RuleSpec {
  return gate === undefined ? { verbs, nonResourceURLs } : { verbs, nonResourceURLs, gate };
}

/** create/update/patch of events in both event groups, which most components hold. */
const EVENTS = res(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']);

const AGG_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
const AGG_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
const AGG_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

const SIGNER_LEGACY_UNKNOWN = 'kubernetes.io/legacy-unknown';
const SIGNER_KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
const SIGNER_APISERVER_CLIENT = 'kubernetes.io/kube-apiserver-client';
const SIGNER_APISERVER_CLIENT_KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';

const NODE_RULES: readonly RuleSpec[] = [
  res(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  res(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
  res(READ, [''], ['services']),
  res(['create', 'get', 'list', 'watch'], [''], ['nodes']),
  res(['update', 'patch'], [''], ['nodes/status']),
  res(['update', 'patch'], [''], ['nodes']),
  res(['create', 'update', 'patch'], [''], ['events']),
  res(READ, [''], ['pods']),
  res(['create', 'delete'], [''], ['pods']),
  res(['update', 'patch'], [''], ['pods/status']),
  res(['create'], [''], ['pods/eviction']),
  res(['get', 'list', 'watch'], [''], ['secrets', 'configmaps']),
  res(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
  res(['get'], [''], ['endpoints']),
  res(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  res(['get', 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
  res(['get'], ['storage.k8s.io'], ['volumeattachments']),
  res(['create'], [''], ['serviceaccounts/token']),
  res(['get', 'update', 'patch'], [''], ['persistentvolumeclaims/status']),
  res(['get', 'watch', 'list'], ['storage.k8s.io'], ['csidrivers']),
  res(['get', 'create', 'update', 'patch', 'delete'], ['storage.k8s.io'], ['csinodes']),
  res(['get', 'list', 'watch'], ['node.k8s.io'], ['runtimeclasses']),
  res(['get'], ['resource.k8s.io'], ['resourceclaims'], { gate: 'DynamicResourceAllocation' }),
  res(['deletecollection'], ['resource.k8s.io'], ['resourceslices'], { gate: 'DynamicResourceAllocation' }),
  res(['get', 'list', 'watch'], ['certificates.k8s.io'], ['clustertrustbundles'], { gate: 'ClusterTrustBundle' }),
];

/** policy.go ClusterRoles(). */
export const CLUSTER_ROLES: readonly ClusterRoleSpec[] = [
  { name: 'cluster-admin', rules: [res(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  {
    name: 'system:discovery',
    rules: [urls(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*'])],
  },
  {
    name: 'system:monitoring',
    rules: [
      urls(['get'], ['/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*']),
      urls(['get'], ['/flagz'], 'ComponentFlagz'),
      urls(['get'], ['/statusz'], 'ComponentStatusz'),
    ],
  },
  {
    name: 'system:basic-user',
    rules: [
      res(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      res(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ],
  },
  { name: 'system:public-info-viewer', rules: [urls(['get'], ['/livez', '/readyz', '/healthz', '/version', '/version/'])] },
  { name: 'admin', aggregate: [{ [AGG_ADMIN]: 'true' }] },
  { name: 'edit', labels: { [AGG_ADMIN]: 'true' }, aggregate: [{ [AGG_EDIT]: 'true' }] },
  { name: 'view', labels: { [AGG_EDIT]: 'true' }, aggregate: [{ [AGG_VIEW]: 'true' }] },
  {
    name: 'system:aggregate-to-admin',
    labels: { [AGG_ADMIN]: 'true' },
    rules: [
      res(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      res(READ_WRITE, ['rbac.authorization.k8s.io'], ['roles', 'rolebindings']),
    ],
  },
  {
    name: 'system:aggregate-to-edit',
    labels: { [AGG_EDIT]: 'true' },
    rules: [
      res(READ, [''], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
      res(['impersonate'], [''], ['serviceaccounts']),
      res(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
      res(['create'], [''], ['pods/eviction']),
      res(WRITE, [''], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy',
        'persistentvolumeclaims', 'configmaps', 'secrets', 'events']),
      res(['create'], [''], ['serviceaccounts/token']),
      res(WRITE, ['apps'], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback',
        'replicasets', 'replicasets/scale']),
      res(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
      res(WRITE, ['batch'], ['jobs', 'cronjobs']),
      res(WRITE, ['extensions'], ['daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'ingresses', 'replicasets',
        'replicasets/scale', 'replicationcontrollers/scale', 'networkpolicies']),
      res(WRITE, ['policy'], ['poddisruptionbudgets']),
      res(WRITE, ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
      res(READ_WRITE, ['coordination.k8s.io'], ['leases']),
    ],
  },
  {
    name: 'system:aggregate-to-view',
    labels: { [AGG_VIEW]: 'true' },
    rules: [
      res(READ, [''], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status',
        'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
      res(READ, [''], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status',
        'replicationcontrollers/status', 'pods/log']),
      res(READ, [''], ['namespaces']),
      res(READ, ['discovery.k8s.io'], ['endpointslices']),
      res(READ, ['apps'], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status',
        'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
      res(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      res(READ, ['batch'], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
      res(READ, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses',
        'ingresses/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale', 'networkpolicies']),
      res(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      res(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingresses/status']),
    ],
  },
  {
    name: 'system:heapster',
    rules: [res(READ, [''], ['events', 'pods', 'nodes', 'namespaces']), res(READ, ['extensions'], ['deployments'])],
  },
  { name: 'system:node', rules: NODE_RULES },
  {
    name: 'system:node-problem-detector',
    rules: [res(['get'], [''], ['nodes']), res(['patch'], [''], ['nodes/status']), EVENTS],
  },
  { name: 'system:node-bootstrapper', rules: [res(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])] },
  {
    name: 'system:auth-delegator',
    rules: [res(['create'], ['authentication.k8s.io'], ['tokenreviews']), res(['create'], ['authorization.k8s.io'], ['subjectaccessreviews'])],
  },
  { name: 'system:kube-aggregator', rules: [res(READ, [''], ['services', 'endpoints'])] },
  {
    name: 'system:kube-controller-manager',
    rules: [
      EVENTS,
      res(['create'], ['coordination.k8s.io'], ['leases']),
      res(['get', 'update'], ['coordination.k8s.io'], ['leases'], { resourceNames: ['kube-controller-manager'] }),
      res(['create'], [''], ['secrets', 'serviceaccounts']),
      res(['delete'], [''], ['secrets']),
      res(['get'], [''], ['namespaces', 'secrets', 'serviceaccounts', 'configmaps']),
      res(['update'], [''], ['secrets', 'serviceaccounts']),
      res(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      res(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      res(['list', 'watch'], ['*'], ['*']),
      res(['create'], [''], ['serviceaccounts/token']),
    ],
  },
  { name: 'system:kube-dns', rules: [res(['list', 'watch'], [''], ['endpoints', 'services'])] },
  {
    name: 'system:persistent-volume-provisioner',
    rules: [
      res(['get', 'list', 'watch', 'create', 'delete'], [''], ['persistentvolumes']),
      res(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
      res(READ, ['storage.k8s.io'], ['storageclasses']),
      res(['watch'], [''], ['events']),
      EVENTS,
    ],
  },
  {
    name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    rules: [res(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient'])],
  },
  {
    name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
    rules: [res(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient'])],
  },
  {
    name: 'system:volume-scheduler',
    rules: [
      res(READ_UPDATE, [''], ['persistentvolumes']),
      res(READ, ['storage.k8s.io'], ['storageclasses']),
      res(READ_UPDATE, [''], ['persistentvolumeclaims']),
    ],
  },
  {
    name: 'system:certificates.k8s.io:legacy-unknown-approver',
    rules: [res(['approve'], ['certificates.k8s.io'], ['signers'], { resourceNames: [SIGNER_LEGACY_UNKNOWN] })],
  },
  {
    name: 'system:certificates.k8s.io:kubelet-serving-approver',
    rules: [res(['approve'], ['certificates.k8s.io'], ['signers'], { resourceNames: [SIGNER_KUBELET_SERVING] })],
  },
  {
    name: 'system:certificates.k8s.io:kube-apiserver-client-approver',
    rules: [res(['approve'], ['certificates.k8s.io'], ['signers'], { resourceNames: [SIGNER_APISERVER_CLIENT] })],
  },
  {
    name: 'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver',
    rules: [res(['approve'], ['certificates.k8s.io'], ['signers'], { resourceNames: [SIGNER_APISERVER_CLIENT_KUBELET] })],
  },
  {
    name: 'system:service-account-issuer-discovery',
    rules: [urls(['get'], ['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'])],
  },
  {
    name: 'system:kubelet-api-admin',
    rules: [
      res(['get', 'list', 'watch'], [''], ['nodes']),
      res(['proxy'], [''], ['nodes']),
      res(['*'], [''], ['nodes/proxy', 'nodes/metrics', 'nodes/stats', 'nodes/log']),
      res(['*'], [''], ['nodes/pods', 'nodes/healthz', 'nodes/configz'], { gate: 'KubeletFineGrainedAuthz' }),
    ],
  },
  {
    name: 'system:node-proxier',
    rules: [
      res(['list', 'watch'], [''], ['services', 'endpoints']),
      res(['get', 'list', 'watch'], [''], ['nodes']),
      EVENTS,
      res(['list', 'watch'], ['networking.k8s.io'], ['servicecidrs'], { gate: 'MultiCIDRServiceAllocator' }),
      res(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ],
  },
  {
    name: 'system:kube-scheduler',
    rules: [
      EVENTS,
      res(['create'], ['coordination.k8s.io'], ['leases']),
      res(['get', 'update', 'list', 'watch'], ['coordination.k8s.io'], ['leases'], { resourceNames: ['kube-scheduler'] }),
      res(READ_WRITE, ['coordination.k8s.io'], ['leasecandidates']),
      res(READ, [''], ['nodes']),
      res(['get', 'list', 'watch', 'delete'], [''], ['pods']),
      res(['create'], [''], ['pods/binding', 'bindings']),
      res(['patch', 'update'], [''], ['pods/status']),
      res(READ, [''], ['services', 'replicationcontrollers']),
      res(READ, ['apps', 'extensions'], ['replicasets']),
      res(READ, ['apps'], ['statefulsets']),
      res(READ, ['policy'], ['poddisruptionbudgets']),
      res(READ, [''], ['persistentvolumeclaims', 'persistentvolumes']),
      res(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      res(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      res(READ, ['storage.k8s.io'], ['csinodes']),
      res(['get', 'list', 'watch'], ['storage.k8s.io'], ['volumeattachments']),
      res(READ, [''], ['namespaces']),
      res(READ, ['storage.k8s.io'], ['csidrivers']),
      res(READ, ['storage.k8s.io'], ['csistoragecapacities']),
      res(READ, ['resource.k8s.io'], ['deviceclasses'], { gate: 'DynamicResourceAllocation' }),
      res(READ_UPDATE, ['resource.k8s.io'], ['resourceclaims'], { gate: 'DynamicResourceAllocation' }),
      res(READ_UPDATE, ['resource.k8s.io'], ['resourceclaims/status'], { gate: 'DynamicResourceAllocation' }),
      res(READ_UPDATE, [''], ['pods/finalizers'], { gate: 'DynamicResourceAllocation' }),
      res(READ, ['resource.k8s.io'], ['resourceslices'], { gate: 'DynamicResourceAllocation' }),
    ],
  },
  {
    name: 'system:cluster-trust-bundle-discovery',
    gate: 'ClusterTrustBundle',
    rules: [res(READ, ['certificates.k8s.io'], ['clustertrustbundles'])],
  },
];

/** policy.go ClusterRoleBindings(); system:node is bound to nobody (the Node authorizer serves kubelets). */
export const CLUSTER_ROLE_BINDINGS: readonly ClusterRoleBindingSpec[] = [
  { role: 'cluster-admin', groups: ['system:masters'] },
  { role: 'system:monitoring', groups: ['system:monitoring'] },
  { role: 'system:discovery', groups: ['system:authenticated'] },
  { role: 'system:basic-user', groups: ['system:authenticated'] },
  { role: 'system:public-info-viewer', groups: ['system:authenticated', 'system:unauthenticated'] },
  { role: 'system:node-proxier', users: ['system:kube-proxy'] },
  { role: 'system:kube-controller-manager', users: ['system:kube-controller-manager'] },
  { role: 'system:kube-dns', serviceAccounts: [['kube-system', 'kube-dns']] },
  { role: 'system:kube-scheduler', users: ['system:kube-scheduler'] },
  { role: 'system:volume-scheduler', users: ['system:kube-scheduler'] },
  { role: 'system:node' },
  { role: 'system:service-account-issuer-discovery', groups: ['system:serviceaccounts'] },
  { role: 'system:cluster-trust-bundle-discovery', groups: ['system:serviceaccounts'], gate: 'ClusterTrustBundle' },
];

/**
 * controller_policy.go: one ClusterRole per controller, named `system:controller:<controller>` and
 * bound to the ServiceAccount kube-system/<controller>.
 */
export const CONTROLLER_ROLES: readonly ClusterRoleSpec[] = [
  {
    name: 'attachdetach-controller',
    rules: [
      res(['list', 'watch'], [''], ['persistentvolumes', 'persistentvolumeclaims']),
      res(['get', 'list', 'watch'], [''], ['nodes']),
      res(['patch', 'update'], [''], ['nodes/status']),
      res(['list', 'watch'], [''], ['pods']),
      EVENTS,
      res(['get', 'create', 'delete', 'list', 'watch'], ['storage.k8s.io'], ['volumeattachments']),
      res(['get', 'watch', 'list'], ['storage.k8s.io'], ['csidrivers']),
      res(['get', 'watch', 'list'], ['storage.k8s.io'], ['csinodes']),
    ],
  },
  {
    name: 'clusterrole-aggregation-controller',
    rules: [res(['escalate', 'get', 'list', 'watch', 'update', 'patch'], ['rbac.authorization.k8s.io'], ['clusterroles'])],
  },
  {
    name: 'cronjob-controller',
    rules: [
      res(['get', 'list', 'watch', 'update'], ['batch'], ['cronjobs']),
      res(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], ['batch'], ['jobs']),
      res(['update'], ['batch'], ['cronjobs/status']),
      res(['update'], ['batch'], ['cronjobs/finalizers']),
      res(['list', 'watch', 'delete'], [''], ['pods']),
      EVENTS,
    ],
  },
  {
    name: 'daemon-set-controller',
    rules: [
      res(['get', 'list', 'watch'], ['extensions', 'apps'], ['daemonsets']),
      res(['update'], ['extensions', 'apps'], ['daemonsets/status']),
      res(['update'], ['extensions', 'apps'], ['daemonsets/finalizers']),
      res(['list', 'watch'], [''], ['nodes']),
      res(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
      res(['create'], [''], ['pods/binding']),
      res(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], ['apps'], ['controllerrevisions']),
      EVENTS,
    ],
  },
  {
    name: 'deployment-controller',
    rules: [
      res(['get', 'list', 'watch', 'update'], ['extensions', 'apps'], ['deployments']),
      res(['update'], ['extensions', 'apps'], ['deployments/status']),
      res(['update'], ['extensions', 'apps'], ['deployments/finalizers']),
      res(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], ['apps', 'extensions'], ['replicasets']),
      res(['get', 'list', 'watch', 'update'], [''], ['pods']),
      EVENTS,
    ],
  },
  {
    name: 'disruption-controller',
    rules: [
      res(['get', 'list', 'watch'], ['extensions', 'apps'], ['deployments']),
      res(['get', 'list', 'watch'], ['apps', 'extensions'], ['replicasets']),
      res(['get', 'list', 'watch'], [''], ['replicationcontrollers']),
      res(['get', 'list', 'watch'], ['policy'], ['poddisruptionbudgets']),
      res(['get', 'list', 'watch'], ['apps'], ['statefulsets']),
      res(['update'], ['policy'], ['poddisruptionbudgets/status']),
      res(['patch', 'update'], [''], ['pods/status']),
      res(['get'], ['*'], ['*/scale']),
      EVENTS,
    ],
  },
  {
    name: 'endpoint-controller',
    rules: [
      res(['get', 'list', 'watch'], [''], ['services', 'pods']),
      res(['get', 'list', 'watch', 'create', 'update', 'delete'], [''], ['endpoints']),
      res(['create'], [''], ['endpoints/restricted']),
      EVENTS,
    ],
  },
  {
    name: 'endpointslice-controller',
    rules: [
      res(['get', 'list', 'watch'], [''], ['services', 'pods', 'nodes']),
      res(['update'], [''], ['services/finalizers']),
      res(['get', 'list', 'watch', 'create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
      EVENTS,
    ],
  },
  {
    name: 'endpointslicemirroring-controller',
    rules: [
      res(['get', 'list', 'watch'], [''], ['services', 'endpoints']),
      res(['update'], [''], ['services/finalizers']),
      res(['update'], [''], ['endpoints/finalizers']),
      res(['get', 'list', 'watch', 'create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
      EVENTS,
    ],
  },
  {
    name: 'expand-controller',
    rules: [
      res(['get', 'list', 'watch', 'update', 'patch'], [''], ['persistentvolumes']),
      res(['update', 'patch'], [''], ['persistentvolumeclaims/status']),
      res(['get', 'list', 'watch'], [''], ['persistentvolumeclaims']),
      EVENTS,
      res(['get'], [''], ['services']),
    ],
  },
  {
    name: 'ephemeral-volume-controller',
    rules: [
      res(['get', 'list', 'watch'], [''], ['pods']),
      res(['update'], [''], ['pods/finalizers']),
      res(['get', 'list', 'watch', 'create'], [''], ['persistentvolumeclaims']),
      EVENTS,
    ],
  },
  {
    name: 'resource-claim-controller',
    gate: 'DynamicResourceAllocation',
    rules: [
      res(['get', 'list', 'watch'], [''], ['pods']),
      res(['update'], [''], ['pods/finalizers']),
      res(['get', 'list', 'watch', 'create', 'delete'], ['resource.k8s.io'], ['resourceclaims']),
      res(['update', 'patch'], ['resource.k8s.io'], ['resourceclaims', 'resourceclaims/status']),
      res(['update', 'patch'], [''], ['pods/status']),
      EVENTS,
    ],
  },
  {
    name: 'generic-garbage-collector',
    rules: [res(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']), EVENTS],
  },
  {
    name: 'horizontal-pod-autoscaler',
    rules: [
      res(['get', 'list', 'watch'], ['autoscaling'], ['horizontalpodautoscalers']),
      res(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
      res(['get', 'update'], ['*'], ['*/scale']),
      res(['list', 'watch'], [''], ['pods']),
      res(['list', 'watch'], ['metrics.k8s.io'], ['pods']),
      res(['get', 'list', 'watch'], ['custom.metrics.k8s.io'], ['*']),
      res(['get', 'list', 'watch'], ['external.metrics.k8s.io'], ['*']),
      EVENTS,
    ],
  },
  {
    name: 'job-controller',
    rules: [
      res(['get', 'list', 'watch', 'update', 'patch'], ['batch'], ['jobs']),
      res(['update'], ['batch'], ['jobs/status']),
      res(['update'], ['batch'], ['jobs/finalizers']),
      res(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
      EVENTS,
    ],
  },
  {
    name: 'namespace-controller',
    rules: [
      res(['get', 'list', 'watch', 'delete'], [''], ['namespaces']),
      res(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
      res(['get', 'list', 'watch', 'delete', 'deletecollection'], ['*'], ['*']),
    ],
  },
  {
    name: 'node-controller',
    rules: [
      res(['get', 'list', 'watch', 'update', 'delete', 'patch'], [''], ['nodes']),
      res(['patch', 'update'], [''], ['nodes/status']),
      res(['patch', 'update'], [''], ['pods/status']),
      res(['list', 'watch', 'get', 'delete'], [''], ['pods']),
      EVENTS,
    ],
  },
  {
    name: 'persistent-volume-binder',
    rules: [
      res(['get', 'list', 'watch', 'update', 'create', 'delete'], [''], ['persistentvolumes']),
      res(['update'], [''], ['persistentvolumes/status']),
      res(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
      res(['update'], [''], ['persistentvolumeclaims/status']),
      res(['list', 'watch', 'get', 'create', 'delete'], [''], ['pods']),
      res(['get', 'list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
      res(['list', 'watch'], [''], ['nodes']),
      EVENTS,
      res(['watch'], [''], ['events']),
      res(['get'], [''], ['services']),
    ],
  },
  {
    name: 'pod-garbage-collector',
    rules: [
      res(['list', 'watch', 'delete'], [''], ['pods']),
      res(['get', 'list', 'watch'], [''], ['nodes']),
      res(['patch'], [''], ['pods/status']),
    ],
  },
  {
    name: 'replicaset-controller',
    rules: [
      res(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['replicasets']),
      res(['update'], ['apps', 'extensions'], ['replicasets/status']),
      res(['update'], ['apps', 'extensions'], ['replicasets/finalizers']),
      res(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
      EVENTS,
    ],
  },
  {
    name: 'replication-controller',
    rules: [
      res(['get', 'list', 'watch', 'update'], [''], ['replicationcontrollers']),
      res(['update'], [''], ['replicationcontrollers/status']),
      res(['update'], [''], ['replicationcontrollers/finalizers']),
      res(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
      EVENTS,
    ],
  },
  {
    name: 'resourcequota-controller',
    rules: [res(['list', 'watch'], ['*'], ['*']), res(['update'], [''], ['resourcequotas/status']), EVENTS],
  },
  {
    name: 'route-controller',
    rules: [res(['list', 'watch'], [''], ['nodes']), res(['patch'], [''], ['nodes/status']), EVENTS],
  },
  { name: 'service-account-controller', rules: [res(['create'], [''], ['serviceaccounts']), EVENTS] },
  {
    name: 'service-controller',
    rules: [
      res(['get', 'list', 'watch'], [''], ['services']),
      res(['patch', 'update'], [''], ['services/status']),
      res(['list', 'watch'], [''], ['nodes']),
      EVENTS,
    ],
  },
  {
    name: 'service-cidrs-controller',
    gate: 'MultiCIDRServiceAllocator',
    rules: [
      res(['get', 'list', 'watch', 'patch', 'update'], ['networking.k8s.io'], ['servicecidrs']),
      res(['patch', 'update'], ['networking.k8s.io'], ['servicecidrs/finalizers']),
      res(['patch', 'update'], ['networking.k8s.io'], ['servicecidrs/status']),
      res(['get', 'list', 'watch'], ['networking.k8s.io'], ['ipaddresses']),
      EVENTS,
    ],
  },
  {
    name: 'statefulset-controller',
    rules: [
      res(['list', 'watch'], [''], ['pods']),
      res(['get', 'list', 'watch'], ['apps'], ['statefulsets']),
      res(['update'], ['apps'], ['statefulsets/status']),
      res(['update'], ['apps'], ['statefulsets/finalizers']),
      res(['get', 'create', 'delete', 'update', 'patch'], [''], ['pods']),
      res(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], ['apps'], ['controllerrevisions']),
      res(['get', 'create', 'list', 'watch'], [''], ['persistentvolumeclaims']),
      EVENTS,
      // StatefulSetAutoDeletePVC is GA (on) in v1.32.
      res(['update', 'delete'], [''], ['persistentvolumeclaims']),
      res(['update'], [''], ['pods/finalizers']),
    ],
  },
  { name: 'ttl-controller', rules: [res(['update', 'patch', 'list', 'watch'], [''], ['nodes']), EVENTS] },
  {
    name: 'certificate-controller',
    rules: [
      res(['get', 'list', 'watch', 'delete'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      res(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/status', 'certificatesigningrequests/approval']),
      res(['approve'], ['certificates.k8s.io'], ['signers'], { resourceNames: [SIGNER_APISERVER_CLIENT_KUBELET] }),
      res(['sign'], ['certificates.k8s.io'], ['signers'], {
        resourceNames: [SIGNER_LEGACY_UNKNOWN, SIGNER_APISERVER_CLIENT, SIGNER_APISERVER_CLIENT_KUBELET, SIGNER_KUBELET_SERVING],
      }),
      res(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      EVENTS,
    ],
  },
  {
    name: 'pvc-protection-controller',
    rules: [
      res(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
      res(['list', 'watch', 'get'], [''], ['pods']),
      EVENTS,
    ],
  },
  { name: 'pv-protection-controller', rules: [res(['get', 'list', 'watch', 'update'], [''], ['persistentvolumes']), EVENTS] },
  {
    name: 'volumeattributesclass-protection-controller',
    gate: 'VolumeAttributesClass',
    rules: [
      res(['list', 'watch', 'get'], [''], ['persistentvolumeclaims']),
      res(['list', 'watch', 'get'], [''], ['persistentvolumes']),
      res(['get', 'list', 'watch', 'update'], ['storage.k8s.io'], ['volumeattributesclasses']),
      EVENTS,
    ],
  },
  { name: 'ttl-after-finished-controller', rules: [res(['get', 'list', 'watch', 'delete'], ['batch'], ['jobs']), EVENTS] },
  { name: 'root-ca-cert-publisher', rules: [res(['create', 'update'], [''], ['configmaps']), EVENTS] },
  {
    name: 'kube-apiserver-serving-clustertrustbundle-publisher',
    gate: 'ClusterTrustBundle',
    rules: [
      res(['attest'], ['certificates.k8s.io'], ['signers'], { resourceNames: ['kubernetes.io/kube-apiserver-serving'] }),
      res(['create', 'update', 'delete', 'list', 'watch'], ['certificates.k8s.io'], ['clustertrustbundles']),
      EVENTS,
    ],
  },
  {
    name: 'validatingadmissionpolicy-status-controller',
    rules: [
      res(['get', 'list', 'watch'], ['admissionregistration.k8s.io'], ['validatingadmissionpolicies']),
      res(['get', 'patch', 'update'], ['admissionregistration.k8s.io'], ['validatingadmissionpolicies/status']),
      EVENTS,
    ],
  },
  {
    // Needs both StorageVersionAPI and APIServerIdentity; the first is the one off by default.
    name: 'storage-version-garbage-collector',
    gate: 'StorageVersionAPI',
    rules: [
      res(['get', 'list', 'watch'], ['coordination.k8s.io'], ['leases']),
      res(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['internal.apiserver.k8s.io'], ['storageversions']),
      res(['get', 'patch', 'update'], ['internal.apiserver.k8s.io'], ['storageversions/status']),
    ],
  },
  {
    name: 'legacy-service-account-token-cleaner',
    rules: [
      res(['get'], [''], ['configmaps'], { resourceNames: ['kube-apiserver-legacy-service-account-token-tracking'] }),
      res(['patch', 'delete'], [''], ['secrets']),
    ],
  },
  {
    name: 'storage-version-migrator-controller',
    gate: 'StorageVersionMigrator',
    rules: [
      res(['list', 'watch', 'create', 'patch'], ['*'], ['*']),
      res(['update'], ['storagemigration.k8s.io'], ['storageversionmigrations/status']),
    ],
  },
  {
    name: 'selinux-warning-controller',
    gate: 'SELinuxChangePolicy',
    rules: [
      EVENTS,
      res(['get', 'list', 'watch'], [''], ['persistentvolumes']),
      res(['get', 'list', 'watch'], [''], ['persistentvolumeclaims']),
      res(['get', 'list', 'watch'], [''], ['pods']),
      res(['get', 'list', 'watch'], ['storage.k8s.io'], ['csidrivers']),
    ],
  },
];

const LEADER_LOCKING = (component: string): RuleSpec[] => [
  res(['watch'], [''], ['configmaps']),
  res(['get', 'update'], [''], ['configmaps'], { resourceNames: [component] }),
  res(['get', 'watch', 'list', 'create', 'update'], ['coordination.k8s.io'], ['leases']),
  res(['get', 'watch', 'list', 'create', 'update'], ['coordination.k8s.io'], ['leasecandidates']),
];

/** namespace_policy.go: Roles in kube-system and kube-public. */
export const NAMESPACE_ROLES: readonly RoleSpec[] = [
  {
    namespace: 'kube-system', name: 'extension-apiserver-authentication-reader',
    rules: [res(['get', 'list', 'watch'], [''], ['configmaps'], { resourceNames: ['extension-apiserver-authentication'] })],
  },
  { namespace: 'kube-system', name: 'system:controller:bootstrap-signer', rules: [res(['get', 'list', 'watch'], [''], ['secrets'])] },
  { namespace: 'kube-system', name: 'system:controller:cloud-provider', rules: [res(['create', 'get', 'list', 'watch'], [''], ['configmaps'])] },
  {
    namespace: 'kube-system', name: 'system:controller:token-cleaner',
    rules: [res(['get', 'list', 'watch', 'delete'], [''], ['secrets']), EVENTS],
  },
  { namespace: 'kube-system', name: 'system::leader-locking-kube-controller-manager', rules: LEADER_LOCKING('kube-controller-manager') },
  { namespace: 'kube-system', name: 'system::leader-locking-kube-scheduler', rules: LEADER_LOCKING('kube-scheduler') },
  {
    namespace: 'kube-public', name: 'system:controller:bootstrap-signer',
    rules: [
      res(['get', 'list', 'watch'], [''], ['configmaps']),
      res(['update'], [''], ['configmaps'], { resourceNames: ['cluster-info'] }),
      EVENTS,
    ],
  },
];

/** namespace_policy.go: RoleBindings in kube-system and kube-public. */
export const NAMESPACE_ROLE_BINDINGS: readonly RoleBindingSpec[] = [
  {
    namespace: 'kube-system', role: 'extension-apiserver-authentication-reader', name: 'system::extension-apiserver-authentication-reader',
    users: ['system:kube-controller-manager', 'system:kube-scheduler'],
  },
  {
    namespace: 'kube-system', role: 'system::leader-locking-kube-controller-manager', users: ['system:kube-controller-manager'],
    serviceAccounts: [['kube-system', 'kube-controller-manager'], ['kube-system', 'leader-election-controller']],
  },
  {
    namespace: 'kube-system', role: 'system::leader-locking-kube-scheduler', users: ['system:kube-scheduler'],
    serviceAccounts: [['kube-system', 'kube-scheduler']],
  },
  { namespace: 'kube-system', role: 'system:controller:bootstrap-signer', serviceAccounts: [['kube-system', 'bootstrap-signer']] },
  { namespace: 'kube-system', role: 'system:controller:cloud-provider', serviceAccounts: [['kube-system', 'cloud-provider']] },
  { namespace: 'kube-system', role: 'system:controller:token-cleaner', serviceAccounts: [['kube-system', 'token-cleaner']] },
  { namespace: 'kube-public', role: 'system:controller:bootstrap-signer', serviceAccounts: [['kube-system', 'bootstrap-signer']] },
];
