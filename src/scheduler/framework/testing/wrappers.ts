// Test builders for scheduler objects (pkg/scheduler/testing wrappers: st.MakePod(), st.MakeNode()),
// plus a framework wired to a snapshot built from objects. For tests only: no src code imports this.

import type { Node, Pod, PodAffinityTerm, Taint, Toleration, TopologySpreadConstraint } from '../../../api/types/core_v1.ts';
import { Snapshot } from '../../cache/snapshot.ts';
import { Framework } from '../framework.ts';
import type { Plugins } from '../profile.ts';
import { CycleState } from '../cycle_state.ts';
import type { Binder, PluginFactory, PodNominator, PreemptionApi, Status } from '../interface.ts';
import { MemoryListers } from '../listers.ts';

let seq = 0;

/** Builds a Pod step by step. */
export class PodWrapper {
  readonly pod: Pod;

  constructor() {
    seq++;
    this.pod = { metadata: { name: '', namespace: '', uid: `uid-${seq}` }, spec: { containers: [] }, status: {} };
  }

  private get spec(): NonNullable<Pod['spec']> {
    return this.pod.spec as NonNullable<Pod['spec']>;
  }

  name(n: string): this {
    (this.pod.metadata as NonNullable<Pod['metadata']>).name = n;
    return this;
  }

  namespace(ns: string): this {
    (this.pod.metadata as NonNullable<Pod['metadata']>).namespace = ns;
    return this;
  }

  uid(u: string): this {
    (this.pod.metadata as NonNullable<Pod['metadata']>).uid = u;
    return this;
  }

  node(n: string): this {
    this.spec.nodeName = n;
    return this;
  }

  schedulerName(n: string): this {
    this.spec.schedulerName = n;
    return this;
  }

  labels(l: Record<string, string>): this {
    (this.pod.metadata as NonNullable<Pod['metadata']>).labels = { ...((this.pod.metadata?.labels) ?? {}), ...l };
    return this;
  }

  label(k: string, v: string): this {
    return this.labels({ [k]: v });
  }

  priority(p: number): this {
    this.spec.priority = p;
    return this;
  }

  /** Adds a container with these requests (st.MakePod().Req). */
  req(requests: Record<string, string>): this {
    this.spec.containers.push({ name: `c${this.spec.containers.length}`, image: 'pause', resources: { requests } });
    return this;
  }

  /** Adds an init container with these requests. */
  initReq(requests: Record<string, string>, sidecar = false): this {
    (this.spec.initContainers ??= []).push({
      name: `i${this.spec.initContainers.length}`, image: 'pause', resources: { requests }, ...(sidecar ? { restartPolicy: 'Always' } : {}),
    });
    return this;
  }

  overhead(o: Record<string, string>): this {
    this.spec.overhead = o;
    return this;
  }

  container(image: string): this {
    this.spec.containers.push({ name: `c${this.spec.containers.length}`, image });
    return this;
  }

  hostPort(port: number, protocol = 'TCP', hostIP = ''): this {
    this.spec.containers.push({ name: `c${this.spec.containers.length}`, image: 'pause', ports: [{ containerPort: port, hostPort: port, protocol, ...(hostIP ? { hostIP } : {}) }] });
    return this;
  }

  nodeSelector(s: Record<string, string>): this {
    this.spec.nodeSelector = s;
    return this;
  }

  toleration(t: Toleration): this {
    (this.spec.tolerations ??= []).push(t);
    return this;
  }

  nodeAffinityIn(key: string, values: string[]): this {
    const na = ((this.spec.affinity ??= {}).nodeAffinity ??= {});
    const req = (na.requiredDuringSchedulingIgnoredDuringExecution ??= { nodeSelectorTerms: [] });
    req.nodeSelectorTerms.push({ matchExpressions: [{ key, operator: 'In', values }] });
    return this;
  }

  podAffinity(topologyKey: string, matchLabels: Record<string, string>, kind: 'required' | 'preferred' = 'required', weight = 1): this {
    const pa = ((this.spec.affinity ??= {}).podAffinity ??= {});
    const term: PodAffinityTerm = { topologyKey, labelSelector: { matchLabels } };
    if (kind === 'required') (pa.requiredDuringSchedulingIgnoredDuringExecution ??= []).push(term);
    else (pa.preferredDuringSchedulingIgnoredDuringExecution ??= []).push({ weight, podAffinityTerm: term });
    return this;
  }

  podAntiAffinity(topologyKey: string, matchLabels: Record<string, string>, kind: 'required' | 'preferred' = 'required', weight = 1): this {
    const pa = ((this.spec.affinity ??= {}).podAntiAffinity ??= {});
    const term: PodAffinityTerm = { topologyKey, labelSelector: { matchLabels } };
    if (kind === 'required') (pa.requiredDuringSchedulingIgnoredDuringExecution ??= []).push(term);
    else (pa.preferredDuringSchedulingIgnoredDuringExecution ??= []).push({ weight, podAffinityTerm: term });
    return this;
  }

  spreadConstraint(maxSkew: number, topologyKey: string, whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway', matchLabels: Record<string, string>, extra: Partial<TopologySpreadConstraint> = {}): this {
    (this.spec.topologySpreadConstraints ??= []).push({ maxSkew, topologyKey, whenUnsatisfiable, labelSelector: { matchLabels }, ...extra });
    return this;
  }

