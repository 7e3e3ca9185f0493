// The ReplicationController controller (pkg/controller/replication): the ReplicaSet controller
// run over ReplicationControllers, whose map selectors are read as matchLabels.
import { registerController } from '../registry.ts';
import { REPLICATION_CONTROLLER_KIND, ReplicaSetController } from './replica_set.ts';

registerController('replicationcontroller', (ctx) => new ReplicaSetController(ctx, REPLICATION_CONTROLLER_KIND), 5);
