// componentstatuses (`kubectl get cs`): computed on request, never stored, as upstream. Upstream probes
// the scheduler's and controller manager's /healthz on 127.0.0.1; tkube's components may run in any
// server of the cluster, so their health is their leader Lease being held and renewed in time.
import type { Lease } from '../../api/types/coordination_v1.ts';
import { resourceFor } from '../../api/resource_table.ts';
import { newNotFound, toApiError } from '../errors.ts';
import type { GenericStore } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import type { ResourceInfo } from '../../api/resource_types.ts';
import { parseSelection } from '../selection.ts';
import type { HandlerContext } from './context.ts';
import { respondObject } from './respond.ts';
import { warningHeaders } from './read.ts';
import { writeJSON } from '../http_util.ts';

/** The deprecation warning upstream sends with every ComponentStatus request. */
export const COMPONENT_STATUS_WARNING = 'v1 ComponentStatus is deprecated in v1.19+';

/** One component's health: the Healthy condition's fields. */
interface Probe {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly message: string;
  readonly error: string;
}

/** Component name -> the lease its leader renews. */
const LEADER_LEASES: ReadonlyArray<readonly [string, string]> = [
  ['scheduler', 'kube-scheduler'],
  ['controller-manager', 'kube-controller-manager'],
];

/** GET and LIST of componentstatuses. */
export async function handleComponentStatus(ctx: HandlerContext, storeFor: (info: ResourceInfo) => GenericStore, now: () => number = Date.now): Promise<void> {
  ctx.warnings.push(COMPONENT_STATUS_WARNING);
  const names = [...LEADER_LEASES.map(([n]) => n), 'etcd-0'];
  if (ctx.ri.name !== '') {
    // Upstream answers an unknown component with a plain error (500); a 404 says what happened.
    if (!names.includes(ctx.ri.name)) throw newNotFound({ group: '', resource: 'componentstatuses' }, ctx.ri.name);
    respondObject(ctx, 200, await componentStatus(ctx.ri.name, storeFor, now));
    return;
  }
  const sel = parseSelection(ctx.info, '', ctx.query);
  const items = (await Promise.all(names.map((n) => componentStatus(n, storeFor, now)))).filter((o) => sel.matches(o));
  if (ctx.negotiated.as === 'table') {
    writeJSON(ctx.res, 200, ctx.services.toTable(ctx.info, items, { includeObject: ctx.query.get('includeObject') ?? 'Metadata', listMeta: {} }), warningHeaders(ctx));
    return;
  }
  writeJSON(ctx.res, 200, { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items }, warningHeaders(ctx));
}

async function componentStatus(name: string, storeFor: (info: ResourceInfo) => GenericStore, now: () => number): Promise<KObject> {
  const lease = LEADER_LEASES.find(([n]) => n === name)?.[1];
  const probe = lease === undefined ? await probeStorage(storeFor) : await probeLeader(lease, storeFor, now);
  return {
    kind: 'ComponentStatus', apiVersion: 'v1',
    metadata: { name },
    conditions: [{ type: 'Healthy', status: probe.status, message: probe.message, ...(probe.error ? { error: probe.error } : {}) }],
  };
}

async function probeStorage(storeFor: (info: ResourceInfo) => GenericStore): Promise<Probe> {
  try {
    await storeFor(resourceFor('', 'v1', 'namespaces')!).rawStore.currentRevision();
    return { status: 'True', message: 'ok', error: '' };
  } catch (err) {
    return { status: 'False', message: '', error: toApiError(err).message };
  }
}

async function probeLeader(leaseName: string, storeFor: (info: ResourceInfo) => GenericStore, now: () => number): Promise<Probe> {
  let lease: Lease;
  try {
    lease = await storeFor(resourceFor('coordination.k8s.io', 'v1', 'leases')!).get('kube-system', leaseName) as Lease;
  } catch (err) {
    const e = toApiError(err);
    return { status: 'False', message: '', error: e.code === 404 ? `no leader has acquired lease kube-system/${leaseName}` : e.message };
  }
  const spec = lease.spec ?? {};
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
  const durationMs = (spec.leaseDurationSeconds ?? 15) * 1000;
  if (!spec.holderIdentity || Number.isNaN(renewed)) return { status: 'False', message: '', error: `lease kube-system/${leaseName} has no holder` };
  if (now() - renewed > durationMs) {
    return { status: 'False', message: '', error: `leader ${JSON.stringify(spec.holderIdentity)} has not renewed lease kube-system/${leaseName} since ${spec.renewTime}` };
  }
  return { status: 'True', message: 'ok', error: '' };
}
