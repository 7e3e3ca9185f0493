// Runs one profile's plugins at each extension point (runtime/framework.go): builds every named
// plugin once from the registry, keeps per-point lists in configured order, applies score weights,
// holds pods waiting at Permit, and is the Handle plugins call back into (nominated pods, snapshot).

import { logger as baseLogger, type Logger } from '../../base/log.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import { realClock, type Clock } from './clock.ts';
import { CycleState } from './cycle_state.ts';
import {
  ActionType,
  Code,
  EventResource,
  MaxNodeScore,
  MinNodeScore,
  Status,
  asStatus,
  newStatus,
  type BindPlugin,
  type Binder,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeToStatusReader,
  type PermitPlugin,
  type Plugin,
  type PluginStatus,
  type PodNominator,
  type PostBindPlugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreEnqueuePlugin,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type PreemptionApi,
  type QueueSortPlugin,
  type ReservePlugin,
  type ScorePlugin,
  type SharedLister,
  type VolumeBindingApi,
  type WaitingPod,
} from './interface.ts';
import { MemoryListers, type ClusterListers } from './listers.ts';
import { NodeInfo } from './node_info.ts';
import { podPriority, type PodInfo, type QueuedPodInfo } from './pod_info.ts';
import { expandPlugins, extensionPoints, pointMethods, type ProfileSpec } from './profile.ts';
import type { Registry } from './registry.ts';
import { WaitingPodImpl } from './waiting_pod.ts';

/** What a framework needs from its surroundings. */
export interface FrameworkOptions {
  readonly snapshot: SharedLister;
  readonly listers?: ClusterListers;
  readonly binder?: Binder;
  readonly preemptionApi?: PreemptionApi;
  readonly volumeBindingApi?: VolumeBindingApi;
  readonly nominator?: PodNominator;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** The scheduling queue's requeue (Handle.requeueAfterBackoff); nothing when absent. */
  readonly requeueAfterBackoff?: (pods: readonly Pod[]) => void;
  /** The scheduler cache's membership test (Handle.podInCache); the snapshot's pods when absent. */
  readonly podInCache?: (uid: string) => boolean;
}

/** A PreFilter plugin's extensions with the plugin's name, for error messages. */
interface ActiveExtension {
  readonly name: string;
  readonly ext: PreFilterExtensions;
}

/** Permit may hold a pod at most this long. */
const maxPermitTimeoutMs = 15 * 60 * 1000;

const noVolumeBindingApi: VolumeBindingApi = {
  bindPodVolumes: () => Promise.reject(new Error('no volume binding API configured')),
};
const noNominator: PodNominator = { nominatedPodsForNode: () => [] };
const noBinder: Binder = { bind: () => Promise.reject(new Error('no binder configured')) };
const noPreemptionApi: PreemptionApi = {
  preemptPod: () => Promise.reject(new Error('no preemption API configured')),
  clearNominatedNodeName: () => Promise.resolve(),
};

/** Every event, for plugins that do not say which events matter to them. */
const allEvents: readonly ClusterEventWithHint[] = [{ event: { resource: EventResource.WildCard, actionType: ActionType.All } }];

function implementsPoint(p: Plugin, method: string): boolean {
  return typeof (p as unknown as Record<string, unknown>)[method] === 'function';
}

/** The result of the PreFilter point. */
export interface PreFilterOutcome {
  readonly result: PreFilterResult | null;
  readonly status: PluginStatus;
  /** Plugins whose PreFilterResult narrowed the nodes. */
  readonly pluginsWithNodes: readonly string[];
}

