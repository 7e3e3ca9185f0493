// The printer of every built-in resource that upstream gives one, keyed by "group/resource"
// (core resources as "/pods"). Resources not listed print through table.ts's defaultPrinter
// (NAME, CREATED AT), as upstream's Roles, ClusterRoles, LimitRanges, CSIStorageCapacities and
// CustomResourceDefinitions do; custom resources use customResourcePrinter.
import type { Printer } from './table.ts';
import { podPrinter, podTemplatePrinter } from './pods.ts';
import {
  controllerRevisionPrinter, cronJobPrinter, daemonSetPrinter, deploymentPrinter, jobPrinter, replicaSetPrinter,
  replicationControllerPrinter, scalePrinter, statefulSetPrinter,
} from './workloads.ts';
import { horizontalPodAutoscalerPrinter } from './autoscaling.ts';
import {
  endpointSlicePrinter, endpointsPrinter, ingressClassPrinter, ingressPrinter, ipAddressPrinter, networkPolicyPrinter,
  serviceCIDRPrinter, servicePrinter,
} from './services.ts';
import {
  clusterRoleBindingPrinter, configMapPrinter, podDisruptionBudgetPrinter, resourceQuotaPrinter, roleBindingPrinter,
  secretPrinter, serviceAccountPrinter, validatingAdmissionPolicyBindingPrinter, validatingAdmissionPolicyPrinter,
  webhookConfigurationPrinter,
} from './config.ts';
import {
  apiServicePrinter, certificateSigningRequestPrinter, componentStatusPrinter, eventPrinter, leasePrinter,
  namespacePrinter, nodePrinter, priorityClassPrinter, runtimeClassPrinter,
} from './cluster.ts';
import {
  csiDriverPrinter, csiNodePrinter, persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter,
  volumeAttachmentPrinter, volumeAttributesClassPrinter,
} from './storage.ts';

/** The registry key of a resource: "apps/deployments", "/pods" for the core group. */
export function printerKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}

const ENTRIES: [group: string, resource: string, printer: Printer][] = [
  ['', 'pods', podPrinter],
  ['', 'podtemplates', podTemplatePrinter],
  ['', 'replicationcontrollers', replicationControllerPrinter],
  ['', 'services', servicePrinter],
  ['', 'endpoints', endpointsPrinter],
  ['', 'nodes', nodePrinter],
  ['', 'events', eventPrinter],
  ['', 'namespaces', namespacePrinter],
  ['', 'secrets', secretPrinter],
  ['', 'serviceaccounts', serviceAccountPrinter],
  ['', 'configmaps', configMapPrinter],
  ['', 'persistentvolumes', persistentVolumePrinter],
  ['', 'persistentvolumeclaims', persistentVolumeClaimPrinter],
  ['', 'componentstatuses', componentStatusPrinter],
  ['', 'resourcequotas', resourceQuotaPrinter],
  ['apps', 'deployments', deploymentPrinter],
  ['apps', 'replicasets', replicaSetPrinter],
  ['apps', 'statefulsets', statefulSetPrinter],
  ['apps', 'daemonsets', daemonSetPrinter],
  ['apps', 'controllerrevisions', controllerRevisionPrinter],
  ['batch', 'jobs', jobPrinter],
  ['batch', 'cronjobs', cronJobPrinter],
  ['autoscaling', 'horizontalpodautoscalers', horizontalPodAutoscalerPrinter],
  ['networking.k8s.io', 'ingresses', ingressPrinter],
  ['networking.k8s.io', 'ingressclasses', ingressClassPrinter],
  ['networking.k8s.io', 'networkpolicies', networkPolicyPrinter],
  ['networking.k8s.io', 'servicecidrs', serviceCIDRPrinter],
  ['networking.k8s.io', 'ipaddresses', ipAddressPrinter],
  ['discovery.k8s.io', 'endpointslices', endpointSlicePrinter],
  ['policy', 'poddisruptionbudgets', podDisruptionBudgetPrinter],
  ['rbac.authorization.k8s.io', 'rolebindings', roleBindingPrinter],
  ['rbac.authorization.k8s.io', 'clusterrolebindings', clusterRoleBindingPrinter],
  ['storage.k8s.io', 'storageclasses', storageClassPrinter],
  ['storage.k8s.io', 'volumeattributesclasses', volumeAttributesClassPrinter],
  ['storage.k8s.io', 'csidrivers', csiDriverPrinter],
  ['storage.k8s.io', 'csinodes', csiNodePrinter],
  ['storage.k8s.io', 'volumeattachments', volumeAttachmentPrinter],
  ['coordination.k8s.io', 'leases', leasePrinter],
  ['events.k8s.io', 'events', eventPrinter],
  ['scheduling.k8s.io', 'priorityclasses', priorityClassPrinter],
  ['node.k8s.io', 'runtimeclasses', runtimeClassPrinter],
  ['certificates.k8s.io', 'certificatesigningrequests', certificateSigningRequestPrinter],
  ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', webhookConfigurationPrinter],
  ['admissionregistration.k8s.io', 'validatingwebhookconfigurations', webhookConfigurationPrinter],
  ['admissionregistration.k8s.io', 'validatingadmissionpolicies', validatingAdmissionPolicyPrinter],
  ['admissionregistration.k8s.io', 'validatingadmissionpolicybindings', validatingAdmissionPolicyBindingPrinter],
  ['apiregistration.k8s.io', 'apiservices', apiServicePrinter],
];

/** Printers by printerKey(group, resource). */
export const PRINTERS: ReadonlyMap<string, Printer> = new Map(ENTRIES.map(([g, r, p]) => [printerKey(g, r), p]));

/**
 * Printers of subresources whose table differs from their parent's, by subresource name; the
 * status subresource prints with its parent's printer.
 */
export const SUBRESOURCE_PRINTERS: ReadonlyMap<string, Printer> = new Map([['scale', scalePrinter]]);
