// Printers for pods and pod templates: kubectl's READY, STATUS (the reason a person wants to see:
// ContainerCreating, CrashLoopBackOff, Init:0/1, Terminating ...) and RESTARTS "3 (2m ago)".
import type { Printer, PrintedRow, TableRowCondition } from './table.ts';
import { humanDuration } from './duration.ts';
import {
  age, col, conditionTrue, containerCells, formatLabels, isDeleting, list, nameColumn, parseTime,
  type Container, type KObject, type PodTemplateSpec, type PrintContext,
} from './format.ts';

interface ContainerState {
  waiting?: { reason?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; signal?: number; reason?: string; finishedAt?: string | null };
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  started?: boolean | null;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

interface Pod extends KObject {
  spec?: {
    nodeName?: string;
    containers?: Container[];
    initContainers?: Container[];
    readinessGates?: { conditionType?: string }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    podIP?: string;
    podIPs?: { ip?: string }[];
    nominatedNodeName?: string;
    conditions?: { type?: string; status?: string; reason?: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

/** The kubelet's reason for pods on a node that stopped answering (k8s.io/kubernetes/pkg/util/node). */
const NODE_UNREACHABLE_POD_REASON = 'NodeLost';

const POD_SUCCEEDED: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const POD_FAILED: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

function isRestartableInit(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

/** Tracks the latest lastState.terminated.finishedAt, Go's zero time until one is seen. */
function laterFinish(current: number | undefined, cs: ContainerStatus): number | undefined {
  const t = parseTime(cs.lastState?.terminated?.finishedAt);
  if (t === undefined) return current;
  return current === undefined || current < t ? t : current;
}

function initFailureReason(t: NonNullable<ContainerState['terminated']>): string {
  if (t.reason) return `Init:${t.reason}`;
  if (t.signal) return `Init:Signal:${t.signal}`;
  return `Init:ExitCode:${t.exitCode ?? 0}`;
}

function printPod(obj: KObject, ctx: PrintContext): PrintedRow {
  const pod = obj as Pod;
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const initContainers = list(spec.initContainers);
  const byName = new Map(initContainers.map((c) => [c.name ?? '', c]));

  let restarts = 0;
  let sidecarRestarts = 0;
  let ready = 0;
  const total = list(spec.containers).length + initContainers.filter(isRestartableInit).length;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;

  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  for (const c of list(status.conditions)) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  let initializing = false;
  const initStatuses = list(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    const sidecar = isRestartableInit(byName.get(cs.name ?? ''));
    restarts += cs.restartCount ?? 0;
    lastRestart = laterFinish(lastRestart, cs);
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = laterFinish(lastSidecarRestart, cs);
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && cs.started === true) {
      if (cs.ready) ready++;
      continue;
    }
    if (terminated) reason = initFailureReason(terminated);
    else if (waiting?.reason && waiting.reason !== 'PodInitializing') reason = `Init:${waiting.reason}`;
    else reason = `Init:${i}/${initContainers.length}`;
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status.conditions, 'Initialized')) {
    // Restarts of init containers that ran to completion no longer count once the pod is up.
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = list(status.containerStatuses);
    // Walked backwards so the first container's state has the last word.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount ?? 0;
      lastRestart = laterFinish(lastRestart, cs);
      const st = cs.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode ?? 0}`;
      else if (cs.ready && st.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  if (isDeleting(pod) && status.reason === NODE_UNREACHABLE_POD_REASON) reason = 'Unknown';
  else if (isDeleting(pod) && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsCell = `${restarts} (${humanDuration(ctx.now - lastRestart)} ago)`;
  }

  const podIP = list(status.podIPs)[0]?.ip || status.podIP || '<none>';
  let readinessGates = '<none>';
  const gates = list(spec.readinessGates);
  if (gates.length > 0) {
    let trueCount = 0;
    for (const g of gates) {
      const c = list(status.conditions).find((x) => x.type === g.conditionType);
      if (c?.status === 'True') trueCount++;
    }
    readinessGates = `${trueCount}/${gates.length}`;
  }

  const row: PrintedRow = {
    cells: [
      pod.metadata?.name ?? '',
      `${ready}/${total}`,
      reason,
      restartsCell,
      age(pod, ctx),
      podIP,
      spec.nodeName || '<none>',
      status.nominatedNodeName || '<none>',
      readinessGates,
    ],
    ...(phase === 'Succeeded' ? { conditions: POD_SUCCEEDED } : phase === 'Failed' ? { conditions: POD_FAILED } : {}),
  };
  return row;
}

/** pods: NAME READY STATUS RESTARTS AGE, and IP NODE NOMINATED NODE READINESS GATES with -o wide. */
export const podPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Ready', 'string', 'Ready containers out of all containers of the pod.'),
    col('Status', 'string', 'A summary of the state of the pod and its containers.'),
    col('Restarts', 'string', 'Container restarts in this pod, and how long ago the last one was.'),
    col('Age', 'string', 'Time since the object was created.'),
    col('IP', 'string', 'The primary IP address of the pod.', 1),
    col('Node', 'string', 'The node the pod is bound to.', 1),
    col('Nominated Node', 'string', 'The node the scheduler nominated after preempting other pods.', 1),
    col('Readiness Gates', 'string', 'Readiness gates that are true out of all readiness gates.', 1),
  ],
  row: printPod,
};

interface PodTemplate extends KObject {
  template?: PodTemplateSpec;
}

/** podtemplates: NAME CONTAINERS IMAGES POD LABELS (no age, as upstream). */
export const podTemplatePrinter: Printer = {
  columns: [
    nameColumn(),
    col('Containers', 'string', 'Names of the containers in the template.'),
    col('Images', 'string', 'Images of the containers in the template.'),
    col('Pod Labels', 'string', 'Labels of the pods made from the template.'),
  ],
  row: (obj) => {
    const t = (obj as PodTemplate).template;
    const [names, images] = containerCells(t?.spec?.containers);
    return { cells: [obj.metadata?.name ?? '', names, images, formatLabels(t?.metadata?.labels)] };
  },
};
