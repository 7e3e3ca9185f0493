// The Pod Security Standards checks (pod-security-admission's policy package, v1.32) as a table:
// each check has an id, a level, and versions from which a given rule applies. Messages are
// upstream's, since users grep for them and kubectl prints them verbatim.
import { getArr, getMap, getObj, getStr, sortedUnique, type Obj } from './plugin_util.ts';

/** A PSS level. */
export type Level = 'privileged' | 'baseline' | 'restricted';

/** The outcome of one failed check. */
export interface CheckFailure {
  readonly reason: string;
  /** '' when there is nothing to add. */
  readonly detail: string;
}

/** A check function over pod metadata and spec; undefined means allowed. */
export type CheckPod = (meta: Obj, spec: Obj) => CheckFailure | undefined;

/** One version of a check: applies from `minVersion` (minor of 1.x) until the next one. */
export interface VersionedCheck {
  readonly minVersion: number;
  readonly check: CheckPod;
  /** Baseline checks this restricted check replaces at the restricted level. */
  readonly overrides?: readonly string[];
}

/** A check of the standard. */
export interface PolicyCheck {
  readonly id: string;
  readonly level: Exclude<Level, 'privileged'>;
  readonly versions: readonly VersionedCheck[];
}

function pluralize(singular: string, plural: string, n: number): string {
  return n === 1 ? singular : plural;
}

function joinQuote(items: readonly string[]): string {
  return items.length === 0 ? '' : `"${items.join('", "')}"`;
}

