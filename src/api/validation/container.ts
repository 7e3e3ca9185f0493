// Container validation (validateContainerCommon and its parts: ports, env, mounts, probes,
// lifecycle handlers, security context) and the regular / init / ephemeral container lists.

import { duplicate, forbidden, goValue, invalid, notFound, notSupported, required, type ErrorList, type Path } from '../field_errors.ts';
import {
  isDNS1123Label, isEnvVarName, isHTTPHeaderName, isRelaxedEnvVarName, isValidGroupID, isValidPortName,
  isValidPortNum, isValidUserID, nameIsDNSSubdomain,
} from './names.ts';
import { validateObjectFieldSelector, validateResourceFieldSelector } from './downward_api.ts';
import { IsNegativeErrorMsg } from './object_meta.ts';
import { validateContainerResourceRequirements } from './resources.ts';
import { configMapKeyErrors, validateLocalDescendingPath, validatePathNoBacksteps, validatePullPolicy } from './volumes.ts';
import { validateSeccompProfileField } from './security.ts';
import { goPointerText, goStructText } from './go_format.ts';
import { isSet, list, num, obj, objAt, objList, objOr, optNum, optStr, str, strList, type Obj } from './values.ts';

/** PodValidationOptions at v1.32 feature-gate defaults. */
export interface PodOptions {
  readonly resourceIsPod: boolean;
  /** RelaxedEnvironmentVariableValidation (beta, on in v1.32). */
  readonly relaxedEnvVarNames: boolean;
}

/** The pod context a container is validated in. */
export interface ContainerContext {
  readonly volumes: ReadonlyMap<string, Obj>;
  readonly gracePeriod: number | undefined;
  readonly opts: PodOptions;
  readonly hostUsers: boolean;
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateContainerPorts(ports: unknown, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const names = new Set<string>();
  objList(ports).forEach((port, i) => {
    const idxPath = fldPath.index(i);
    const name = str(port['name']);
    if (name !== '') {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) for (const m of msgs) errs.push(invalid(idxPath.child('name'), name, m));
      else if (names.has(name)) errs.push(duplicate(idxPath.child('name'), name));
      else names.add(name);
    }
    const cp = num(port['containerPort']);
    if (cp === 0) errs.push(required(idxPath.child('containerPort'), ''));
    else for (const m of isValidPortNum(cp)) errs.push(invalid(idxPath.child('containerPort'), cp, m));
    const hp = num(port['hostPort']);
    if (hp !== 0) for (const m of isValidPortNum(hp)) errs.push(invalid(idxPath.child('hostPort'), hp, m));
    const protocol = str(port['protocol']);
    if (protocol === '') errs.push(required(idxPath.child('protocol'), ''));
    else if (!PROTOCOLS.includes(protocol)) errs.push(notSupported(idxPath.child('protocol'), protocol, PROTOCOLS));
  });
  return errs;
}

function envNameErrors(name: string, opts: PodOptions): string[] {
  return opts.relaxedEnvVarNames ? isRelaxedEnvVarName(name) : isEnvVarName(name);
}

