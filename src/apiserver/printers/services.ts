// Printers for service networking: services (TYPE, CLUSTER-IP, EXTERNAL-IP "<pending>", PORT(S)
// "80:30080/TCP"), endpoints, endpoint slices, ingresses, ingress classes, network policies,
// service CIDRs and IP addresses.
import { compareGoStrings } from '../../api/go_strings.ts';
import type { Printer } from './table.ts';
import {
  age, ageColumn, col, formatLabelSelector, formatLabels, list, listWithMore, nameColumn,
  type KObject, type LabelSelector,
} from './format.ts';

interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

interface Service extends KObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalIPs?: string[];
    externalName?: string;
    selector?: Record<string, string>;
    ports?: { port?: number; nodePort?: number; protocol?: string }[];
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

/**
 * loadBalancerStatusStringer: distinct addresses (IP, else hostname), sorted. Upstream clips this to
 * 16 characters only for non-wide output, which the server never produces, so no clipping here.
 */
function loadBalancerAddresses(ingress: readonly LoadBalancerIngress[] | undefined): string {
  const set = new Set<string>();
  for (const i of list(ingress)) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  return [...set].sort(compareGoStrings).join(',');
}

function serviceExternalIP(svc: Service, type: string): string {
  const externalIPs = list(svc.spec?.externalIPs);
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length > 0) return [...(lb === '' ? [] : lb.split(',')), ...externalIPs].join(',');
      return lb === '' ? '<pending>' : lb;
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function servicePorts(svc: Service): string {
  const text = list(svc.spec?.ports)
    .map((p) => {
      const protocol = p.protocol || 'TCP';
      return p.nodePort ? `${p.port ?? 0}:${p.nodePort}/${protocol}` : `${p.port ?? 0}/${protocol}`;
    })
    .join(',');
  return text === '' ? '<none>' : text;
}

/** services: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE (+ SELECTOR). */
export const servicePrinter: Printer = {
  columns: [
    nameColumn(),
    col('Type', 'string', 'How the service is exposed.'),
    col('Cluster-IP', 'string', 'The virtual IP of the service inside the cluster.'),
    col('External-IP', 'string', 'Addresses the service is reachable at from outside the cluster.'),
    col('Port(s)', 'string', 'Ports the service exposes, with their node ports.'),
    ageColumn(),
    col('Selector', 'string', 'Labels of the pods that back the service.', 1),
  ],
  row: (obj, ctx) => {
    const svc = obj as Service;
    // A client that left type out gets ClusterIP from v1 defaulting.
    const type = svc.spec?.type || 'ClusterIP';
    const clusterIPs = list(svc.spec?.clusterIPs);
    const clusterIP = clusterIPs[0] || svc.spec?.clusterIP || '<none>';
    return {
      cells: [
        svc.metadata?.name ?? '',
        type,
        clusterIP,
        serviceExternalIP(svc, type),
        servicePorts(svc),
        age(svc, ctx),
        formatLabels(svc.spec?.selector),
      ],
    };
  },
};

interface Endpoints extends KObject {
  subsets?: { addresses?: { ip?: string }[]; ports?: { name?: string; port?: number }[] }[];
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** formatEndpoints: the first three "ip:port" (or bare IPs for a port-less subset), "+ N more...". */
function formatEndpoints(ep: Endpoints): string {
  const subsets = list(ep.subsets);
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const items: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = list(ss.addresses);
    const ports = list(ss.ports);
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (items.length === max) {
          more = true;
          break;
        }
        items.push(a.ip ?? '');
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (items.length === max) {
          more = true;
          break;
        }
        items.push(joinHostPort(a.ip ?? '', p.port ?? 0));
      }
    }
  }
  const text = items.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

/** endpoints: NAME ENDPOINTS AGE. */
export const endpointsPrinter: Printer = {
  columns: [nameColumn(), col('Endpoints', 'string', 'Addresses and ports of the endpoints.'), ageColumn()],
  row: (obj, ctx) => ({ cells: [obj.metadata?.name ?? '', formatEndpoints(obj as Endpoints), age(obj, ctx)] }),
};

interface EndpointSlice extends KObject {
  addressType?: string;
  ports?: { name?: string | null; port?: number | null }[];
  endpoints?: { addresses?: string[] }[];
}

/** Takes the first three of a stream of items, counting the rest. */
function firstThree(items: Iterable<string>): string {
  const max = 3;
  const shown: string[] = [];
  let more = false;
  let count = 0;
  for (const item of items) {
    if (shown.length < max) shown.push(item);
    else more = true;
    count++;
  }
  return listWithMore(shown, more, count, max);
}

function* slicePorts(slice: EndpointSlice): Iterable<string> {
  for (const p of list(slice.ports)) {
    if (typeof p.port === 'number') yield String(p.port);
    else if (typeof p.name === 'string') yield p.name;
    else yield '*';
  }
}

function* sliceAddresses(slice: EndpointSlice): Iterable<string> {
  for (const e of list(slice.endpoints)) yield* list(e.addresses);
}

