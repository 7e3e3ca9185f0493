// Imports every admission plugin so each registers itself with types.ts.
import './namespace_lifecycle.ts';
import './limit_ranger.ts';
import './service_account.ts';
import './node_restriction.ts';
import './taint_nodes_by_condition.ts';
import './pod_security.ts';
import './priority.ts';
import './default_toleration_seconds.ts';
import './persistent_volume_claim_resize.ts';
import './runtime_class.ts';
import './default_storage_class.ts';
import './storage_object_in_use_protection.ts';
import './default_ingress_class.ts';
import './mutating_admission_webhook.ts';
import './validating_admission_policy.ts';
import './validating_admission_webhook.ts';
import './resource_quota.ts';
