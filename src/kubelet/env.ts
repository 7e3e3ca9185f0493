// A container's environment as the kubelet builds it (makeEnvironmentVariables): envFrom, env with
// $(VAR) expansion, the Downward API (fieldRef, resourceFieldRef), ConfigMap and Secret keys, and the
// Service link variables (FOO_SERVICE_HOST, FOO_PORT_80_TCP, ...). Also expands command and args.
import type { ConfigMap, Container, Pod, Secret, Service } from '../api/types/core_v1.ts';
import { parseQuantity, quantityMilliValue, quantityValue } from '../api/quantity.ts';

/** Where ConfigMaps and Secrets come from; undefined means "not found". */
export interface EnvObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
}

/** What the environment needs besides the pod and container. */
export interface EnvContext {
  readonly podIPs: readonly string[];
  readonly hostIPs: readonly string[];
  /** Services for the link variables (every namespace: the default namespace's `kubernetes` counts). */
  readonly services: readonly Service[];
  /** Node allocatable, the default of unset limits in resourceFieldRef. */
  readonly nodeAllocatable: Readonly<Record<string, string>>;
  readonly objects?: EnvObjectSource;
  /** Called with a warning event (reason, message) for skipped envFrom keys. */
  readonly warn?: (reason: string, message: string) => void;
}

/** One variable. */
export interface EnvPair {
  readonly name: string;
  readonly value: string;
}

/** A failure that makes the container's config invalid (CreateContainerConfigError). */
export class EnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

// ---- $(VAR) expansion (third_party/forked/golang/expansion)

/** Expands $(VAR) references with `lookup`; $$ escapes; unknown references stay as written. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close === -1) {
        out += '$(';
      } else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** Command and args with $(VAR) references expanded from the container's environment. */
export function expandCommandAndArgs(container: Container, env: readonly EnvPair[]): { command: string[]; args: string[] } {
  const map = new Map(env.map((e) => [e.name, e.value]));
  const lookup = (n: string): string | undefined => map.get(n);
  return {
    command: (container.command ?? []).map((c) => expand(c, lookup)),
    args: (container.args ?? []).map((a) => expand(a, lookup)),
  };
}

// ---- Service links (pkg/kubelet/envvars)

function envName(s: string): string {
  return s.replaceAll('-', '_').toUpperCase();
}

