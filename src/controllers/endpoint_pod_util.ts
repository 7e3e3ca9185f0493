// Pod facts the Endpoints and EndpointSlice controllers need (upstream podutil and endpointslice util): readiness,
// whether a pod belongs in a Service's endpoints at all, its address for an IP family, and the
// container port a Service's (possibly named) targetPort resolves to on that pod.
import type { Pod, PodCondition, Service, ServicePort } from '../api/types/core_v1.ts';

/** The pod's Ready condition, if any. */
export function podReadyCondition(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** True when the pod's Ready condition is True (podutil.IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/**
 * Whether a pod may appear in endpoints (endpointsliceutil.ShouldPodBeInEndpoints): it needs an IP,
 * terminating pods only when `includeTerminating`, and pods that finished for good never.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP && (pod.status?.podIPs ?? []).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  const restart = pod.spec?.restartPolicy ?? 'Always';
  if (restart === 'Never') return phase !== 'Failed' && phase !== 'Succeeded';
  if (restart === 'OnFailure') return phase !== 'Succeeded';
  return true;
}

/** "IPv4" or "IPv6" for an address. */
export function ipFamilyOf(ip: string): 'IPv4' | 'IPv6' {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

/** The Service's primary IP family (IPv4 unless it says otherwise). */
export function serviceIpFamily(svc: Service): 'IPv4' | 'IPv6' {
  const f = svc.spec?.ipFamilies?.[0];
  if (f === 'IPv6') return 'IPv6';
  if (f === 'IPv4') return 'IPv4';
  const ip = svc.spec?.clusterIP;
  return ip && ip !== 'None' && ipFamilyOf(ip) === 'IPv6' ? 'IPv6' : 'IPv4';
}

/** The pod IP of `family`, or undefined. */
export function podIpOfFamily(pod: Pod, family: 'IPv4' | 'IPv6'): string | undefined {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips.find((ip) => ipFamilyOf(ip) === family);
}

/** The container port `svcPort.targetPort` resolves to on `pod` (podutil.FindPort), or an error text. */
export function findPort(pod: Pod, svcPort: ServicePort): number | string {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol = svcPort.protocol ?? 'TCP';
  // Restartable init containers (sidecars) serve traffic too.
  const containers = [...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(pod.spec?.containers ?? [])];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return `no suitable port for manifest: ${pod.metadata?.uid ?? ''}`;
}

/** True when the Service is headless (clusterIP None). */
export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}