  pvc(claimName: string): this {
    (this.spec.volumes ??= []).push({ name: claimName, persistentVolumeClaim: { claimName } });
    return this;
  }

  schedulingGates(...names: string[]): this {
    this.spec.schedulingGates = names.map((name) => ({ name }));
    return this;
  }

  nominatedNodeName(n: string): this {
    (this.pod.status as NonNullable<Pod['status']>).nominatedNodeName = n;
    return this;
  }

  startTime(t: string): this {
    (this.pod.status as NonNullable<Pod['status']>).startTime = t;
    return this;
  }

  preemptionPolicy(p: string): this {
    this.spec.preemptionPolicy = p;
    return this;
  }

  terminating(): this {
    (this.pod.metadata as NonNullable<Pod['metadata']>).deletionTimestamp = '2024-01-01T00:00:00Z';
    return this;
  }

  obj(): Pod {
    return this.pod;
  }
}

/** Builds a Node step by step. */
export class NodeWrapper {
  readonly node: Node;

  constructor() {
    this.node = { metadata: { name: '', labels: {} }, spec: {}, status: { allocatable: {}, capacity: {} } };
  }

  name(n: string): this {
    const meta = this.node.metadata as NonNullable<Node['metadata']>;
    meta.name = n;
    meta.labels = { 'kubernetes.io/hostname': n, ...(meta.labels ?? {}) };
    return this;
  }

  label(k: string, v: string): this {
    (this.node.metadata as NonNullable<Node['metadata']>).labels![k] = v;
    return this;
  }

  /** Sets capacity and allocatable alike (pods default to 32 when not given). */
  capacity(c: Record<string, string>): this {
    const all = { pods: '32', ...c };
    const st = this.node.status as NonNullable<Node['status']>;
    st.capacity = all;
    st.allocatable = { ...all };
    return this;
  }

  taint(t: Taint): this {
    (this.node.spec!.taints ??= []).push(t);
    return this;
  }

  unschedulable(): this {
    this.node.spec!.unschedulable = true;
    return this;
  }

  image(size: number, ...names: string[]): this {
    ((this.node.status as NonNullable<Node['status']>).images ??= []).push({ names, sizeBytes: size });
    return this;
  }

  obj(): Node {
    return this.node;
  }
}

export function makePod(): PodWrapper {
  return new PodWrapper();
}

export function makeNode(): NodeWrapper {
  return new NodeWrapper();
}

/** Options of newTestFramework. */
export interface TestFrameworkOptions {
  readonly registry: ReadonlyMap<string, PluginFactory>;
  readonly plugins: Plugins;
  readonly pods?: readonly Pod[];
  readonly nodes?: readonly Node[];
  readonly pluginArgs?: ReadonlyMap<string, unknown>;
  readonly listers?: MemoryListers;
  readonly nominator?: PodNominator;
  readonly binder?: Binder;
  readonly preemptionApi?: PreemptionApi;
  readonly requeueAfterBackoff?: (pods: readonly Pod[]) => void;
}

/** A framework for one profile over a snapshot built from the given objects. */
export function newTestFramework(o: TestFrameworkOptions): { fwk: Framework; snapshot: Snapshot; listers: MemoryListers } {
  const snapshot = Snapshot.fromObjects(o.pods ?? [], o.nodes ?? []);
  const listers = o.listers ?? new MemoryListers();
  const fwk = new Framework(o.registry, {
    schedulerName: 'default-scheduler',
    plugins: o.plugins,
    pluginArgs: o.pluginArgs ?? new Map(),
    percentageOfNodesToScore: null,
  }, {
    snapshot,
    listers,
    ...(o.nominator ? { nominator: o.nominator } : {}),
    ...(o.binder ? { binder: o.binder } : {}),
    ...(o.preemptionApi ? { preemptionApi: o.preemptionApi } : {}),
    ...(o.requeueAfterBackoff ? { requeueAfterBackoff: o.requeueAfterBackoff } : {}),
  });
  return { fwk, snapshot, listers };
}

/** A Plugins value enabling the named plugins at every point they implement. */
export function multiPoint(...names: Array<string | { name: string; weight: number }>): Plugins {
  return { multiPoint: { enabled: names.map((n) => (typeof n === 'string' ? { name: n } : n)) } };
}

/** Runs PreFilter and then Filter on every node; each node's status (null for a fit). */
export function filterEach(fwk: Framework, snapshot: Snapshot, pod: Pod): { pre: Status | null; byNode: Map<string, Status | null> } {
  const state = new CycleState();
  const pre = fwk.runPreFilterPlugins(state, pod).status;
  const byNode = new Map<string, Status | null>();
  if (pre !== null && !pre.isSuccess()) return { pre, byNode };
  for (const ni of snapshot.nodeInfoList) byNode.set(ni.name, fwk.runFilterPlugins(state, pod, ni));
  return { pre, byNode };
}

/** Runs PreScore and Score (normalized and weighted) over all nodes; node name -> total. */
export function scoreEach(fwk: Framework, snapshot: Snapshot, pod: Pod): Map<string, number> {
  const state = new CycleState();
  fwk.runPreFilterPlugins(state, pod);
  const nodes = snapshot.nodeInfoList;
  const pre = fwk.runPreScorePlugins(state, pod, nodes);
  if (pre !== null && !pre.isSuccess()) throw pre.asError();
  const totals = fwk.runScorePlugins(state, pod, nodes);
  return new Map(nodes.map((n, i) => [n.name, totals[i] as number]));
}