/** One profile's plugins and how to run them (frameworkImpl). */
export class Framework implements Handle {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number | null;
  readonly listers: ClusterListers;
  readonly binder: Binder;
  readonly preemptionApi: PreemptionApi;
  readonly volumeBindingApi: VolumeBindingApi;
  readonly nominator: PodNominator;
  private readonly snapshot: SharedLister;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly requeue: (pods: readonly Pod[]) => void;
  private readonly inCache: ((uid: string) => boolean) | undefined;
  private readonly plugins = new Map<string, Plugin>();
  private readonly queueSortPlugin: QueueSortPlugin | null;
  private readonly preEnqueuePlugins: PreEnqueuePlugin[];
  private readonly preFilterPlugins: PreFilterPlugin[];
  private readonly filterPlugins: FilterPlugin[];
  private readonly postFilterPlugins: PostFilterPlugin[];
  private readonly preScorePlugins: PreScorePlugin[];
  private readonly scorePlugins: ScorePlugin[];
  private readonly scoreWeights: number[];
  private readonly reservePlugins: ReservePlugin[];
  private readonly permitPlugins: PermitPlugin[];
  private readonly preBindPlugins: PreBindPlugin[];
  private readonly bindPlugins: BindPlugin[];
  private readonly postBindPlugins: PostBindPlugin[];
  private readonly waitingPods = new Map<string, WaitingPodImpl>();
  /** Where runFilterPluginsWithNominatedPods adds the nominated pods to a copy of the node. */
  private readonly nominatedScratch = new NodeInfo();

  constructor(registry: Registry, profile: ProfileSpec, options: FrameworkOptions) {
    this.profileName = profile.schedulerName;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore;
    this.snapshot = options.snapshot;
    this.listers = options.listers ?? new MemoryListers();
    this.binder = options.binder ?? noBinder;
    this.preemptionApi = options.preemptionApi ?? noPreemptionApi;
    this.volumeBindingApi = options.volumeBindingApi ?? noVolumeBindingApi;
    this.nominator = options.nominator ?? noNominator;
    this.clock = options.clock ?? realClock;
    this.log = options.log ?? baseLogger('scheduler');
    this.requeue = options.requeueAfterBackoff ?? (() => undefined);
    this.inCache = options.podInCache;

    // Every plugin named anywhere is built once and shared by the points it serves.
    const names = new Set<string>();
    for (const key of [...extensionPoints, 'multiPoint'] as const) {
      for (const e of profile.plugins[key]?.enabled ?? []) names.add(e.name);
    }
    for (const name of names) {
      const factory = registry.get(name);
      if (factory === undefined) throw new Error(`${JSON.stringify(name)} does not exist`);
      this.plugins.set(name, factory(profile.pluginArgs.get(name), this));
    }
    const { byPoint: p, weights } = expandPlugins(profile.plugins, (name, point) => {
      const plugin = this.plugins.get(name);
      return plugin !== undefined && implementsPoint(plugin, pointMethods[point]);
    });
    const pick = <T extends Plugin>(names: readonly string[], method: string, point: string): T[] =>
      names.map((n) => {
        const plugin = this.plugins.get(n) as Plugin;
        if (!implementsPoint(plugin, method)) throw new Error(`plugin ${JSON.stringify(n)} does not extend ${point} plugin`);
        return plugin as T;
      });
    const queueSort = pick<QueueSortPlugin>(p.queueSort, 'less', 'QueueSort');
    if (queueSort.length > 1) throw new Error('only one queue sort plugin can be enabled');
    this.queueSortPlugin = queueSort[0] ?? null;
    this.preEnqueuePlugins = pick(p.preEnqueue, 'preEnqueue', 'PreEnqueue');
    this.preFilterPlugins = pick(p.preFilter, 'preFilter', 'PreFilter');
    this.filterPlugins = pick(p.filter, 'filter', 'Filter');
    this.postFilterPlugins = pick(p.postFilter, 'postFilter', 'PostFilter');
    this.preScorePlugins = pick(p.preScore, 'preScore', 'PreScore');
    this.scorePlugins = pick(p.score, 'score', 'Score');
    this.scoreWeights = p.score.map((n) => weights.get(n) ?? 1);
    this.reservePlugins = pick(p.reserve, 'reserve', 'Reserve');
    this.permitPlugins = pick(p.permit, 'permit', 'Permit');
    this.preBindPlugins = pick(p.preBind, 'preBind', 'PreBind');
    this.bindPlugins = pick(p.bind, 'bind', 'Bind');
    this.postBindPlugins = pick(p.postBind, 'postBind', 'PostBind');
  }

