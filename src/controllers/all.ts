// Every controller the manager runs: each controller file registers itself on import.
// Append-only list, one line per controller.
import './replicaset/replica_set.ts';
import './replicaset/replication_controller.ts';
import './deployment/deployment_controller.ts';
import './garbage_collector/garbage_collector.ts';
import './namespace/namespace_controller.ts';
import './job/job_controller.ts';
import './ttl_after_finished/ttl_after_finished.ts';
import './cronjob/cronjob_controller.ts';
import './daemonset/daemon_controller.ts';
import './statefulset/stateful_set.ts';
import './endpoints/endpoints_controller.ts';
import './endpointslice/endpointslice_controller.ts';
import './serviceaccount/serviceaccounts_controller.ts';
import './root_ca_publisher/publisher.ts';
import './node_ipam/node_ipam_controller.ts';
import './node_lifecycle/node_lifecycle_controller.ts';
import './node_lifecycle/taint_eviction_controller.ts';
import './pod_gc/gc_controller.ts';
import './resourcequota/resource_quota_controller.ts';
import './disruption/disruption.ts';
import './persistentvolume/pv_controller.ts';
import './horizontalpodautoscaler/horizontal.ts';
import './bootstrap/token_cleaner.ts';
import './bootstrap/bootstrap_signer.ts';
import './pvc_protection/pvc_protection_controller.ts';
import './pv_protection/pv_protection_controller.ts';