function serviceIPSet(s: Service): boolean {
  const ip = s.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/** The link variables of these services. */
export function serviceEnvVars(services: readonly Service[]): EnvPair[] {
  const out: EnvPair[] = [];
  for (const svc of services) {
    const ports = svc.spec?.ports ?? [];
    if (!serviceIPSet(svc) || ports.length === 0) continue;
    const ip = svc.spec!.clusterIP!;
    const prefix = envName(svc.metadata?.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0]!.port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    const host = ip.includes(':') ? `[${ip}]` : ip;
    ports.forEach((p, i) => {
      const proto = (p.protocol || 'TCP').toLowerCase();
      const url = `${proto}://${host}:${p.port}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: proto }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/** The services whose variables a pod gets: the default namespace's `kubernetes` always, its own namespace's with enableServiceLinks. */
function servicesForPod(pod: Pod, services: readonly Service[]): Service[] {
  const ns = pod.metadata?.namespace ?? '';
  const links = pod.spec?.enableServiceLinks ?? true;
  const byName = new Map<string, Service>();
  for (const s of services) {
    if (!serviceIPSet(s)) continue;
    const name = s.metadata?.name ?? '';
    if (s.metadata?.namespace === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, s);
    } else if (s.metadata?.namespace === ns && links) {
      byName.set(name, s);
    }
  }
  return [...byName.values()];
}

// ---- Downward API

function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join('\n');
}

/** The value of a fieldRef (podFieldSelectorRuntimeValue + ExtractFieldPathAsString). */
export function fieldRefValue(fieldPath: string, pod: Pod, podIPs: readonly string[], hostIPs: readonly string[]): string {
  switch (fieldPath) {
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': return hostIPs[0] ?? '';
    case 'status.hostIPs': return hostIPs.join(',');
    case 'status.podIP': return podIPs[0] ?? '';
    case 'status.podIPs': return podIPs.join(',');
    case 'metadata.name': return pod.metadata?.name ?? '';
    case 'metadata.namespace': return pod.metadata?.namespace ?? '';
    case 'metadata.uid': return pod.metadata?.uid ?? '';
    case 'metadata.labels': return formatMap(pod.metadata?.labels);
    case 'metadata.annotations': return formatMap(pod.metadata?.annotations);
    default: break;
  }
  const m = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fieldPath);
  if (m) {
    const map = m[1] === 'metadata.labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[m[2]!] ?? '';
  }
  throw new EnvError(`unsupported fieldPath: ${fieldPath}`);
}

/** The value of a resourceFieldRef; unset limits default to the node's allocatable. */
export function resourceFieldRefValue(
  ref: { resource: string; divisor?: string; containerName?: string }, pod: Pod, container: Container,
  nodeAllocatable: Readonly<Record<string, string>>,
): string {
  const target = ref.containerName
    ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ref.containerName)
    : container;
  if (!target) throw new EnvError(`container ${ref.containerName} not found`);
  const [kind, res] = ref.resource.split('.', 2) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !res) throw new EnvError(`unsupported container resource : ${ref.resource}`);
  let text = target.resources?.[kind]?.[res];
  if (text === undefined && kind === 'limits') text = nodeAllocatable[res];
  const q = parseQuantity(String(text ?? '0'));
  const divisorText = ref.divisor && ref.divisor !== '0' ? String(ref.divisor) : '1';
  const d = parseQuantity(divisorText);
  if (res === 'cpu') {
    const dm = quantityMilliValue(d);
    return String(Math.ceil(Number(quantityMilliValue(q)) / Number(dm === 0n ? 1000n : dm)));
  }
  if (res === 'memory' || res === 'ephemeral-storage' || res.startsWith('hugepages-')) {
    const dv = quantityValue(d);
    return String(Math.ceil(Number(quantityValue(q)) / Number(dv === 0n ? 1n : dv)));
  }
  throw new EnvError(`unsupported container resource : ${ref.resource}`);
}

/** Valid names of variables taken from envFrom: printable ASCII but '=' (RelaxedEnvironmentVariableValidation, on in 1.32). */
const ENV_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;

function decodeSecretData(secret: Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = String(v);
  return out;
}

/** The container's environment, in the kubelet's order: declared variables, then the remaining service links. */
export async function makeEnvironment(pod: Pod, container: Container, ctx: EnvContext): Promise<EnvPair[]> {
  const ns = pod.metadata?.namespace ?? '';
  const serviceEnv = new Map(serviceEnvVars(servicesForPod(pod, ctx.services)).map((e) => [e.name, e.value]));
  const tmp = new Map<string, string>();
  const lookup = (n: string): string | undefined => tmp.get(n) ?? serviceEnv.get(n);
  const configMaps = new Map<string, ConfigMap | undefined>();
  const secrets = new Map<string, Record<string, string> | undefined>();
  const getConfigMap = async (name: string): Promise<ConfigMap | undefined> => {
    if (!configMaps.has(name)) configMaps.set(name, await ctx.objects?.configMap(ns, name));
    return configMaps.get(name);
  };
  const getSecret = async (name: string): Promise<Record<string, string> | undefined> => {
    if (!secrets.has(name)) {
      const s = await ctx.objects?.secret(ns, name);
      secrets.set(name, s ? decodeSecretData(s) : undefined);
    }
    return secrets.get(name);
  };

  for (const from of container.envFrom ?? []) {
    let data: Record<string, string> | undefined;
    let what: string;
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      what = `configMap ${ns}/${name}`;
      const cm = await getConfigMap(name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new EnvError(`configmap "${name}" not found`);
      }
      data = { ...cm.data };
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      what = `secret ${ns}/${name}`;
      data = await getSecret(name);
      if (!data) {
        if (from.secretRef.optional) continue;
        throw new EnvError(`secret "${name}" not found`);
      }
    } else {
      continue;
    }
    const invalid: string[] = [];
    for (const [k, v] of Object.entries(data)) {
      const key = (from.prefix ?? '') + k;
      if (!ENV_NAME.test(key)) {
        invalid.push(key);
        continue;
      }
      tmp.set(key, v);
    }
    if (invalid.length > 0) {
      invalid.sort();
      ctx.warn?.('InvalidEnvironmentVariableNames', `Keys [${invalid.join(', ')}] from the EnvFrom ${what} were skipped since they are considered invalid environment variable names.`);
    }
  }

  for (const e of container.env ?? []) {
    let value = e.value ?? '';
    if (value !== '') {
      value = expand(value, lookup);
    } else if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) {
        value = fieldRefValue(vf.fieldRef.fieldPath, pod, ctx.podIPs, ctx.hostIPs);
      } else if (vf.resourceFieldRef) {
        value = resourceFieldRefValue(vf.resourceFieldRef as { resource: string; divisor?: string; containerName?: string }, pod, container, ctx.nodeAllocatable);
      } else if (vf.configMapKeyRef) {
        const { name = '', key, optional } = vf.configMapKeyRef;
        const cm = await getConfigMap(name);
        if (!cm) {
          if (optional) continue;
          throw new EnvError(`configmap "${name}" not found`);
        }
        // binaryData is not an environment source upstream either
        const v = cm.data?.[key];
        if (v === undefined) {
          if (optional) continue;
          throw new EnvError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
        }
        value = String(v);
      } else if (vf.secretKeyRef) {
        const { name = '', key, optional } = vf.secretKeyRef;
        const data = await getSecret(name);
        if (!data) {
          if (optional) continue;
          throw new EnvError(`secret "${name}" not found`);
        }
        const v = data[key];
        if (v === undefined) {
          if (optional) continue;
          throw new EnvError(`couldn't find key ${key} in Secret ${ns}/${name}`);
        }
        value = v;
      }
    }
    tmp.set(e.name, value);
  }
  const out: EnvPair[] = [...tmp].map(([name, value]) => ({ name, value }));
  for (const [name, value] of serviceEnv) if (!tmp.has(name)) out.push({ name, value });
  return out;
}