function validateEnv(vars: unknown, fldPath: Path, opts: PodOptions): ErrorList {
  const errs: ErrorList = [];
  objList(vars).forEach((ev, i) => {
    const idxPath = fldPath.index(i);
    const name = str(ev['name']);
    if (name === '') errs.push(required(idxPath.child('name'), ''));
    else for (const m of envNameErrors(name, opts)) errs.push(invalid(idxPath.child('name'), name, m));
    const from = objAt(ev, 'valueFrom');
    if (!from) return;
    const p = idxPath.child('valueFrom');
    let numSources = 0;
    const fieldRef = objAt(from, 'fieldRef');
    if (fieldRef) {
      numSources++;
      errs.push(...validateObjectFieldSelector(fieldRef, 'env', p.child('fieldRef')));
    }
    const resourceRef = objAt(from, 'resourceFieldRef');
    if (resourceRef) {
      numSources++;
      errs.push(...validateResourceFieldSelector(resourceRef, p.child('resourceFieldRef'), false));
    }
    for (const kind of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const sel = objAt(from, kind);
      if (!sel) continue;
      numSources++;
      const name = str(sel['name']);
      for (const m of nameIsDNSSubdomain(name, false)) errs.push(invalid(p.child(kind, 'name'), name, m));
      errs.push(...configMapKeyErrors(str(sel['key']), p.child(kind, 'key')));
    }
    if (numSources === 0) {
      errs.push(invalid(p, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    } else if (str(ev['value']) !== '') {
      errs.push(invalid(p, '', 'may not be specified when `value` is not empty'));
    } else if (numSources > 1) {
      errs.push(invalid(p, '', 'may not have more than one field specified at a time'));
    }
  });
  return errs;
}

function validateEnvFrom(vars: unknown, fldPath: Path, opts: PodOptions): ErrorList {
  const errs: ErrorList = [];
  objList(vars).forEach((ev, i) => {
    const idxPath = fldPath.index(i);
    const prefix = str(ev['prefix']);
    if (prefix !== '') for (const m of envNameErrors(prefix, opts)) errs.push(invalid(idxPath.child('prefix'), prefix, m));
    let numSources = 0;
    for (const kind of ['configMapRef', 'secretRef'] as const) {
      const ref = objAt(ev, kind);
      if (!ref) continue;
      numSources++;
      const name = str(ref['name']);
      if (name === '') errs.push(required(idxPath.child(kind, 'name'), ''));
      else for (const m of nameIsDNSSubdomain(name, true)) errs.push(invalid(idxPath.child(kind, 'name'), name, m));
    }
    if (numSources === 0) errs.push(invalid(fldPath, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (numSources > 1) errs.push(invalid(fldPath, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

const PROPAGATIONS = ['Bidirectional', 'HostToContainer', 'None'];
const RRO_VALUES = ['Disabled', 'Enabled', 'IfPossible'];

function validateVolumeMounts(ctr: Obj, ctx: ContainerContext, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const devices = new Map(objList(ctr['volumeDevices']).map((d) => [str(d['name']), str(d['devicePath'])] as const));
  const devicePaths = new Set(devices.values());
  const mountpoints = new Set<string>();
  const privileged = objAt(ctr, 'securityContext')?.['privileged'] === true;
  objList(ctr['volumeMounts']).forEach((mnt, i) => {
    const idxPath = fldPath.index(i);
    const name = str(mnt['name']);
    const mountPath = str(mnt['mountPath']);
    if (name === '') errs.push(required(idxPath.child('name'), ''));
    if (!ctx.volumes.has(name)) errs.push(notFound(idxPath.child('name'), name));
    if (mountPath === '') errs.push(required(idxPath.child('mountPath'), ''));
    if (mountpoints.has(mountPath)) errs.push(invalid(idxPath.child('mountPath'), mountPath, 'must be unique'));
    mountpoints.add(mountPath);
    if (devices.has(name)) errs.push(invalid(idxPath.child('name'), name, 'must not already exist in volumeDevices'));
    if (devicePaths.has(mountPath)) errs.push(invalid(idxPath.child('mountPath'), mountPath, 'must not already exist as a path in volumeDevices'));
    const subPath = str(mnt['subPath']);
    const subPathExpr = str(mnt['subPathExpr']);
    if (isSet(ctx.volumes.get(name)?.['image'])) {
      if (subPath !== '') errs.push(invalid(idxPath.child('subPath'), subPath, 'not allowed in image volume sources'));
      if (subPathExpr !== '') errs.push(invalid(idxPath.child('subPathExpr'), subPathExpr, 'not allowed in image volume sources'));
    }
    if (subPath !== '') errs.push(...validateLocalDescendingPath(subPath, fldPath.child('subPath')));
    if (subPathExpr !== '') {
      if (subPath !== '') errs.push(invalid(idxPath.child('subPathExpr'), subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(subPathExpr, fldPath.child('subPathExpr')));
    }
    const propagation = optStr(mnt['mountPropagation']);
    if (propagation !== undefined) {
      const p = fldPath.child('mountPropagation');
      if (!PROPAGATIONS.includes(propagation)) errs.push(notSupported(p, propagation, PROPAGATIONS));
      if (propagation === 'Bidirectional' && !privileged) errs.push(forbidden(p, 'Bidirectional mount propagation is available only to privileged containers'));
    }
    const rro = optStr(mnt['recursiveReadOnly']);
    if (rro !== undefined && rro !== 'Disabled') {
      const p = fldPath.child('recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (mnt['readOnly'] !== true) errs.push(forbidden(p, 'may only be specified when readOnly is true'));
        if (propagation !== undefined && propagation !== 'None') errs.push(forbidden(p, 'may only be specified when mountPropagation is None or not specified'));
      } else {
        errs.push(notSupported(p, rro, RRO_VALUES));
      }
    }
  });
  return errs;
}

function validateVolumeDevices(ctr: Obj, ctx: ContainerContext, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const mounts = new Map(objList(ctr['volumeMounts']).map((m) => [str(m['name']), str(m['mountPath'])] as const));
  const mountPaths = new Set(mounts.values());
  const paths = new Set<string>();
  const names = new Set<string>();
  objList(ctr['volumeDevices']).forEach((dev, i) => {
    const idxPath = fldPath.index(i);
    const name = str(dev['name']);
    const devPath = str(dev['devicePath']);
    const vol = ctx.volumes.get(name);
    const isPVC = vol !== undefined && (isSet(vol['persistentVolumeClaim']) || isSet(vol['ephemeral']));
    if (name === '') errs.push(required(idxPath.child('name'), ''));
    if (names.has(name)) errs.push(invalid(idxPath.child('name'), name, 'must be unique'));
    if (vol !== undefined && !isPVC) errs.push(invalid(idxPath.child('name'), name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    if (vol === undefined) errs.push(notFound(idxPath.child('name'), name));
    if (devPath === '') errs.push(required(idxPath.child('devicePath'), ''));
    if (paths.has(devPath)) errs.push(invalid(idxPath.child('devicePath'), devPath, 'must be unique'));
    if (devPath !== '' && validatePathNoBacksteps(devPath, fldPath).length > 0) {
      errs.push(invalid(idxPath.child('devicePath'), devPath, "can not contain backsteps ('..')"));
    } else {
      paths.add(devPath);
    }
    if (mounts.has(name)) errs.push(invalid(idxPath.child('name'), name, 'must not already exist in volumeMounts'));
    if (mountPaths.has(devPath)) errs.push(invalid(idxPath.child('devicePath'), devPath, 'must not already exist as a path in volumeMounts'));
    if (name !== '') names.add(name);
  });
  return errs;
}

/** ValidatePortNumOrName: a port number or an IANA port name. */
export function validatePortNumOrName(port: unknown, fldPath: Path): ErrorList {
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(fldPath, port, m));
  const n = num(port);
  return isValidPortNum(n).map((m) => invalid(fldPath, n, m));
}

const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const;

function validateHandler(handler: Obj, kinds: readonly string[], gracePeriod: number | undefined, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  let numHandlers = 0;
  for (const kind of HANDLERS) {
    if (!kinds.includes(kind) || !isSet(handler[kind])) continue;
    const p = fldPath.child(kind);
    if (numHandlers > 0) {
      errs.push(forbidden(p, 'may not specify more than 1 handler type'));
      continue;
    }
    numHandlers++;
    const h = objOr(handler[kind]);
    switch (kind) {
      case 'exec':
        if (list(h['command']).length === 0) errs.push(required(p.child('command'), ''));
        break;
      case 'httpGet': {
        if (str(h['path']) === '') errs.push(required(p.child('path'), ''));
        errs.push(...validatePortNumOrName(h['port'], p.child('port')));
        const scheme = str(h['scheme']);
        if (scheme !== 'HTTP' && scheme !== 'HTTPS') errs.push(notSupported(p.child('scheme'), scheme, ['HTTP', 'HTTPS']));
        for (const header of objList(h['httpHeaders'])) {
          for (const m of isHTTPHeaderName(str(header['name']))) errs.push(invalid(p.child('httpHeaders'), str(header['name']), m));
        }
        break;
      }
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(h['port'], p.child('port')));
        break;
      case 'grpc':
        errs.push(...validatePortNumOrName(num(h['port']), p.child('port')));
        break;
      case 'sleep': {
        const seconds = num(h['seconds']);
        if (gracePeriod !== undefined && (seconds <= 0 || seconds > gracePeriod)) {
          errs.push(invalid(p, seconds, `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`));
        }
        break;
      }
    }
  }
  if (numHandlers === 0) errs.push(required(fldPath, 'must specify a handler type'));
  return errs;
}

function validateLifecycle(lifecycle: Obj, gracePeriod: number | undefined, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  for (const hook of ['postStart', 'preStop'] as const) {
    const h = objAt(lifecycle, hook);
    if (h) errs.push(...validateHandler(h, ['exec', 'httpGet', 'tcpSocket', 'sleep'], gracePeriod, fldPath.child(hook)));
  }
  return errs;
}

function validateProbe(probe: Obj, gracePeriod: number | undefined, fldPath: Path): ErrorList {
  const errs = validateHandler(probe, ['exec', 'httpGet', 'tcpSocket', 'grpc'], gracePeriod, fldPath);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    const v = num(probe[f]);
    if (v < 0) errs.push(invalid(fldPath.child(f), v, IsNegativeErrorMsg));
  }
  const tgps = optNum(probe['terminationGracePeriodSeconds']);
  if (tgps !== undefined && tgps <= 0) errs.push(invalid(fldPath.child('terminationGracePeriodSeconds'), tgps, 'must be greater than 0'));
  return errs;
}

function validateProbes(ctr: Obj, gracePeriod: number | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const probe = objAt(ctr, kind);
    if (!probe) continue;
    const p = path.child(kind);
    errs.push(...validateProbe(probe, gracePeriod, p));
    if (kind !== 'readinessProbe' && num(probe['successThreshold']) !== 1) errs.push(invalid(p.child('successThreshold'), num(probe['successThreshold']), 'must be 1'));
    if (kind === 'readinessProbe' && isSet(probe['terminationGracePeriodSeconds'])) {
      errs.push(invalid(p.child('terminationGracePeriodSeconds'), num(probe['terminationGracePeriodSeconds']), 'must not be set for readinessProbes'));
    }
  }
  return errs;
}

const SECURITY_CONTEXT_FIELDS: ReadonlyArray<readonly [string, string, string]> = [
  ['Capabilities', 'capabilities', 'core.Capabilities'], ['Privileged', 'privileged', 'bool'],
  ['SELinuxOptions', 'seLinuxOptions', 'core.SELinuxOptions'], ['WindowsOptions', 'windowsOptions', 'core.WindowsSecurityContextOptions'],
  ['RunAsUser', 'runAsUser', 'int64'], ['RunAsGroup', 'runAsGroup', 'int64'], ['RunAsNonRoot', 'runAsNonRoot', 'bool'],
  ['ReadOnlyRootFilesystem', 'readOnlyRootFilesystem', 'bool'], ['AllowPrivilegeEscalation', 'allowPrivilegeEscalation', 'bool'],
  ['ProcMount', 'procMount', 'core.ProcMountType'], ['SeccompProfile', 'seccompProfile', 'core.SeccompProfile'],
  ['AppArmorProfile', 'appArmorProfile', 'core.AppArmorProfile'],
];

// %#v of core.SecurityContext: every field is a pointer.
function goSecurityContextText(sc: Obj): string {
  return goStructText('core.SecurityContext', SECURITY_CONTEXT_FIELDS.map(([f, k, t]) => [f, goPointerText(t, sc[k])] as const));
}

/** ValidateSecurityContext (container level). */
function validateSecurityContext(scValue: unknown, fldPath: Path, hostUsers: boolean): ErrorList {
  const sc = obj(scValue);
  if (!sc) return [];
  const errs: ErrorList = [];
  for (const [f, check] of [['runAsUser', isValidUserID], ['runAsGroup', isValidGroupID]] as const) {
    const v = optNum(sc[f]);
    if (v !== undefined) for (const m of check(v)) errs.push(invalid(fldPath.child(f), v, m));
  }
  const procMount = optStr(sc['procMount']);
  if (procMount !== undefined) {
    if (procMount !== 'Default' && procMount !== 'Unmasked') errs.push(notSupported(fldPath.child('procMount'), procMount, ['Default', 'Unmasked']));
    if (hostUsers && procMount === 'Unmasked') errs.push(invalid(fldPath.child('procMount'), procMount, '`hostUsers` must be false to use `Unmasked`'));
  }
  errs.push(...validateSeccompProfileField(sc['seccompProfile'], fldPath.child('seccompProfile')));
  if (sc['allowPrivilegeEscalation'] === false) {
    const shown = goValue(goSecurityContextText(sc));
    if (sc['privileged'] === true) errs.push(invalid(fldPath, shown, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    if (strList(objAt(sc, 'capabilities')?.['add']).includes('CAP_SYS_ADMIN')) {
      errs.push(invalid(fldPath, shown, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  return errs;
}

const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];

/** validateContainerCommon: name, image, termination message, ports, env, mounts, pull policy, resources, security. */
function validateContainerCommon(ctr: Obj, path: Path, ctx: ContainerContext): ErrorList {
  const errs: ErrorList = [];
  const name = str(ctr['name']);
  if (name === '') errs.push(required(path.child('name'), ''));
  else for (const m of isDNS1123Label(name)) errs.push(invalid(path.child('name'), name, m));
  if (str(ctr['image']) === '') errs.push(required(path.child('image'), ''));
  const tmp = str(ctr['terminationMessagePolicy']);
  if (tmp === '') errs.push(required(path.child('terminationMessagePolicy'), ''));
  else if (!TERMINATION_MESSAGE_POLICIES.includes(tmp)) errs.push(notSupported(path.child('terminationMessagePolicy'), tmp, TERMINATION_MESSAGE_POLICIES));
  errs.push(...validateContainerPorts(ctr['ports'], path.child('ports')));
  errs.push(...validateEnv(ctr['env'], path.child('env'), ctx.opts));
  errs.push(...validateEnvFrom(ctr['envFrom'], path.child('envFrom'), ctx.opts));
  errs.push(...validateVolumeMounts(ctr, ctx, path.child('volumeMounts')));
  errs.push(...validateVolumeDevices(ctr, ctx, path.child('volumeDevices')));
  errs.push(...validatePullPolicy(str(ctr['imagePullPolicy']), path.child('imagePullPolicy')));
  errs.push(...validateContainerResourceRequirements(ctr['resources'], path.child('resources')));
  errs.push(...validateSecurityContext(ctr['securityContext'], path.child('securityContext'), ctx.hostUsers));
  return errs;
}

function checkHostPortConflicts(containers: Obj[], fldPath: Path, firstIndex = 0): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  containers.forEach((ctr, ci) => {
    objList(ctr['ports']).forEach((port, pi) => {
      const hp = num(port['hostPort']);
      if (hp === 0) return;
      const key = `${str(port['protocol'])}/${str(port['hostIP'])}/${hp}`;
      const p = fldPath.index(firstIndex + ci).child('ports').index(pi).child('hostPort');
      if (seen.has(key)) errs.push(duplicate(p, key));
      else seen.add(key);
    });
  });
  return errs;
}

/** validateContainers: at least one, unique names, probes and lifecycle allowed. */
export function validateContainers(containers: unknown, fldPath: Path, ctx: ContainerContext): ErrorList {
  const list = objList(containers);
  if (list.length === 0) return [required(fldPath, '')];
  const errs: ErrorList = [];
  const names = new Set<string>();
  list.forEach((ctr, i) => {
    const path = fldPath.index(i);
    errs.push(...validateContainerCommon(ctr, path, ctx));
    const name = str(ctr['name']);
    if (names.has(name)) errs.push(duplicate(path.child('name'), name));
    else names.add(name);
    const lifecycle = objAt(ctr, 'lifecycle');
    if (lifecycle) errs.push(...validateLifecycle(lifecycle, ctx.gracePeriod, path.child('lifecycle')));
    errs.push(...validateProbes(ctr, ctx.gracePeriod, path));
    if (isSet(ctr['restartPolicy'])) errs.push(forbidden(path.child('restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(list, fldPath));
  return errs;
}

/** validateInitContainers: names unique across regular and init containers; sidecars get probes. */
export function validateInitContainers(containers: unknown, regular: unknown, fldPath: Path, ctx: ContainerContext): ErrorList {
  const errs: ErrorList = [];
  const names = new Set(objList(regular).map((c) => str(c['name'])));
  objList(containers).forEach((ctr, i) => {
    const idxPath = fldPath.index(i);
    errs.push(...validateContainerCommon(ctr, idxPath, ctx));
    let restartAlways = false;
    const rp = optStr(ctr['restartPolicy']);
    if (rp !== undefined) {
      if (rp !== 'Always') errs.push(notSupported(idxPath.child('restartPolicy'), rp, ['Always']));
      restartAlways = rp === 'Always';
    }
    const name = str(ctr['name']);
    if (names.has(name)) errs.push(duplicate(idxPath.child('name'), name));
    else if (name !== '') names.add(name);
    errs.push(...checkHostPortConflicts([ctr], fldPath, i));
    if (restartAlways) {
      const lifecycle = objAt(ctr, 'lifecycle');
      if (lifecycle) errs.push(...validateLifecycle(lifecycle, ctx.gracePeriod, idxPath.child('lifecycle')));
      errs.push(...validateProbes(ctr, ctx.gracePeriod, idxPath));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (isSet(ctr[f])) errs.push(forbidden(idxPath.child(f), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

// Fields an ephemeral container may set, in EphemeralContainerCommon's field order.
const EPHEMERAL_FIELDS: ReadonlyArray<readonly [string, boolean]> = [
  ['name', true], ['image', true], ['command', true], ['args', true], ['workingDir', true], ['ports', false],
  ['envFrom', true], ['env', true], ['resources', false], ['resizePolicy', false], ['restartPolicy', false],
  ['volumeMounts', true], ['volumeDevices', true], ['livenessProbe', false], ['readinessProbe', false],
  ['startupProbe', false], ['lifecycle', false], ['terminationMessagePath', true], ['terminationMessagePolicy', true],
  ['imagePullPolicy', true], ['securityContext', true], ['stdin', true], ['stdinOnce', true], ['tty', true],
];

function isNonZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/** validateEphemeralContainers. */
export function validateEphemeralContainers(ephemeral: unknown, containers: unknown, initContainers: unknown, fldPath: Path, ctx: ContainerContext): ErrorList {
  const list = objList(ephemeral);
  if (list.length === 0) return [];
  const errs: ErrorList = [];
  const others = new Set([...objList(containers), ...objList(initContainers)].map((c) => str(c['name'])));
  const all = new Set(others);
  list.forEach((ec, i) => {
    const idxPath = fldPath.index(i);
    errs.push(...validateContainerCommon(ec, idxPath, ctx));
    errs.push(...validateContainerOnlyForPod(ec, idxPath));
    const name = str(ec['name']);
    if (all.has(name)) errs.push(duplicate(idxPath.child('name'), name));
    else all.add(name);
    const target = str(ec['targetContainerName']);
    if (target !== '' && !others.has(target)) errs.push(notFound(idxPath.child('targetContainerName'), target));
    for (const [f, allowed] of EPHEMERAL_FIELDS) {
      if (!allowed && isNonZero(ec[f])) errs.push(forbidden(idxPath.child(f), 'cannot be set for an Ephemeral Container'));
    }
    objList(ec['volumeMounts']).forEach((vm, j) => {
      for (const f of ['subPath', 'subPathExpr']) {
        if (str(vm[f]) !== '') errs.push(forbidden(idxPath.child('volumeMounts').index(j).child(f), 'cannot be set for an Ephemeral Container'));
      }
    });
  });
  return errs;
}

/** validateContainerOnlyForPod: no whitespace around the image. */
export function validateContainerOnlyForPod(ctr: Obj, path: Path): ErrorList {
  const image = str(ctr['image']);
  return image !== image.trim() ? [invalid(path.child('image'), image, 'must not have leading or trailing whitespace')] : [];
}