  snapshotSharedLister(): SharedLister {
    return this.snapshot;
  }

  /** The plugin instance with this name, if enabled. */
  plugin(name: string): Plugin | undefined {
    return this.plugins.get(name);
  }

  hasFilterPlugins(): boolean {
    return this.filterPlugins.length > 0;
  }

  hasScorePlugins(): boolean {
    return this.scorePlugins.length > 0;
  }

  hasPostFilterPlugins(): boolean {
    return this.postFilterPlugins.length > 0;
  }

  /** The QueueSort plugin's order; FIFO when none is configured. */
  queueSortLess(): (a: QueuedPodInfo, b: QueuedPodInfo) => boolean {
    const qs = this.queueSortPlugin;
    return qs === null ? (a, b) => a.timestamp < b.timestamp : (a, b) => qs.less(a, b);
  }

  /** Each plugin's registered events; plugins without EnqueueExtensions react to every event. */
  /** The profile's PreEnqueue plugins that say which events matter to them (EnqueueExtensions). */
  preEnqueuePluginsWithEvents(): string[] {
    return this.preEnqueuePlugins.filter((p) => typeof (p as Partial<EnqueueExtensions>).eventsToRegister === 'function').map((p) => p.name);
  }

  eventsToRegister(): Map<string, readonly ClusterEventWithHint[]> {
    const out = new Map<string, readonly ClusterEventWithHint[]>();
    for (const [name, p] of this.plugins) {
      const ext = p as Partial<EnqueueExtensions>;
      out.set(name, typeof ext.eventsToRegister === 'function' ? ext.eventsToRegister() : allEvents);
    }
    return out;
  }

  reportError(message: string, err: unknown): void {
    this.log.error(message, { err: err instanceof Error ? err.message : String(err) });
  }

  // ---- PreEnqueue ----

  /** The first PreEnqueue rejection, with its plugin set; null when all allow the pod. */
  runPreEnqueuePlugins(pod: Pod): PluginStatus {
    for (const pl of this.preEnqueuePlugins) {
      const s = pl.preEnqueue(pod);
      if (s === null || s.isSuccess()) continue;
      s.plugin = pl.name;
      if (!s.isRejected()) return asStatus(new Error(`running PreEnqueue plugin ${JSON.stringify(pl.name)}: ${s.message()}`)).withPlugin(pl.name);
      return s;
    }
    return null;
  }

  // ---- PreFilter / Filter ----

