// The HorizontalPodAutoscaler controller (upstream pkg/controller/podautoscaler/horizontal.go),
// autoscaling/v2: every 15 s each HPA reads its target's scale subresource, computes desired
// replicas from resource metrics (metrics.k8s.io), applies min/max, the scale-up limit or the
// behavior policies and stabilization windows, rescales, and reports AbleToScale, ScalingActive
// and ScalingLimited conditions with upstream's reasons and messages.
import { isDeepStrictEqual } from 'node:util';
import { logger } from '../../base/log.ts';
import { canonicalQuantityString, newMilliQuantity, quantityMilliValue, tryParseQuantity } from '../../api/quantity.ts';
import { parseSelector } from '../../api/labels.ts';
import { preferredVersion, resourceForKind } from '../../api/resource_table.ts';
import { discoverCustomResources } from '../../client/discovery.ts';
import type { Pod } from '../../api/types/core_v1.ts';
import type { HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, MetricSpec, MetricStatus } from '../../api/types/autoscaling_v2.ts';
import { formatTime, type Clock } from '../../client/clock.ts';
import { EventType, type EventRecorder } from '../../client/events.ts';
import type { SharedIndexInformer, HandlerRegistration } from '../../client/shared_informer.ts';
import { RateLimitingQueue } from '../../client/rate_limiting_queue.ts';
import type { RestClient } from '../../client/rest_client.ts';
import { resourceDescriptor } from '../../client/resource_descriptor.ts';
import type { KubeObject, ResourceClient } from '../../client/resource_client.ts';
import { metaNamespaceKey, splitKey, unwrapTombstone } from '../../client/store.ts';
import { registerController, type Controller, type ControllerContext } from '../registry.ts';
import { ReplicaCalculator, restResourceMetricsClient, type ReplicaCalculatorOptions, type ResourceMetricsClient } from './replica_calculator.ts';

const log = logger('horizontal-pod-autoscaler');

const SCALE_UP_LIMIT_FACTOR = 2.0;
const SCALE_UP_LIMIT_MINIMUM = 4.0;
const DEFAULT_CPU_METRIC: MetricSpec = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } };

/** Tunables and seams. */
export interface HorizontalControllerOptions extends ReplicaCalculatorOptions {
  /** --horizontal-pod-autoscaler-sync-period (15 s). */
  readonly resyncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (5 min). */
  readonly downscaleStabilisationWindowMs?: number;
  /** Where pod usage comes from (default: the metrics.k8s.io API). */
  readonly metrics?: ResourceMetricsClient;
}

/** autoscaling/v1 Scale as the scale subresource serves it. */
interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

interface Recommendation { replicas: number; at: number }
interface ScaleEvent { change: number; at: number; outdated: boolean }

/** Thrown to end a reconcile whose outcome is already recorded in the status. */
class ReconcileError extends Error {}

/** Scales workloads by their HorizontalPodAutoscalers. */
export class HorizontalController implements Controller {
  readonly queue: RateLimitingQueue<string>;
  readonly hpas: SharedIndexInformer<HorizontalPodAutoscaler>;
  readonly pods: SharedIndexInformer<Pod>;
  #client: ResourceClient<HorizontalPodAutoscaler>;
  #rest: RestClient;
  #recorder: EventRecorder;
  #clock: Clock;
  #calc: ReplicaCalculator;
  #resyncMs: number;
  #downscaleWindowMs: number;
  #recommendations = new Map<string, Recommendation[]>();
  #scaleUpEvents = new Map<string, ScaleEvent[]>();
  #scaleDownEvents = new Map<string, ScaleEvent[]>();
  #handlers: HandlerRegistration[] = [];

