// Every controller the manager runs: each controller file registers itself on import.
// Append-only list, one line per controller.
import './replicaset/replica_set.ts';
import './replicaset/replication_controller.ts';
import './deployment/deployment_controller.ts';
import './garbage_collector/garbage_collector.ts';
import './namespace/namespace_controller.ts';
