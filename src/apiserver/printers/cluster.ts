// Printers for cluster-level objects: namespaces, nodes (STATUS "Ready,SchedulingDisabled",
// ROLES), events (LAST SEEN TYPE REASON OBJECT MESSAGE, core/v1 and events.k8s.io/v1 alike),
// leases, component statuses, priority and runtime classes, certificate signing requests and
// API services.
import { compareGoStrings } from '../../api/go_strings.ts';
import type { Printer, PrintedRow } from './table.ts';
import { humanDuration } from './duration.ts';
import { age, ageColumn, col, int, list, nameColumn, parseTime, since, type KObject, type PrintContext } from './format.ts';

interface Namespace extends KObject {
  status?: { phase?: string };
}

/** namespaces: NAME STATUS AGE. */
export const namespacePrinter: Printer = {
  columns: [nameColumn(), col('Status', 'string', 'The phase of the namespace.'), ageColumn()],
  row: (obj, ctx) => ({ cells: [obj.metadata?.name ?? '', (obj as Namespace).status?.phase ?? '', age(obj, ctx)] }),
};

interface Node extends KObject {
  spec?: { unschedulable?: boolean };
  status?: {
    conditions?: { type?: string; status?: string }[];
    addresses?: { type?: string; address?: string }[];
    nodeInfo?: { kubeletVersion?: string; osImage?: string; kernelVersion?: string; containerRuntimeVersion?: string };
  };
}

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/** Roles from node-role.kubernetes.io/<role> label keys and the kubernetes.io/role label's value. */
function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role !== '') roles.add(role);
    } else if (k === NODE_ROLE_LABEL && v !== '') {
      roles.add(v);
    }
  }
  const text = [...roles].sort(compareGoStrings).join(',');
  return text === '' ? '<none>' : text;
}