/** `container "a"` / `containers "a", "b"`. */
function containersText(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** Init, regular, then ephemeral containers (upstream's visitContainers). */
function containers(spec: Obj): Obj[] {
  return [...getArr(spec, 'initContainers'), ...getArr(spec, 'containers'), ...getArr(spec, 'ephemeralContainers')];
}

function sc(o: Obj): Obj | undefined {
  return getObj(o, 'securityContext');
}

function names(list: readonly Obj[]): string[] {
  return list.map((c) => getStr(c, 'name'));
}

function isWindows(spec: Obj): boolean {
  return getStr(getObj(spec, 'os'), 'name') === 'windows';
}

/** Windows pods are exempt from some restricted checks from v1.25 on. */
function unlessWindows(check: CheckPod): CheckPod {
  return (meta, spec) => (isWindows(spec) ? undefined : check(meta, spec));
}

/** "pod and containers "a"" style list of who set a bad value. */
function setters(podBad: boolean, badContainers: readonly string[]): string[] {
  const out: string[] = [];
  if (podBad) out.push('pod');
  if (badContainers.length > 0) out.push(containersText(badContainers));
  return out;
}

// ---- individual checks ----

function allowPrivilegeEscalation(_m: Obj, spec: Obj): CheckFailure | undefined {
  const bad = containers(spec).filter((c) => sc(c)?.['allowPrivilegeEscalation'] !== false);
  if (bad.length === 0) return undefined;
  return { reason: 'allowPrivilegeEscalation != false', detail: `${containersText(names(bad))} must set securityContext.allowPrivilegeEscalation=false` };
}

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function appArmorProfile(meta: Obj, spec: Obj): CheckFailure | undefined {
  const allowedType = (t: string): boolean => t === 'RuntimeDefault' || t === 'Localhost';
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  const podProfile = getObj(sc(spec), 'appArmorProfile');
  if (podProfile && !allowedType(getStr(podProfile, 'type'))) {
    badSetters.push('pod');
    badValues.add(getStr(podProfile, 'type'));
  }
  const badContainers: string[] = [];
  for (const c of containers(spec)) {
    const p = getObj(sc(c), 'appArmorProfile');
    if (p && !allowedType(getStr(p, 'type'))) {
      badContainers.push(getStr(c, 'name'));
      badValues.add(getStr(p, 'type'));
    }
  }
  if (badContainers.length > 0) badSetters.push(containersText(badContainers));
  const forbiddenAnnotations: string[] = [];
  for (const [k, v] of Object.entries(getMap(meta, 'annotations'))) {
    if (k.startsWith(APPARMOR_ANNOTATION_PREFIX) && !(v === '' || v === 'runtime/default' || v.startsWith('localhost/'))) {
      forbiddenAnnotations.push(`${k}=${JSON.stringify(v)}`);
    }
  }
  const values = sortedUnique(badValues);
  if (forbiddenAnnotations.length > 0) {
    values.push(...forbiddenAnnotations.sort());
    badSetters.push(pluralize('annotation', 'annotations', forbiddenAnnotations.length));
  }
  if (badSetters.length === 0) return undefined;
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    detail: `${badSetters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
  };
}

const DEFAULT_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
  'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

function capabilities(c: Obj): Obj | undefined {
  return getObj(sc(c), 'capabilities');
}

function capList(caps: Obj | undefined, key: 'add' | 'drop'): string[] {
  const v = caps?.[key];
  return Array.isArray(v) ? v.map(String) : [];
}

function capabilitiesBaseline(_m: Obj, spec: Obj): CheckFailure | undefined {
  const bad: string[] = [];
  const caps = new Set<string>();
  for (const c of containers(spec)) {
    const extra = capList(capabilities(c), 'add').filter((cap) => !DEFAULT_CAPABILITIES.has(cap));
    extra.forEach((cap) => caps.add(cap));
    if (extra.length > 0) bad.push(getStr(c, 'name'));
  }
  if (bad.length === 0) return undefined;
  return { reason: 'non-default capabilities', detail: `${containersText(bad)} must not include ${joinQuote(sortedUnique(caps))} in securityContext.capabilities.add` };
}

function capabilitiesRestricted(_m: Obj, spec: Obj): CheckFailure | undefined {
  const missingDropAll: string[] = [], addingForbidden: string[] = [];
  const forbiddenCaps = new Set<string>();
  for (const c of containers(spec)) {
    const caps = capabilities(c);
    if (!caps) {
      missingDropAll.push(getStr(c, 'name'));
      continue;
    }
    if (!capList(caps, 'drop').includes('ALL')) missingDropAll.push(getStr(c, 'name'));
    const extra = capList(caps, 'add').filter((cap) => cap !== 'NET_BIND_SERVICE');
    extra.forEach((cap) => forbiddenCaps.add(cap));
    if (extra.length > 0) addingForbidden.push(getStr(c, 'name'));
  }
  const details: string[] = [];
  if (missingDropAll.length > 0) details.push(`${containersText(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (addingForbidden.length > 0) {
    details.push(`${containersText(addingForbidden)} must not include ${joinQuote(sortedUnique(forbiddenCaps))} in securityContext.capabilities.add`);
  }
  if (details.length === 0) return undefined;
  return { reason: 'unrestricted capabilities', detail: details.join('; ') };
}

function hostNamespaces(_m: Obj, spec: Obj): CheckFailure | undefined {
  const used = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => spec[f] === true).map((f) => `${f}=true`);
  if (used.length === 0) return undefined;
  return { reason: 'host namespaces', detail: used.join(', ') };
}

function hostPathVolumes(_m: Obj, spec: Obj): CheckFailure | undefined {
  const vols = getArr(spec, 'volumes').filter((v) => getObj(v, 'hostPath') !== undefined).map((v) => getStr(v, 'name'));
  if (vols.length === 0) return undefined;
  return { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', vols.length)} ${joinQuote(vols)}` };
}

function hostPorts(_m: Obj, spec: Obj): CheckFailure | undefined {
  const bad: string[] = [];
  const ports = new Set<string>();
  for (const c of containers(spec)) {
    const hp = getArr(c, 'ports').map((p) => p['hostPort']).filter((p) => typeof p === 'number' && p !== 0);
    hp.forEach((p) => ports.add(String(p)));
    if (hp.length > 0) bad.push(getStr(c, 'name'));
  }
  if (bad.length === 0) return undefined;
  const list = sortedUnique(ports);
  return {
    reason: 'hostPort',
    detail: `${containersText(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', list.length)} ${list.join(', ')}`,
  };
}

function privileged(_m: Obj, spec: Obj): CheckFailure | undefined {
  const bad = containers(spec).filter((c) => sc(c)?.['privileged'] === true);
  if (bad.length === 0) return undefined;
  return { reason: 'privileged', detail: `${containersText(names(bad))} must not set securityContext.privileged=true` };
}

function procMount(_m: Obj, spec: Obj): CheckFailure | undefined {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const c of containers(spec)) {
    const pm = sc(c)?.['procMount'];
    if (typeof pm === 'string' && pm !== 'Default') {
      bad.push(getStr(c, 'name'));
      types.add(pm);
    }
  }
  if (bad.length === 0) return undefined;
  return { reason: 'procMount', detail: `${containersText(bad)} must not set securityContext.procMount to ${joinQuote(sortedUnique(types))}` };
}

const ALLOWED_VOLUME_SOURCES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
/** Restricted volume sources in upstream's order of precedence (and their names in messages). */
const RESTRICTED_VOLUME_SOURCES = ['hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs',
  'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk',
  'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos'];

function restrictedVolumes(_m: Obj, spec: Obj): CheckFailure | undefined {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of getArr(spec, 'volumes')) {
    if (ALLOWED_VOLUME_SOURCES.some((s) => getObj(v, s) !== undefined)) continue;
    bad.push(getStr(v, 'name'));
    types.add(RESTRICTED_VOLUME_SOURCES.find((s) => getObj(v, s) !== undefined) ?? 'unknown');
  }
  if (bad.length === 0) return undefined;
  const list = sortedUnique(types);
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} `
      + `${pluralize('restricted volume type', 'restricted volume types', list.length)} ${joinQuote(list)}`,
  };
}

function runAsNonRoot(_m: Obj, spec: Obj): CheckFailure | undefined {
  const podValue = sc(spec)?.['runAsNonRoot'];
  const podBad = podValue === false;
  const podNonRoot = podValue === true;
  const explicit: string[] = [], implicit: string[] = [];
  for (const c of containers(spec)) {
    const v = sc(c)?.['runAsNonRoot'];
    if (typeof v === 'boolean') {
      if (!v) explicit.push(getStr(c, 'name'));
    } else if (!podNonRoot) {
      implicit.push(getStr(c, 'name'));
    }
  }
  const bad = setters(podBad, explicit);
  if (bad.length > 0) return { reason: 'runAsNonRoot != true', detail: `${bad.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length > 0) return { reason: 'runAsNonRoot != true', detail: `pod or ${containersText(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
}

function runAsUser(_m: Obj, spec: Obj): CheckFailure | undefined {
  const podBad = sc(spec)?.['runAsUser'] === 0;
  const bad = setters(podBad, names(containers(spec).filter((c) => sc(c)?.['runAsUser'] === 0)));
  if (bad.length === 0) return undefined;
  return { reason: 'runAsUser=0', detail: `${bad.join(' and ')} must not set runAsUser=0` };
}

function seLinuxOptions(allowedTypes: ReadonlySet<string>): CheckPod {
  return (_m, spec) => {
    const badTypes = new Set<string>();
    let setUser = false, setRole = false;
    const valid = (opts: Obj): boolean => {
      let ok = true;
      const type = getStr(opts, 'type');
      if (!allowedTypes.has(type)) {
        ok = false;
        badTypes.add(type);
      }
      if (getStr(opts, 'user') !== '') {
        ok = false;
        setUser = true;
      }
      if (getStr(opts, 'role') !== '') {
        ok = false;
        setRole = true;
      }
      return ok;
    };
    const podOpts = getObj(sc(spec), 'seLinuxOptions');
    const podBad = podOpts !== undefined && !valid(podOpts);
    const badContainers: string[] = [];
    for (const c of containers(spec)) {
      const o = getObj(sc(c), 'seLinuxOptions');
      if (o && !valid(o)) badContainers.push(getStr(c, 'name'));
    }
    const bad = setters(podBad, badContainers);
    if (bad.length === 0) return undefined;
    const data: string[] = [];
    if (badTypes.size > 0) data.push(`${pluralize('type', 'types', badTypes.size)} ${joinQuote(sortedUnique(badTypes))}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return { reason: 'seLinuxOptions', detail: `${bad.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` };
  };
}

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

function validSeccompType(t: string): boolean {
  return t === 'Localhost' || t === 'RuntimeDefault';
}

/** Before v1.19 seccomp was set by annotations. */
function seccompProfileBaselineAnnotations(meta: Obj, spec: Obj): CheckFailure | undefined {
  const annotations = getMap(meta, 'annotations');
  const valid = (v: string): boolean => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');
  const bad = new Set<string>();
  const podValue = annotations[SECCOMP_POD_ANNOTATION];
  if (podValue !== undefined && !valid(podValue)) bad.add(`${SECCOMP_POD_ANNOTATION}=${JSON.stringify(podValue)}`);
  for (const c of containers(spec)) {
    const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + getStr(c, 'name');
    const v = annotations[key];
    if (v !== undefined && !valid(v)) bad.add(`${key}=${JSON.stringify(v)}`);
  }
  if (bad.size === 0) return undefined;
  return { reason: 'seccompProfile', detail: `forbidden ${pluralize('annotation', 'annotations', bad.size)} ${sortedUnique(bad).join(', ')}` };
}

/** Seccomp types set on pod and containers; `requireSet` makes an unset profile a failure too. */
function seccompProfile(requireSet: boolean): CheckPod {
  return (_m, spec) => {
    const badValues = new Set<string>();
    const podProfile = getObj(sc(spec), 'seccompProfile');
    const podBad = podProfile !== undefined && !validSeccompType(getStr(podProfile, 'type'));
    if (podBad) badValues.add(getStr(podProfile, 'type'));
    const podSet = podProfile !== undefined && !podBad;
    const explicit: string[] = [], implicit: string[] = [];
    for (const c of containers(spec)) {
      const p = getObj(sc(c), 'seccompProfile');
      if (p) {
        if (!validSeccompType(getStr(p, 'type'))) {
          explicit.push(getStr(c, 'name'));
          badValues.add(getStr(p, 'type'));
        }
      } else if (!podSet) {
        implicit.push(getStr(c, 'name'));
      }
    }
    const bad = setters(podBad, explicit);
    if (bad.length > 0) {
      return { reason: 'seccompProfile', detail: `${bad.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedUnique(badValues))}` };
    }
    if (requireSet && implicit.length > 0) {
      return { reason: 'seccompProfile', detail: `pod or ${containersText(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
    }
    return undefined;
  };
}

const SYSCTLS_1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start'];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [...SYSCTLS_1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes'];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];

function sysctls(allowed: readonly string[]): CheckPod {
  const set = new Set(allowed);
  return (_m, spec) => {
    const bad = getArr(sc(spec), 'sysctls').map((s) => getStr(s, 'name')).filter((n) => !set.has(n));
    if (bad.length === 0) return undefined;
    return { reason: 'forbidden sysctls', detail: bad.join(', ') };
  };
}

function windowsHostProcess(_m: Obj, spec: Obj): CheckFailure | undefined {
  const isHost = (o: Obj): boolean => getObj(sc(o), 'windowsOptions')?.['hostProcess'] === true;
  const bad = setters(isHost(spec), names(containers(spec).filter(isHost)));
  if (bad.length === 0) return undefined;
  return { reason: 'hostProcess', detail: `${bad.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` };
}

const SELINUX_TYPES_1_0 = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const SELINUX_TYPES_1_31 = new Set([...SELINUX_TYPES_1_0, 'container_engine_t']);

/** Every check of the standard with the versions at which its rule changed. */
export const POLICY_CHECKS: readonly PolicyCheck[] = [
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [
    { minVersion: 8, check: allowPrivilegeEscalation },
    { minVersion: 25, check: unlessWindows(allowPrivilegeEscalation) },
  ] },
  { id: 'appArmorProfile', level: 'baseline', versions: [{ minVersion: 0, check: appArmorProfile }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ minVersion: 0, check: capabilitiesBaseline }] },
  { id: 'capabilities_restricted', level: 'restricted', versions: [
    { minVersion: 22, check: capabilitiesRestricted, overrides: ['capabilities_baseline'] },
    { minVersion: 25, check: unlessWindows(capabilitiesRestricted), overrides: ['capabilities_baseline'] },
  ] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ minVersion: 0, check: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ minVersion: 0, check: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ minVersion: 0, check: hostPorts }] },
  { id: 'privileged', level: 'baseline', versions: [{ minVersion: 0, check: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ minVersion: 0, check: procMount }] },
  { id: 'restrictedVolumes', level: 'restricted', versions: [{ minVersion: 0, check: restrictedVolumes, overrides: ['hostPathVolumes'] }] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ minVersion: 0, check: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ minVersion: 23, check: runAsUser }] },
  { id: 'seLinuxOptions', level: 'baseline', versions: [
    { minVersion: 0, check: seLinuxOptions(SELINUX_TYPES_1_0) },
    { minVersion: 31, check: seLinuxOptions(SELINUX_TYPES_1_31) },
  ] },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [
    { minVersion: 0, check: seccompProfileBaselineAnnotations },
    { minVersion: 19, check: seccompProfile(false) },
  ] },
  { id: 'seccompProfile_restricted', level: 'restricted', versions: [
    { minVersion: 19, check: seccompProfile(true), overrides: ['seccompProfile_baseline'] },
    { minVersion: 25, check: unlessWindows(seccompProfile(true)), overrides: ['seccompProfile_baseline'] },
  ] },
  { id: 'sysctls', level: 'baseline', versions: [
    { minVersion: 0, check: sysctls(SYSCTLS_1_0) },
    { minVersion: 27, check: sysctls(SYSCTLS_1_27) },
    { minVersion: 29, check: sysctls(SYSCTLS_1_29) },
    { minVersion: 32, check: sysctls(SYSCTLS_1_32) },
  ] },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ minVersion: 0, check: windowsHostProcess }] },
];

/** The newest version any check knows; "latest" and newer versions evaluate as this one. */
export const MAX_POLICY_VERSION = Math.max(...POLICY_CHECKS.flatMap((c) => c.versions.map((v) => v.minVersion)));

function versionAt(check: PolicyCheck, minor: number): VersionedCheck | undefined {
  let found: VersionedCheck | undefined;
  for (const v of check.versions) if (v.minVersion <= minor) found = v;
  return found;
}

/** The checks to run for a level at a version (minor of 1.x), baseline ones first, each group by id. */
export function checksFor(level: Level, minor: number): CheckPod[] {
  if (level === 'privileged') return [];
  const v = Math.min(minor, MAX_POLICY_VERSION);
  const byId = (a: PolicyCheck, b: PolicyCheck): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const baseline = POLICY_CHECKS.filter((c) => c.level === 'baseline').sort(byId);
  const restricted = POLICY_CHECKS.filter((c) => c.level === 'restricted').sort(byId);
  const active = new Map<string, VersionedCheck>();
  for (const c of level === 'restricted' ? [...baseline, ...restricted] : baseline) {
    const vc = versionAt(c, v);
    if (vc) active.set(c.id, vc);
  }
  if (level === 'restricted') {
    for (const c of restricted) for (const o of active.get(c.id)?.overrides ?? []) active.delete(o);
  }
  return [...baseline, ...restricted].flatMap((c) => {
    const vc = active.get(c.id);
    return vc ? [vc.check] : [];
  });
}