  constructor(ctx: ControllerContext, opts: HorizontalControllerOptions = {}) {
    this.#clock = ctx.clock;
    this.#rest = ctx.client;
    this.#resyncMs = opts.resyncPeriodMs ?? 15_000;
    this.#downscaleWindowMs = opts.downscaleStabilisationWindowMs ?? 5 * 60 * 1000;
    this.#calc = new ReplicaCalculator(opts.metrics ?? restResourceMetricsClient(ctx.client), opts);
    this.queue = new RateLimitingQueue<string>({ name: 'horizontalpodautoscaler', clock: ctx.clock });
    this.hpas = ctx.informers.informerFor<HorizontalPodAutoscaler>(resourceDescriptor('autoscaling/v2', 'horizontalpodautoscalers'));
    this.pods = ctx.informers.informerFor<Pod>(resourceDescriptor('v1', 'pods'));
    this.#client = ctx.client.resource<HorizontalPodAutoscaler>(resourceDescriptor('autoscaling/v2', 'horizontalpodautoscalers'));
    this.#recorder = ctx.recorder('horizontal-pod-autoscaler');
    this.#handlers.push(this.hpas.addEventHandler({
      onAdd: (h) => this.queue.add(metaNamespaceKey(h)),
      onUpdate: (old, h) => {
        // Our own status writes need no immediate pass; spec changes do.
        if (!isDeepStrictEqual(old.spec, h.spec)) this.queue.add(metaNamespaceKey(h));
      },
      onDelete: (o) => {
        const key = metaNamespaceKey(unwrapTombstone(o));
        this.#recommendations.delete(key);
        this.#scaleUpEvents.delete(key);
        this.#scaleDownEvents.delete(key);
      },
    }));
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) void this.#worker();
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        const exists = await this.sync(key);
        // Every HPA is looked at again after the sync period, whatever happened.
        if (exists) this.queue.addAfter(key, this.#resyncMs);
      } catch (err) {
        if (!(err instanceof ReconcileError)) log.warn('sync failed', { hpa: key, err });
        this.queue.addAfter(key, this.#resyncMs);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Reconciles one HPA; false when it no longer exists. */
  async sync(key: string): Promise<boolean> {
    const { namespace, name } = splitKey(key);
    const shared = this.hpas.lister.get(namespace, name);
    if (!shared) {
      this.#recommendations.delete(key);
      return false;
    }
    await this.reconcileAutoscaler(structuredClone(shared), key);
    return true;
  }

  /** reconcileAutoscaler. */
  async reconcileAutoscaler(hpa: HorizontalPodAutoscaler, key: string): Promise<void> {
    const original = structuredClone(hpa.status);
    const ns = hpa.metadata?.namespace ?? '';
    const ref = hpa.spec!.scaleTargetRef;
    const reference = `${ref.kind}/${ns}/${ref.name}`;
    const failScale = async (message: string, what: string): Promise<never> => {
      this.#recorder.event(hpa, EventType.Warning, 'FailedGetScale', message);
      this.#setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${message}`);
      await this.#updateStatusIfNeeded(original, hpa);
      throw new ReconcileError(`${what}: ${message}`);
    };
    const gv = (ref.apiVersion ?? '').split('/');
    const group = gv.length === 2 ? gv[0]! : '';
    const version = gv.length === 2 ? gv[1]! : gv[0]!;
    // Built-in kinds from the table; custom resources (a CRD with a scale subresource) from discovery.
    const info = resourceForKind(group, version, ref.kind) ?? resourceForKind(group, preferredVersion(group) ?? '', ref.kind) ??
      (await discoverCustomResources(this.#rest).catch(() => [])).find((r) => r.group === group && r.kind === ref.kind);
    if (!info) return failScale(`no matches for kind ${JSON.stringify(ref.kind)} in group ${JSON.stringify(group)}`, 'unable to determine resource for scale target reference');
    const target = this.#rest.resource(info, ns);
    let scale: Scale;
    try {
      scale = await target.getSubresource<Scale>(ref.name, 'scale');
    } catch (err) {
      return failScale(err instanceof Error ? err.message : String(err), `failed to query scale subresource for ${reference}`);
    }
    this.#setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const currentReplicas = scale.spec?.replicas ?? 0;
    if (!this.#recommendations.has(key)) this.#recommendations.set(key, [{ replicas: currentReplicas, at: this.#clock.now() }]);
    const minReplicas = hpa.spec!.minReplicas ?? 1;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    let metricStatuses: MetricStatus[] | undefined;

    if ((scale.spec?.replicas ?? 0) === 0 && minReplicas !== 0) {
      desiredReplicas = 0;
      rescale = false;
      this.#setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > hpa.spec!.maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = hpa.spec!.maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      // An HPA without metrics means 80% CPU, as API defaulting would have said.
      const specs = hpa.spec!.metrics?.length ? hpa.spec!.metrics : [DEFAULT_CPU_METRIC];
      const computed = await this.computeReplicasForMetrics(hpa, scale, specs);
      metricStatuses = computed.statuses;
      if (computed.error !== undefined && computed.replicas === -1) {
        this.#setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false);
        await this.#updateStatusIfNeeded(original, hpa);
        this.#recorder.event(hpa, EventType.Warning, 'FailedComputeMetricsReplicas', computed.error);
        throw new ReconcileError(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${computed.error}`);
      }
      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.metric;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      desiredReplicas = hpa.spec!.behavior
        ? this.#normalizeWithBehaviors(hpa, key, currentReplicas, desiredReplicas, minReplicas)
        : this.#normalize(hpa, key, currentReplicas, desiredReplicas, minReplicas);
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await target.updateSubresource(ref.name, 'scale', { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } } as KubeObject);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        this.#recorder.eventf(hpa, EventType.Warning, 'FailedRescale', 'New size: %d; reason: %s; error: %v', desiredReplicas, rescaleReason, msg);
        this.#setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`);
        this.#setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, hpa.status?.currentMetrics, false);
        await this.#updateStatusIfNeeded(original, hpa);
        throw new ReconcileError(`failed to rescale ${reference}: ${msg}`);
      }
      this.#setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.#recorder.eventf(hpa, EventType.Normal, 'SuccessfulRescale', 'New size: %d; reason: %s', desiredReplicas, rescaleReason);
      this.#storeScaleEvent(hpa, key, currentReplicas, desiredReplicas);
    } else {
      desiredReplicas = currentReplicas;
    }
    this.#setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
    await this.#updateStatusIfNeeded(original, hpa);
  }

  /** The largest proposal over all metrics, or -1 with an error when they cannot be trusted. */
  async computeReplicasForMetrics(hpa: HorizontalPodAutoscaler, scale: Scale, specs: readonly MetricSpec[]): Promise<{ replicas: number; metric: string; statuses: MetricStatus[] | undefined; error?: string }> {
    const selector = scale.status?.selector ?? '';
    if (selector === '') {
      this.#recorder.event(hpa, EventType.Warning, 'SelectorRequired', 'selector is required');
      this.#setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: -1, metric: '', statuses: undefined, error: 'selector is required' };
    }
    try {
      parseSelector(selector);
    } catch (err) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${err instanceof Error ? err.message : String(err)}`;
      this.#recorder.event(hpa, EventType.Warning, 'InvalidSelector', msg);
      this.#setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', msg);
      return { replicas: -1, metric: '', statuses: undefined, error: msg };
    }
    const specReplicas = scale.spec?.replicas ?? 0;
    const statuses: MetricStatus[] = specs.map(() => ({ type: '' }));
    let replicas = 0, metric = '';
    let invalid = 0;
    let firstError: string | undefined;
    let firstCondition: [string, string] | undefined;
    for (let i = 0; i < specs.length; i++) {
      const r = await this.#computeReplicasForMetric(hpa, specs[i]!, specReplicas, selector);
      if ('error' in r) {
        if (invalid === 0) {
          firstError = r.error;
          firstCondition = r.condition;
        }
        invalid++;
        continue;
      }
      statuses[i] = r.status;
      if (replicas === 0 || r.replicas > replicas) {
        replicas = r.replicas;
        metric = r.metric;
      }
    }
    const error = firstError === undefined ? undefined : `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError}`;
    if (invalid >= specs.length || (invalid > 0 && replicas < specReplicas)) {
      if (firstCondition) this.#setCondition(hpa, 'ScalingActive', 'False', firstCondition[0], firstCondition[1]);
      return { replicas: -1, metric: '', statuses, ...(error !== undefined ? { error } : { error: 'no metrics' }) };
    }
    this.#setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses, ...(error !== undefined ? { error } : {}) };
  }

  async #computeReplicasForMetric(hpa: HorizontalPodAutoscaler, spec: MetricSpec, specReplicas: number, selector: string): Promise<{ replicas: number; metric: string; status: MetricStatus } | { error: string; condition: [string, string] }> {
    const unable = (reason: string, err: string): [string, string] => {
      this.#recorder.event(hpa, EventType.Warning, reason, err);
      return [reason, `the HPA was unable to compute the replica count: ${err}`];
    };
    const ns = hpa.metadata?.namespace ?? '';
    const pods = this.pods.lister.listNamespace(ns);
    const now = this.#clock.now();
    const resourceMetric = async (name: string, target: MetricSpec['resource'] extends infer _ ? NonNullable<MetricSpec['resource']>['target'] : never, container: string) => {
      if (target.averageValue !== undefined) {
        const q = tryParseQuantity(String(target.averageValue));
        const p = await this.#calc.getRawResourceReplicas(specReplicas, Number(q ? quantityMilliValue(q) : 0n), name, ns, selector, pods, container, now)
          .catch((err: unknown) => { throw new Error(`failed to get ${name} usage: ${err instanceof Error ? err.message : String(err)}`); });
        return { replicas: p.replicas, metricName: `${name} resource`, current: { averageValue: milli(p.rawUtilization) } };
      }
      if (target.averageUtilization === undefined) {
        throw new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
      }
      const p = await this.#calc.getResourceReplicas(specReplicas, target.averageUtilization, name, ns, selector, pods, container, now)
        .catch((err: unknown) => { throw new Error(`failed to get ${name} utilization: ${err instanceof Error ? err.message : String(err)}`); });
      return { replicas: p.replicas, metricName: `${name} resource utilization (percentage of request)`, current: { averageUtilization: p.utilization, averageValue: milli(p.rawUtilization) } };
    };
    switch (spec.type) {
      case 'Resource': {
        const r = spec.resource!;
        try {
          const p = await resourceMetric(r.name, r.target, '');
          return { replicas: p.replicas, metric: p.metricName, status: { type: 'Resource', resource: { name: r.name, current: p.current } } };
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          return { error: `failed to get ${r.name} resource metric value: ${msg}`, condition: unable('FailedGetResourceMetric', msg) };
        }
      }
      case 'ContainerResource': {
        const r = spec.containerResource!;
        try {
          const p = await resourceMetric(r.name, r.target, r.container);
          const metricName = p.metricName.replace(/^(\S+) resource/, `$1 container resource`);
          return { replicas: p.replicas, metric: metricName, status: { type: 'ContainerResource', containerResource: { name: r.name, container: r.container, current: p.current } } };
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          return { error: `failed to get ${r.name} container metric value: ${msg}`, condition: unable('FailedGetContainerResourceMetric', msg) };
        }
      }
      case 'Pods': {
        const msg = `unable to get metric ${spec.pods?.metric.name ?? ''}: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered`;
        return { error: `failed to get pods metric value: ${msg}`, condition: unable('FailedGetPodsMetric', msg) };
      }
      case 'Object': {
        const msg = `unable to get metric ${spec.object?.metric.name ?? ''}: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered`;
        return { error: `failed to get object metric value: ${msg}`, condition: unable('FailedGetObjectMetric', msg) };
      }
      case 'External': {
        const msg = `unable to get external metric ${ns}/${spec.external?.metric.name ?? ''}: unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) registered`;
        return { error: `failed to get external metric value: ${msg}`, condition: unable('FailedGetExternalMetric', msg) };
      }
      default: {
        const msg = `unknown metric source type ${JSON.stringify(spec.type)}`;
        return { error: msg, condition: ['InvalidMetricSourceType', `the HPA was unable to compute the replica count: ${msg}`] };
      }
    }
  }

  /** normalizeDesiredReplicas: downscale stabilization, then min/max and the scale-up limit. */
  #normalize(hpa: HorizontalPodAutoscaler, key: string, current: number, prenormalized: number, minReplicas: number): number {
    const stabilized = this.#stabilize(key, prenormalized);
    if (stabilized !== prenormalized) {
      this.#setCondition(hpa, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      this.#setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    const [desired, reason, message] = convertDesiredReplicasWithRules(current, stabilized, minReplicas, hpa.spec!.maxReplicas);
    this.#setCondition(hpa, 'ScalingLimited', desired === stabilized ? 'False' : 'True', reason, message);
    return desired;
  }

  #stabilize(key: string, prenormalized: number): number {
    const now = this.#clock.now();
    const recs = this.#recommendations.get(key) ?? [];
    let max = prenormalized;
    let oldIndex = -1;
    recs.forEach((r, i) => {
      if (r.at < now - this.#downscaleWindowMs) oldIndex = i;
      else if (r.replicas > max) max = r.replicas;
    });
    if (oldIndex >= 0) recs[oldIndex] = { replicas: prenormalized, at: now };
    else recs.push({ replicas: prenormalized, at: now });
    this.#recommendations.set(key, recs);
    return max;
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilization windows, then the policies' rate limits. */
  #normalizeWithBehaviors(hpa: HorizontalPodAutoscaler, key: string, current: number, prenormalized: number, minReplicas: number): number {
    const up = withScaleUpDefaults(hpa.spec!.behavior?.scaleUp);
    const down = withScaleDownDefaults(hpa.spec!.behavior?.scaleDown, Math.round(this.#downscaleWindowMs / 1000));
    const now = this.#clock.now();
    // Stabilization.
    let recommendation = prenormalized;
    let reason: string, message: string;
    let windowS: number;
    let better: (a: number, b: number) => number;
    if (prenormalized >= current) {
      windowS = up.stabilizationWindowSeconds!;
      better = Math.min;
      reason = 'ScaleUpStabilized';
      message = 'recent recommendations were lower than current one, applying the lowest recent recommendation';
    } else {
      windowS = down.stabilizationWindowSeconds!;
      better = Math.max;
      reason = 'ScaleDownStabilized';
      message = 'recent recommendations were higher than current one, applying the highest recent recommendation';
    }
    const maxDelay = Math.max(up.stabilizationWindowSeconds!, down.stabilizationWindowSeconds!);
    const recs = this.#recommendations.get(key) ?? [];
    let oldIndex = -1;
    recs.forEach((r, i) => {
      if (r.at > now - windowS * 1000) recommendation = better(r.replicas, recommendation);
      if (r.at < now - maxDelay * 1000) oldIndex = i;
    });
    if (oldIndex >= 0) recs[oldIndex] = { replicas: prenormalized, at: now };
    else recs.push({ replicas: prenormalized, at: now });
    this.#recommendations.set(key, recs);
    if (recommendation !== prenormalized) this.#setCondition(hpa, 'AbleToScale', 'True', reason, message);
    else this.#setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    // Rate limits.
    let desired = recommendation;
    let limitReason = 'DesiredWithinRange', limitMessage = 'the desired count is within the acceptable range';
    if (recommendation > current) {
      let limit = scaleUpLimit(current, this.#scaleUpEvents.get(key) ?? [], up, now);
      if (limit < current) limit = current;
      let maxAllowed = hpa.spec!.maxReplicas;
      let r: string, m: string;
      if (maxAllowed > limit) {
        maxAllowed = limit;
        r = 'ScaleUpLimit';
        m = 'the desired replica count is increasing faster than the maximum scale rate';
      } else {
        r = 'TooManyReplicas';
        m = 'the desired replica count is more than the maximum replica count';
      }
      if (recommendation > maxAllowed) [desired, limitReason, limitMessage] = [maxAllowed, r, m];
    } else if (recommendation < current) {
      let limit = scaleDownLimit(current, this.#scaleDownEvents.get(key) ?? [], down, now);
      if (limit > current) limit = current;
      let minAllowed = minReplicas;
      let r: string, m: string;
      if (minAllowed < limit) {
        minAllowed = limit;
        r = 'ScaleDownLimit';
        m = 'the desired replica count is decreasing faster than the maximum scale rate';
      } else {
        r = 'TooFewReplicas';
        m = 'the desired replica count is less than the minimum replica count';
      }
      if (recommendation < minAllowed) [desired, limitReason, limitMessage] = [minAllowed, r, m];
    }
    this.#setCondition(hpa, 'ScalingLimited', desired === recommendation ? 'False' : 'True', limitReason, limitMessage);
    return desired;
  }

  #storeScaleEvent(hpa: HorizontalPodAutoscaler, key: string, prev: number, next: number): void {
    if (!hpa.spec!.behavior) return;
    const now = this.#clock.now();
    const up = next > prev;
    const rules = up ? withScaleUpDefaults(hpa.spec!.behavior.scaleUp) : withScaleDownDefaults(hpa.spec!.behavior.scaleDown, Math.round(this.#downscaleWindowMs / 1000));
    const store = up ? this.#scaleUpEvents : this.#scaleDownEvents;
    const events = store.get(key) ?? [];
    const longest = Math.max(0, ...(rules.policies ?? []).map((p) => p.periodSeconds));
    for (const e of events) if (e.at < now - longest * 1000) e.outdated = true;
    const ev: ScaleEvent = { change: Math.abs(next - prev), at: now, outdated: false };
    const i = events.findIndex((e) => e.outdated);
    if (i >= 0) events[i] = ev;
    else events.push(ev);
    store.set(key, events);
  }

  #setCondition(hpa: HorizontalPodAutoscaler, type: string, status: string, reason: string, message: string): void {
    const conditions = [...(hpa.status?.conditions ?? [])];
    let i = conditions.findIndex((c) => c.type === type);
    if (i < 0) {
      conditions.push({ type, status: '' });
      i = conditions.length - 1;
    }
    const prev = conditions[i]!;
    const next: HorizontalPodAutoscalerCondition = { ...prev, type, status, reason, message };
    if (prev.status !== status) next.lastTransitionTime = formatTime(this.#clock.now());
    conditions[i] = next;
    hpa.status = { desiredReplicas: 0, ...hpa.status, conditions };
  }

  #setStatus(hpa: HorizontalPodAutoscaler, current: number, desired: number, metrics: MetricStatus[] | undefined, rescale: boolean): void {
    const status: NonNullable<HorizontalPodAutoscaler['status']> = { currentReplicas: current, desiredReplicas: desired };
    const last = rescale ? formatTime(this.#clock.now()) : hpa.status?.lastScaleTime;
    if (last) status.lastScaleTime = last;
    if (metrics && metrics.length > 0) status.currentMetrics = metrics;
    if (hpa.status?.conditions) status.conditions = hpa.status.conditions;
    hpa.status = status;
  }

  async #updateStatusIfNeeded(original: HorizontalPodAutoscaler['status'], hpa: HorizontalPodAutoscaler): Promise<void> {
    if (isDeepStrictEqual(original, hpa.status)) return;
    try {
      await this.#client.updateStatus(hpa);
    } catch (err) {
      this.#recorder.event(hpa, EventType.Warning, 'FailedUpdateStatus', err instanceof Error ? err.message : String(err));
      throw new ReconcileError(`failed to update status for ${hpa.metadata?.name ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async dispose(): Promise<void> {
    for (const h of this.#handlers.splice(0)) h.dispose();
    this.queue.shutDown();
  }
}

/** A milli-value as a DecimalSI quantity string. */
function milli(v: number): string {
  return canonicalQuantityString(newMilliQuantity(BigInt(Math.trunc(v)), 'DecimalSI'));
}

/** convertDesiredReplicasWithRules: min/max and, without behavior, at most max(2x, 4) up. */
export function convertDesiredReplicasWithRules(current: number, desired: number, min: number, max: number): [number, string, string] {
  const scaleUpLimit = Math.trunc(Math.max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM));
  let maxAllowed: number, cond: string, reason: string;
  if (max > scaleUpLimit) {
    maxAllowed = scaleUpLimit;
    cond = 'ScaleUpLimit';
    reason = 'the desired replica count is increasing faster than the maximum scale rate';
  } else {
    maxAllowed = max;
    cond = 'TooManyReplicas';
    reason = 'the desired replica count is more than the maximum replica count';
  }
  if (desired < min) return [min, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
  if (desired > maxAllowed) return [maxAllowed, cond, reason];
  return [desired, 'DesiredWithinRange', 'the desired count is within the acceptable range'];
}

/** Scale-up rules with upstream's defaults filled in (GenerateHPAScaleUpRules). */
export function withScaleUpDefaults(r: HPAScalingRules | undefined): HPAScalingRules {
  return {
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? 0,
    selectPolicy: r?.selectPolicy ?? 'Max',
    policies: r?.policies ?? [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
  };
}

/** Scale-down rules with upstream's defaults filled in (GenerateHPAScaleDownRules). */
export function withScaleDownDefaults(r: HPAScalingRules | undefined, defaultWindowS: number): HPAScalingRules {
  return {
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? defaultWindowS,
    selectPolicy: r?.selectPolicy ?? 'Max',
    policies: r?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  };
}

function changeInPeriod(periodS: number, events: readonly ScaleEvent[], now: number): number {
  return events.filter((e) => e.at > now - periodS * 1000).reduce((n, e) => n + e.change, 0);
}

/** calculateScaleUpLimitWithScalingRules. */
export function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: HPAScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : 0;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors. */
export function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: HPAScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? 0 : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start = current + changeInPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

registerController('horizontalpodautoscaling', (ctx) => new HorizontalController(ctx), 5);