function nodeStatus(node: Node): string {
  // Only the Ready condition is shown; "Not" + type when it is False or Unknown.
  const ready = list(node.status?.conditions).filter((c) => c.type === 'Ready').at(-1);
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeAddress(node: Node, type: string): string {
  return list(node.status?.addresses).find((a) => a.type === type)?.address ?? '<none>';
}

/** nodes: NAME STATUS ROLES AGE VERSION (+ INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME). */
export const nodePrinter: Printer = {
  columns: [
    nameColumn(),
    col('Status', 'string', 'Whether the node is ready and schedulable.'),
    col('Roles', 'string', 'Roles given to the node by its labels.'),
    ageColumn(),
    col('Version', 'string', 'The kubelet version the node reports.'),
    col('Internal-IP', 'string', 'The first internal address of the node.', 1),
    col('External-IP', 'string', 'The first external address of the node.', 1),
    col('OS-Image', 'string', 'The operating system image the node reports.', 1),
    col('Kernel-Version', 'string', 'The kernel version the node reports.', 1),
    col('Container-Runtime', 'string', 'The container runtime version the node reports.', 1),
  ],
  row: (obj, ctx) => {
    const n = obj as Node;
    const info = n.status?.nodeInfo ?? {};
    return {
      cells: [
        n.metadata?.name ?? '',
        nodeStatus(n),
        nodeRoles(n),
        age(n, ctx),
        info.kubeletVersion ?? '',
        nodeAddress(n, 'InternalIP'),
        nodeAddress(n, 'ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ],
    };
  },
};

/** A core/v1 Event, the fields printers read. */
interface CoreEvent extends KObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string | null } | null;
  involvedObject?: { kind?: string; name?: string; fieldPath?: string };
  source?: { component?: string; host?: string };
  reportingController?: string;
  reportingInstance?: string;
}

/** events.k8s.io/v1 names for the same fields. */
interface EventsV1Event extends CoreEvent {
  regarding?: CoreEvent['involvedObject'];
  note?: string;
  deprecatedCount?: number;
  deprecatedFirstTimestamp?: string | null;
  deprecatedLastTimestamp?: string | null;
  deprecatedSource?: CoreEvent['source'];
}

/** Both event APIs print through the core shape, as upstream prints both from its internal type. */
function asCoreEvent(obj: KObject): CoreEvent {
  const e = obj as EventsV1Event;
  if (e.apiVersion !== 'events.k8s.io/v1' && e.involvedObject !== undefined) return e;
  if (e.apiVersion !== 'events.k8s.io/v1' && e.regarding === undefined && e.note === undefined) return e;
  return {
    ...e,
    involvedObject: e.regarding,
    message: e.note,
    count: e.deprecatedCount,
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    source: e.deprecatedSource,
  };
}

function printEvent(obj: KObject, ctx: PrintContext): PrintedRow {
  const e = asCoreEvent(obj);
  const first = parseTime(e.firstTimestamp) === undefined ? since(e.eventTime, ctx) : since(e.firstTimestamp, ctx);
  let last = parseTime(e.lastTimestamp) === undefined ? first : since(e.lastTimestamp, ctx);
  let count = int(e.count);
  if (e.series) {
    last = since(e.series.lastObservedTime, ctx);
    count = int(e.series.count);
  } else if (count === 0) {
    // Singleton events of the new API carry no count.
    count = 1;
  }
  const inv = e.involvedObject ?? {};
  const kind = (inv.kind ?? '').toLowerCase();
  const target = inv.name ? `${kind}/${inv.name}` : kind;
  const component = e.source?.component || e.reportingController || '';
  const instance = e.source?.host || e.reportingInstance || '';
  const source = instance === '' ? component : `${component}, ${instance}`;
  return {
    cells: [last, e.type ?? '', e.reason ?? '', target, inv.fieldPath ?? '', source, (e.message ?? '').trim(), first, count, e.metadata?.name ?? ''],
  };
}

/** events: LAST SEEN TYPE REASON OBJECT MESSAGE (+ SUBOBJECT SOURCE FIRST SEEN COUNT NAME). */
export const eventPrinter: Printer = {
  columns: [
    col('Last Seen', 'string', 'Time since the event was last seen.'),
    col('Type', 'string', 'Normal or Warning.'),
    col('Reason', 'string', 'Why the event happened, in one word.'),
    col('Object', 'string', 'The object the event is about.'),
    col('Subobject', 'string', 'The part of the object the event is about.', 1),
    col('Source', 'string', 'The component that reported the event.', 1),
    col('Message', 'string', 'What happened.'),
    col('First Seen', 'string', 'Time since the event was first seen.', 1),
    col('Count', 'string', 'How many times the event happened.', 1),
    nameColumn(1),
  ],
  row: printEvent,
};

interface Lease extends KObject {
  spec?: { holderIdentity?: string | null };
}

/** leases: NAME HOLDER AGE. */
export const leasePrinter: Printer = {
  columns: [nameColumn(), col('Holder', 'string', 'The identity holding the lease.'), ageColumn()],
  row: (obj, ctx) => ({ cells: [obj.metadata?.name ?? '', (obj as Lease).spec?.holderIdentity ?? '', age(obj, ctx)] }),
};

interface ComponentStatus extends KObject {
  conditions?: { type?: string; status?: string; message?: string; error?: string }[];
}

/** componentstatuses: NAME STATUS MESSAGE ERROR (no age, as upstream). */
export const componentStatusPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Status', 'string', 'Healthy, Unhealthy or Unknown.'),
    col('Message', 'string', 'The message of the health condition.'),
    col('Error', 'string', 'The error of the health condition.'),
  ],
  row: (obj) => {
    const cs = obj as ComponentStatus;
    const healthy = list(cs.conditions).find((c) => c.type === 'Healthy');
    const status = healthy ? (healthy.status === 'True' ? 'Healthy' : 'Unhealthy') : 'Unknown';
    return { cells: [cs.metadata?.name ?? '', status, healthy?.message ?? '', healthy?.error ?? ''] };
  },
};

