// Printer for horizontal pod autoscalers: TARGETS shows each metric as current/target
// ("cpu: 40%/80%", "<unknown>/500m (avg)"), reading autoscaling/v2 objects and v1 ones alike.
import type { Printer } from './table.ts';
import { age, ageColumn, col, int, list, nameColumn, quantityPtr, type KObject } from './format.ts';

type Quantity = string | number | null | undefined;

interface MetricTarget {
  type?: string;
  value?: Quantity;
  averageValue?: Quantity;
  averageUtilization?: number | null;
}

interface MetricValue {
  value?: Quantity;
  averageValue?: Quantity;
  averageUtilization?: number | null;
}

interface MetricSpec {
  type?: string;
  resource?: { name?: string; target?: MetricTarget };
  containerResource?: { name?: string; container?: string; target?: MetricTarget };
  pods?: { target?: MetricTarget };
  object?: { target?: MetricTarget };
  external?: { target?: MetricTarget };
}

interface MetricStatus {
  type?: string;
  resource?: { name?: string; current?: MetricValue };
  containerResource?: { name?: string; current?: MetricValue };
  pods?: { current?: MetricValue };
  object?: { current?: MetricValue };
  external?: { current?: MetricValue };
}

interface HorizontalPodAutoscaler extends KObject {
  spec?: {
    scaleTargetRef?: { kind?: string; name?: string };
    minReplicas?: number | null;
    maxReplicas?: number;
    metrics?: MetricSpec[];
    targetCPUUtilizationPercentage?: number | null;
  };
  status?: {
    currentReplicas?: number;
    currentMetrics?: MetricStatus[] | null;
    currentCPUUtilizationPercentage?: number | null;
  };
}

/** autoscaling/v1 keeps one CPU target; upstream converts it to a v2 Resource metric before printing. */
function metricsOf(hpa: HorizontalPodAutoscaler): { specs: readonly MetricSpec[]; statuses: readonly MetricStatus[] } {
  const spec = hpa.spec ?? {};
  const status = hpa.status ?? {};
  const v1 = hpa.apiVersion === 'autoscaling/v1' || (spec.metrics === undefined && 'targetCPUUtilizationPercentage' in spec);
  if (!v1) return { specs: list(spec.metrics), statuses: list(status.currentMetrics) };
  const specs: MetricSpec[] = [];
  if (typeof spec.targetCPUUtilizationPercentage === 'number') {
    specs.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  const statuses: MetricStatus[] = [];
  if (typeof status.currentCPUUtilizationPercentage === 'number') {
    statuses.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } });
  }
  return { specs, statuses };
}

/** The "value or average value" metric kinds (Object, External): "(avg)" marks an average target. */
function valueMetric(target: MetricTarget | undefined, current: MetricValue | undefined, hasStatus: boolean): string {
  if (target?.averageValue !== undefined && target.averageValue !== null) {
    const cur = hasStatus && current?.averageValue !== undefined && current.averageValue !== null ? quantityPtr(current.averageValue) : '<unknown>';
    return `${cur}/${quantityPtr(target.averageValue)} (avg)`;
  }
  const cur = hasStatus ? quantityPtr(current?.value) : '<unknown>';
  return `${cur}/${quantityPtr(target?.value)}`;
}

/** The resource metric kinds (Resource, ContainerResource): an average value or a utilization. */
function resourceMetric(name: string, target: MetricTarget | undefined, current: MetricValue | undefined, hasStatus: boolean): string {
  if (target?.averageValue !== undefined && target.averageValue !== null) {
    const cur = hasStatus ? quantityPtr(current?.averageValue) : '<unknown>';
    return `${name}: ${cur}/${quantityPtr(target.averageValue)}`;
  }
  const util = current?.averageUtilization;
  const cur = hasStatus && typeof util === 'number' ? `${util}%` : '<unknown>';
  const want = typeof target?.averageUtilization === 'number' ? `${target.averageUtilization}%` : '<auto>';
  return `${name}: ${cur}/${want}`;
}

/** formatHPAMetrics: at most two metrics, then "+ N more...". Statuses pair with specs by index. */
function formatMetrics(specs: readonly MetricSpec[], statuses: readonly MetricStatus[]): string {
  if (specs.length === 0) return '<none>';
  const max = 2;
  const items = specs.map((spec, i) => {
    const st: MetricStatus | undefined = statuses[i];
    switch (spec.type) {
      case 'External':
        return valueMetric(spec.external?.target, st?.external?.current, st?.external != null);
      case 'Pods': {
        const cur = st?.pods != null ? quantityPtr(st.pods.current?.averageValue) : '<unknown>';
        return `${cur}/${quantityPtr(spec.pods?.target?.averageValue)}`;
      }
      case 'Object':
        return valueMetric(spec.object?.target, st?.object?.current, st?.object != null);
      case 'Resource':
        return resourceMetric(spec.resource?.name ?? '', spec.resource?.target, st?.resource?.current, st?.resource != null);
      case 'ContainerResource':
        return resourceMetric(
          spec.containerResource?.name ?? '',
          spec.containerResource?.target,
          st?.containerResource?.current,
          st?.containerResource != null,
        );
      default:
        return '<unknown type>';
    }
  });
  if (items.length > max) return `${items.slice(0, max).join(', ')} + ${items.length - max} more...`;
  return items.join(', ');
}

/** horizontalpodautoscalers: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE. */
export const horizontalPodAutoscalerPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Reference', 'string', 'The object whose scale is controlled.'),
    col('Targets', 'string', 'Current and target values of the metrics.'),
    col('MinPods', 'string', 'The lower limit of replicas.'),
    col('MaxPods', 'string', 'The upper limit of replicas.'),
    col('Replicas', 'string', 'Replicas the autoscaler last saw.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const h = obj as HorizontalPodAutoscaler;
    const ref = h.spec?.scaleTargetRef;
    const { specs, statuses } = metricsOf(h);
    const min = h.spec?.minReplicas;
    return {
      cells: [
        h.metadata?.name ?? '',
        `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
        formatMetrics(specs, statuses),
        typeof min === 'number' ? String(min) : '<unset>',
        int(h.spec?.maxReplicas),
        int(h.status?.currentReplicas),
        age(h, ctx),
      ],
    };
  },
};