/** endpointslices: NAME ADDRESSTYPE PORTS ENDPOINTS AGE. */
export const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn(),
    col('AddressType', 'string', 'The kind of addresses in the slice.'),
    col('Ports', 'string', 'Ports of the endpoints.'),
    col('Endpoints', 'string', 'Addresses of the endpoints.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const s = obj as EndpointSlice;
    return { cells: [s.metadata?.name ?? '', s.addressType ?? '', firstThree(slicePorts(s)), firstThree(sliceAddresses(s)), age(s, ctx)] };
  },
};

interface Ingress extends KObject {
  spec?: { ingressClassName?: string | null; rules?: { host?: string }[]; tls?: unknown[] };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

/** formatHosts: the first three hosts, "*" when no rule names one; "+ N more..." counts rules. */
function formatHosts(rules: readonly { host?: string }[]): string {
  const max = 3;
  const hosts: string[] = [];
  let more = false;
  for (const r of rules) {
    if (hosts.length === max) more = true;
    if (!more && r.host) hosts.push(r.host);
  }
  if (hosts.length === 0) return '*';
  const text = hosts.join(',');
  return more ? `${text} + ${rules.length - max} more...` : text;
}

/** ingresses: NAME CLASS HOSTS ADDRESS PORTS AGE. */
export const ingressPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Class', 'string', 'The IngressClass that handles this ingress.'),
    col('Hosts', 'string', 'Host names the rules match.'),
    col('Address', 'string', 'Addresses the load balancer serves the ingress at.'),
    col('Ports', 'string', 'Ports the ingress listens on.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const ing = obj as Ingress;
    return {
      cells: [
        ing.metadata?.name ?? '',
        ing.spec?.ingressClassName ?? '<none>',
        formatHosts(list(ing.spec?.rules)),
        loadBalancerAddresses(ing.status?.loadBalancer?.ingress),
        list(ing.spec?.tls).length > 0 ? '80, 443' : '80',
        age(ing, ctx),
      ],
    };
  },
};

interface IngressClass extends KObject {
  spec?: { controller?: string; parameters?: { apiGroup?: string | null; kind?: string; name?: string } | null };
}

/** ingressclasses: NAME CONTROLLER PARAMETERS AGE; parameters as "Kind.group/name". */
export const ingressClassPrinter: Printer = {
  columns: [
    nameColumn(),
    col('Controller', 'string', 'The controller that implements the class.'),
    col('Parameters', 'string', 'The object that holds the class parameters.'),
    ageColumn(),
  ],
  row: (obj, ctx) => {
    const ic = obj as IngressClass;
    const p = ic.spec?.parameters;
    let parameters = '<none>';
    if (p) {
      parameters = p.kind ?? '';
      if (typeof p.apiGroup === 'string') parameters += `.${p.apiGroup}`;
      parameters += `/${p.name ?? ''}`;
    }
    return { cells: [ic.metadata?.name ?? '', ic.spec?.controller ?? '', parameters, age(ic, ctx)] };
  },
};

interface NetworkPolicy extends KObject {
  spec?: { podSelector?: LabelSelector };
}

/** networkpolicies: NAME POD-SELECTOR AGE. */
export const networkPolicyPrinter: Printer = {
  columns: [nameColumn(), col('Pod-Selector', 'string', 'Labels of the pods the policy applies to.'), ageColumn()],
  row: (obj, ctx) => {
    const np = obj as NetworkPolicy;
    // The pod selector is a struct, never nil: an absent one is the empty selector.
    return { cells: [np.metadata?.name ?? '', formatLabelSelector(np.spec?.podSelector ?? {}), age(np, ctx)] };
  },
};

interface ServiceCIDR extends KObject {
  spec?: { cidrs?: string[] };
}

/** servicecidrs: NAME CIDRS AGE. */
export const serviceCIDRPrinter: Printer = {
  columns: [nameColumn(), col('CIDRs', 'string', 'The address ranges of the service CIDR.'), ageColumn()],
  row: (obj, ctx) => ({ cells: [obj.metadata?.name ?? '', list((obj as ServiceCIDR).spec?.cidrs).join(','), age(obj, ctx)] }),
};

interface IPAddress extends KObject {
  spec?: { parentRef?: { group?: string; resource?: string; namespace?: string; name?: string } | null };
}

/**
 * ipaddresses: NAME PARENTREF. Upstream also appends an age cell without a column, which kubectl
 * drops; we leave it out so every row has one cell per column.
 */
export const ipAddressPrinter: Printer = {
  columns: [nameColumn(), col('ParentRef', 'string', 'The object the address is allocated to.')],
  row: (obj) => {
    const ref = (obj as IPAddress).spec?.parentRef;
    let parent = '<none>';
    if (ref) {
      parent = (ref.group ? `${ref.resource ?? ''}.${ref.group}` : (ref.resource ?? '')).toLowerCase();
      if (ref.namespace) parent += `/${ref.namespace}`;
      parent += `/${ref.name ?? ''}`;
    }
    return { cells: [obj.metadata?.name ?? '', parent] };
  },
};