interface PriorityClass extends KObject {
  value?: number;
  globalDefault?: boolean;
  preemptionPolicy?: string | null;
}

/** priorityclasses: NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY. */
export const priorityClassPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Value', 'integer', 'The priority pods of this class get.'),
    col('Global-Default', 'boolean', 'Whether pods without a class get this one.'),
    ageColumn(),
    col('PreemptionPolicy', 'string', 'Whether pods of this class preempt lower-priority pods.'),
  ],
  row: (obj, ctx) => {
    const pc = obj as PriorityClass;
    return { cells: [pc.metadata?.name ?? '', int(pc.value), pc.globalDefault === true, age(pc, ctx), pc.preemptionPolicy ?? ''] };
  },
};

interface RuntimeClass extends KObject {
  handler?: string;
}

/** runtimeclasses: NAME HANDLER AGE. */
export const runtimeClassPrinter: Printer = {
  columns: [nameColumn(), col('Handler', 'string', 'The CRI handler that runs pods of this class.'), ageColumn()],
  row: (obj, ctx) => ({ cells: [obj.metadata?.name ?? '', (obj as RuntimeClass).handler ?? '', age(obj, ctx)] }),
};

interface CertificateSigningRequest extends KObject {
  spec?: { signerName?: string; username?: string; expirationSeconds?: number | null };
  status?: { conditions?: { type?: string }[]; certificate?: string };
}

/** extractCSRStatus: Denied, else Approved, else Pending; then ",Failed" and ",Issued". */
function csrCondition(csr: CertificateSigningRequest): string {
  const types = new Set(list(csr.status?.conditions).map((c) => c.type));
  let status = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) status += ',Failed';
  if (csr.status?.certificate) status += ',Issued';
  return status;
}

/** certificatesigningrequests: NAME AGE SIGNERNAME REQUESTOR REQUESTEDDURATION CONDITION. */
export const certificateSigningRequestPrinter: Printer = {
  columns: [
    nameColumn(),
    ageColumn(),
    col('SignerName', 'string', 'The signer asked to sign the request.'),
    col('Requestor', 'string', 'The user who made the request.'),
    col('RequestedDuration', 'string', 'The validity the requestor asked for.'),
    col('Condition', 'string', 'Whether the request is approved, denied, failed or issued.'),
  ],
  row: (obj, ctx) => {
    const csr = obj as CertificateSigningRequest;
    const exp = csr.spec?.expirationSeconds;
    return {
      cells: [
        csr.metadata?.name ?? '',
        age(csr, ctx),
        csr.spec?.signerName || '<none>',
        csr.spec?.username ?? '',
        typeof exp === 'number' ? humanDuration(exp * 1000) : '<none>',
        csrCondition(csr),
      ],
    };
  },
};

interface APIService extends KObject {
  spec?: { service?: { namespace?: string; name?: string } | null };
  status?: { conditions?: { type?: string; status?: string; reason?: string }[] };
}

/** apiservices: NAME SERVICE AVAILABLE AGE; kube-aggregator sends its columns even with noHeaders. */
export const apiServicePrinter: Printer = {
  columns: [
    nameColumn(),
    col('Service', 'string', 'The service that serves this API, or Local.'),
    col('Available', 'string', 'Whether the API is available.'),
    ageColumn(),
  ],
  ignoresNoHeaders: true,
  row: (obj, ctx) => {
    const a = obj as APIService;
    const svc = a.spec?.service;
    const cond = list(a.status?.conditions).find((c) => c.type === 'Available');
    let available = 'Unknown';
    if (cond) {
      if (cond.status === 'True') available = 'True';
      else available = cond.reason ? `${cond.status ?? ''} (${cond.reason})` : (cond.status ?? '');
    }
    return { cells: [a.metadata?.name ?? '', svc ? `${svc.namespace ?? ''}/${svc.name ?? ''}` : 'Local', available, age(a, ctx)] };
  },
};