  runPreFilterPlugins(state: CycleState, pod: Pod): PreFilterOutcome {
    const nodes = this.snapshot.nodeInfos().list();
    let result: PreFilterResult | null = null;
    let returnStatus: PluginStatus = null;
    const pluginsWithNodes: string[] = [];
    let skip: Set<string> | null = null;
    for (const pl of this.preFilterPlugins) {
      const [r, s] = pl.preFilter(state, pod, nodes);
      if (s !== null && s.isSkip()) {
        (skip ??= new Set()).add(pl.name);
        continue;
      }
      if (s !== null && !s.isSuccess()) {
        s.plugin = pl.name;
        if (s.code === Code.UnschedulableAndUnresolvable) return { result: null, status: s, pluginsWithNodes: [] };
        if (s.code === Code.Unschedulable) {
          // Keep going: preemption may still help, and it needs every PreFilter's state.
          returnStatus = s;
          continue;
        }
        return { result: null, status: asStatus(new Error(`running PreFilter plugin ${JSON.stringify(pl.name)}: ${s.message()}`)).withPlugin(pl.name), pluginsWithNodes: [] };
      }
      if (r !== null && r.nodeNames !== null) {
        pluginsWithNodes.push(pl.name);
        result = mergePreFilterResults(result, r);
        if (result.nodeNames !== null && result.nodeNames.size === 0) {
          const msg = pluginsWithNodes.length === 1
            ? `node(s) didn't satisfy plugin ${pluginsWithNodes[0]}`
            : `node(s) didn't satisfy plugin(s) [${pluginsWithNodes.join(' ')}] simultaneously`;
          return { result, status: newStatus(Code.UnschedulableAndUnresolvable, msg), pluginsWithNodes };
        }
      }
    }
    if (skip !== null) state.skipFilterPlugins = skip;
    state.activeFilters = null;
    state.activePreFilterExtensions = null;
    return { result, status: returnStatus, pluginsWithNodes };
  }

  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const active = this.activePreFilterExtensions(state);
    for (let i = 0; i < active.length; i++) {
      const { name, ext } = active[i] as ActiveExtension;
      const s = ext.addPod(state, podToSchedule, podInfoToAdd, nodeInfo);
      if (s !== null && !s.isSuccess()) {
        return asStatus(new Error(`running AddPod on PreFilter plugin ${JSON.stringify(name)}: ${s.message()}`)).withPlugin(name);
      }
    }
    return null;
  }

  hasPreFilterExtensions(state: CycleState): boolean {
    return this.activePreFilterExtensions(state).length > 0;
  }

  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): PluginStatus {
    const active = this.activePreFilterExtensions(state);
    for (let i = 0; i < active.length; i++) {
      const { name, ext } = active[i] as ActiveExtension;
      const s = ext.removePod(state, podToSchedule, podInfoToRemove, nodeInfo);
      if (s !== null && !s.isSuccess()) {
        return asStatus(new Error(`running RemovePod on PreFilter plugin ${JSON.stringify(name)}: ${s.message()}`)).withPlugin(name);
      }
    }
    return null;
  }

  /** The PreFilter extensions of the plugins not skipped at PreFilter, kept in the state like activeFilterPlugins. */
  private activePreFilterExtensions(state: CycleState): readonly ActiveExtension[] {
    const cached = state.activePreFilterExtensions;
    if (cached !== null && cached.owner === this) return cached.extensions as readonly ActiveExtension[];
    const extensions: ActiveExtension[] = [];
    for (const pl of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const ext = pl.preFilterExtensions?.();
      if (ext) extensions.push({ name: pl.name, ext });
    }
    state.activePreFilterExtensions = { owner: this, extensions };
    return extensions;
  }

  /** The first Filter failure for the node (with its plugin set), or null when it fits. */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const plugins = this.activeFilterPlugins(state);
    for (let i = 0; i < plugins.length; i++) {
      const pl = plugins[i] as FilterPlugin;
      const s = pl.filter(state, pod, nodeInfo);
      if (s === null || s.code === Code.Success) continue;
      if (!s.isRejected()) {
        return asStatus(new Error(`running ${JSON.stringify(pl.name)} filter plugin: ${s.message()}`)).withPlugin(pl.name);
      }
      s.plugin = pl.name;
      return s;
    }
    return null;
  }

  /** The Filter plugins not skipped at PreFilter, kept in the state (skips are set once, at PreFilter). */
  private activeFilterPlugins(state: CycleState): readonly FilterPlugin[] {
    const cached = state.activeFilters;
    if (cached !== null && cached.owner === this) return cached.plugins as readonly FilterPlugin[];
    const skip = state.skipFilterPlugins;
    const plugins = skip.size === 0 ? this.filterPlugins : this.filterPlugins.filter((pl) => !skip.has(pl.name));
    state.activeFilters = { owner: this, plugins };
    return plugins;
  }

  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const nominated = this.nominator.nominatedPodsForNode(nodeInfo.name);
    if (nominated.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    // First pass with the nominated pods of equal or higher priority counted as running: this pod
    // must not take room freed for them. Second pass without them, since affinity may need them absent.
    let stateToUse = state;
    let nodeInfoToUse = nodeInfo;
    let added = false;
    const prio = podPriority(pod);
    const uid = pod.metadata?.uid;
    for (const pi of nominated) {
      if (podPriority(pi.pod) < prio || pi.uid === uid) continue;
      if (!added) {
        // A scratch copy: Filter plugins keep nothing of the NodeInfo past the call.
        nodeInfoToUse = this.nominatedScratch;
        nodeInfoToUse.copyFrom(nodeInfo);
        if (this.hasPreFilterExtensions(state)) stateToUse = state.clone();
        added = true;
      }
      nodeInfoToUse.addPodInfo(pi);
      const s = this.runPreFilterExtensionAddPod(stateToUse, pod, pi, nodeInfoToUse);
      if (s !== null && !s.isSuccess()) return s;
    }
    const first = this.runFilterPlugins(stateToUse, pod, nodeInfoToUse);
    if (!added || first !== null) return first;
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  // ---- PostFilter ----

  runPostFilterPlugins(state: CycleState, pod: Pod, filtered: NodeToStatusReader): { result: PostFilterResult | null; status: Status } {
    let result: PostFilterResult | null = null;
    const reasons: string[] = [];
    let rejector = '';
    for (const pl of this.postFilterPlugins) {
      const { result: r, status: s } = pl.postFilter(state, pod, filtered);
      if (s === null || s.isSuccess()) return { result: r, status: s ?? new Status(Code.Success) };
      if (s.code === Code.UnschedulableAndUnresolvable) return { result: r, status: s.withPlugin(pl.name) };
      if (!s.isRejected()) return { result: null, status: asStatus(s.asError()).withPlugin(pl.name) };
      if (r !== null && r.nominatedNodeName !== null) result = r;
      reasons.push(...s.allReasons());
      if (rejector === '') rejector = pl.name;
    }
    return { result, status: new Status(Code.Unschedulable, reasons).withPlugin(rejector) };
  }

  // ---- PreScore / Score ----

  runPreScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PluginStatus {
    let skip: Set<string> | null = null;
    for (const pl of this.preScorePlugins) {
      const s = pl.preScore(state, pod, nodes);
      if (s === null || s.isSuccess()) continue;
      if (s.isSkip()) {
        (skip ??= new Set()).add(pl.name);
        continue;
      }
      return asStatus(new Error(`running PreScore plugin ${JSON.stringify(pl.name)}: ${s.message()}`)).withPlugin(pl.name);
    }
    if (skip !== null) state.skipScorePlugins = skip;
    return null;
  }

  /**
   * Scores every node with every Score plugin, normalizes, applies weights and returns the totals,
   * parallel to `nodes` (RunScorePlugins). Throws the failing status's error.
   */
  runScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    const skip = state.skipScorePlugins;
    for (let p = 0; p < this.scorePlugins.length; p++) {
      const pl = this.scorePlugins[p] as ScorePlugin;
      if (skip.size > 0 && skip.has(pl.name)) continue;
      const scores = new Array<number>(nodes.length);
      for (let i = 0; i < nodes.length; i++) {
        const r = pl.score(state, pod, nodes[i] as NodeInfo);
        if (typeof r !== 'number') {
          throw new Error(`running Score plugin ${JSON.stringify(pl.name)}: ${r.message()}`);
        }
        scores[i] = r;
      }
      if (pl.normalizeScore) {
        const s = pl.normalizeScore(state, pod, nodes, scores);
        if (s !== null && !s.isSuccess()) throw new Error(`running Normalize on Score plugin ${JSON.stringify(pl.name)}: ${s.message()}`);
      }
      const weight = this.scoreWeights[p] as number;
      for (let i = 0; i < nodes.length; i++) {
        const score = scores[i] as number;
        if (score > MaxNodeScore || score < MinNodeScore) {
          throw new Error(`plugin ${JSON.stringify(pl.name)} returns an invalid score ${score}, it should in the range of [${MinNodeScore}, ${MaxNodeScore}] after normalizing`);
        }
        totals[i] = (totals[i] as number) + score * weight;
      }
    }
    return totals;
  }

  // ---- Reserve / Permit ----

  runReservePluginsReserve(state: CycleState, pod: Pod, nodeName: string): PluginStatus {
    for (const pl of this.reservePlugins) {
      const s = pl.reserve(state, pod, nodeName);
      if (s === null || s.isSuccess()) continue;
      if (s.isRejected()) return s.withPlugin(pl.name);
      return asStatus(new Error(`running Reserve plugin ${JSON.stringify(pl.name)}: ${s.message()}`)).withPlugin(pl.name);
    }
    return null;
  }

  /** Unreserve runs in reverse order, so plugins undo in the opposite order they reserved. */
  runReservePluginsUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) (this.reservePlugins[i] as ReservePlugin).unreserve(state, pod, nodeName);
  }

  runPermitPlugins(state: CycleState, pod: Pod, nodeName: string): PluginStatus {
    const waits = new Map<string, number>();
    for (const pl of this.permitPlugins) {
      const { status: s, timeoutMs } = pl.permit(state, pod, nodeName);
      if (s === null || s.isSuccess()) continue;
      if (s.isRejected()) return s.withPlugin(pl.name);
      if (s.isWait()) {
        waits.set(pl.name, Math.min(timeoutMs, maxPermitTimeoutMs));
        continue;
      }
      return asStatus(new Error(`running Permit plugin ${JSON.stringify(pl.name)}: ${s.message()}`)).withPlugin(pl.name);
    }
    if (waits.size > 0) {
      this.waitingPods.set(pod.metadata?.uid ?? '', new WaitingPodImpl(pod, waits, this.clock));
      return newStatus(Code.Wait, `one or more plugins asked to wait and no plugin rejected pod ${JSON.stringify(pod.metadata?.name ?? '')}`);
    }
    return null;
  }

  /** Waits for a pod held at Permit (WaitOnPermit); immediate success for pods not waiting. */
  async waitOnPermit(pod: Pod): Promise<PluginStatus> {
    const uid = pod.metadata?.uid ?? '';
    const wp = this.waitingPods.get(uid);
    if (wp === undefined) return null;
    try {
      return await wp.wait();
    } finally {
      this.waitingPods.delete(uid);
    }
  }

  getWaitingPod(uid: string): WaitingPod | undefined {
    return this.waitingPods.get(uid);
  }

  podInCache(uid: string): boolean {
    if (this.inCache !== undefined) return this.inCache(uid);
    for (const ni of this.snapshot.nodeInfos().list()) if (ni.pods.some((pi) => pi.uid === uid)) return true;
    return false;
  }

  hasFilterPlugin(name: string): boolean {
    return this.filterPlugins.some((pl) => pl.name === name);
  }

  requeueAfterBackoff(pods: readonly Pod[]): void {
    this.requeue(pods);
  }

  // ---- PreBind / Bind / PostBind ----

  async runPreBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus> {
    for (const pl of this.preBindPlugins) {
      let s: PluginStatus;
      try {
        s = await pl.preBind(state, pod, nodeName);
      } catch (err) {
        s = asStatus(err);
      }
      if (s === null || s.isSuccess()) continue;
      if (s.isRejected()) return s.withPlugin(pl.name);
      return asStatus(new Error(`running PreBind plugin ${JSON.stringify(pl.name)}: ${s.message()}`)).withPlugin(pl.name);
    }
    return null;
  }

  async runBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus> {
    if (this.bindPlugins.length === 0) return newStatus(Code.Skip);
    let last: PluginStatus = null;
    for (const pl of this.bindPlugins) {
      try {
        last = await pl.bind(state, pod, nodeName);
      } catch (err) {
        last = asStatus(err);
      }
      if (last !== null && last.isSkip()) continue;
      if (last !== null && !last.isSuccess()) {
        if (last.isRejected()) return last.withPlugin(pl.name);
        return asStatus(new Error(`running Bind plugin ${JSON.stringify(pl.name)}: ${last.message()}`)).withPlugin(pl.name);
      }
      return last;
    }
    return last;
  }

  runPostBindPlugins(state: CycleState, pod: Pod, nodeName: string): void {
    for (const pl of this.postBindPlugins) pl.postBind(state, pod, nodeName);
  }

  /** Rejects every pod waiting at Permit (on shutdown). */
  rejectWaitingPods(message: string): void {
    for (const wp of this.waitingPods.values()) wp.reject('', message);
  }
}

function mergePreFilterResults(a: PreFilterResult | null, b: PreFilterResult): PreFilterResult {
  if (a === null || a.nodeNames === null) return b;
  if (b.nodeNames === null) return a;
  const out = new Set<string>();
  for (const n of a.nodeNames) if (b.nodeNames.has(n)) out.add(n);
  return { nodeNames: out };
}
