// Security settings shared by pods and containers: seccomp and AppArmor profiles, the pod-level
// security context (ids, sysctls, fsGroupChangePolicy) and the deprecated seccomp annotations.

import { duplicate, forbidden, goValue, invalid, notSupported, required, tooLong, type ErrorList, type Path } from '../field_errors.ts';
import { goPointerText, goStructText } from './go_format.ts';
import { isValidGroupID, isValidUserID } from './names.ts';
import { validateLocalDescendingPath } from './volumes.ts';
import { goQuote } from '../go_strings.ts';
import { list, num, obj, optNum, optStr, str, type Obj } from './values.ts';

const SECCOMP_TYPES = ['Localhost', 'RuntimeDefault', 'Unconfined'];

/** validateSeccompProfileField. */
export function validateSeccompProfileField(value: unknown, fldPath: Path): ErrorList {
  const sp = obj(value);
  if (!sp) return [];
  const errs: ErrorList = [];
  const type = str(sp['type']);
  if (type === '') errs.push(required(fldPath.child('type'), 'type is required when seccompProfile is set'));
  else if (!SECCOMP_TYPES.includes(type)) errs.push(notSupported(fldPath.child('type'), type, SECCOMP_TYPES));
  const localhost = optStr(sp['localhostProfile']);
  if (type === 'Localhost') {
    if (localhost === undefined) errs.push(required(fldPath.child('localhostProfile'), 'must be set when seccomp type is Localhost'));
    else errs.push(...validateLocalDescendingPath(localhost, fldPath.child('localhostProfile')));
  } else if (localhost !== undefined) {
    const shown = goStructText('core.SeccompProfile', [['Type', goQuote(type)], ['LocalhostProfile', goPointerText('string', localhost)]]);
    errs.push(invalid(fldPath.child('localhostProfile'), goValue(shown), 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

/** ValidateAppArmorProfileField. */
export function validateAppArmorProfileField(value: unknown, fldPath: Path): ErrorList {
  const profile = obj(value);
  if (!profile) return [];
  const errs: ErrorList = [];
  const type = str(profile['type']);
  const localhost = optStr(profile['localhostProfile']);
  switch (type) {
    case 'Localhost':
      if (localhost === undefined) {
        errs.push(required(fldPath.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      } else {
        const trimmed = localhost.trim();
        if (trimmed !== localhost) errs.push(invalid(fldPath.child('localhostProfile'), localhost, 'must not be padded with whitespace'));
        else if (trimmed === '') errs.push(required(fldPath.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
        if (localhost.length > 4095) errs.push(tooLong(fldPath.child('localhostProfile'), 4095));
      }
      break;
    case 'RuntimeDefault':
    case 'Unconfined':
      if (localhost !== undefined) errs.push(invalid(fldPath.child('localhostProfile'), localhost, 'can only be set when AppArmor type is Localhost'));
      break;
    case '':
      errs.push(required(fldPath.child('type'), 'type is required when appArmorProfile is set'));
      break;
    default:
      errs.push(notSupported(fldPath.child('type'), type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  }
  return errs;
}

const SYSCTL_SEGMENT = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const SYSCTL_FMT = `(${SYSCTL_SEGMENT}[\\./])*${SYSCTL_SEGMENT}`;
const sysctlRegexp = new RegExp(`^${SYSCTL_FMT}$`);

function sysctlNamespace(name: string): 'net' | 'ipc' | '' {
  const n = name.replace(/\//g, '.');
  if (n.startsWith('net.')) return 'net';
  if (n.startsWith('fs.mqueue.') || ['kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'kernel.msgmax',
    'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem'].includes(n)) return 'ipc';
  return '';
}

/**
 * validatePodSpecSecurityContext. The v1 host namespace flags live in the pod spec; upstream's
 * internal type keeps them in the security context, which is where its errors point.
 */
export function validatePodSecurityContext(spec: Obj, fldPath: Path): ErrorList {
  const sc = obj(spec['securityContext']);
  if (!sc) return [];
  const errs: ErrorList = [];
  const fsGroup = optNum(sc['fsGroup']);
  if (fsGroup !== undefined) for (const m of isValidGroupID(fsGroup)) errs.push(invalid(fldPath.child('fsGroup'), fsGroup, m));
  const runAsUser = optNum(sc['runAsUser']);
  if (runAsUser !== undefined) for (const m of isValidUserID(runAsUser)) errs.push(invalid(fldPath.child('runAsUser'), runAsUser, m));
  const runAsGroup = optNum(sc['runAsGroup']);
  if (runAsGroup !== undefined) for (const m of isValidGroupID(runAsGroup)) errs.push(invalid(fldPath.child('runAsGroup'), runAsGroup, m));
  list(sc['supplementalGroups']).forEach((g, i) => {
    for (const m of isValidGroupID(num(g))) errs.push(invalid(fldPath.child('supplementalGroups').index(i), num(g), m));
  });
  if (spec['shareProcessNamespace'] === true && spec['hostPID'] === true) {
    errs.push(invalid(fldPath.child('shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  const seen = new Set<string>();
  list(sc['sysctls']).forEach((raw, i) => {
    const p = fldPath.child('sysctls').index(i).child('name');
    const name = str(obj(raw)?.['name']);
    if (name === '') errs.push(required(p, ''));
    else if (name.length > 253 || !sysctlRegexp.test(name)) errs.push(invalid(p, name, `must have at most 253 characters and match regex ^${SYSCTL_FMT}$`));
    else if (seen.has(name)) errs.push(duplicate(p, name));
    const ns = sysctlNamespace(name);
    if (spec['hostNetwork'] === true && ns === 'net') errs.push(invalid(p, name, "may not be specified when 'hostNetwork' is true"));
    else if (spec['hostIPC'] === true && ns === 'ipc') errs.push(invalid(p, name, "may not be specified when 'hostIPC' is true"));
    seen.add(name);
  });
  const changePolicy = optStr(sc['fsGroupChangePolicy']);
  if (changePolicy !== undefined && changePolicy !== 'Always' && changePolicy !== 'OnRootMismatch') {
    errs.push(notSupported(fldPath.child('fsGroupChangePolicy'), changePolicy, ['Always', 'OnRootMismatch']));
  }
  errs.push(...validateSeccompProfileField(sc['seccompProfile'], fldPath.child('seccompProfile')));
  errs.push(...validateAppArmorProfileField(sc['appArmorProfile'], fldPath.child('appArmorProfile')));
  return errs;
}

/** ValidateSeccompProfile for the deprecated annotations. */
function validateSeccompAnnotationValue(p: string, fldPath: Path): ErrorList {
  if (p === 'runtime/default' || p === 'docker/default' || p === 'unconfined') return [];
  if (p.startsWith('localhost/')) return validateLocalDescendingPath(p.slice('localhost/'.length), fldPath);
  return [invalid(fldPath, p, 'must be a valid seccomp profile')];
}

/** ValidateSeccompPodAnnotations. */
export function validateSeccompPodAnnotations(annotations: Record<string, string>, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const podKey = 'seccomp.security.alpha.kubernetes.io/pod';
  if (podKey in annotations) errs.push(...validateSeccompAnnotationValue(annotations[podKey] as string, fldPath.child(podKey)));
  for (const [k, v] of Object.entries(annotations)) {
    if (k.startsWith('container.seccomp.security.alpha.kubernetes.io/')) errs.push(...validateSeccompAnnotationValue(v, fldPath.child(k)));
  }
  return errs;
}

/** validateWindows-style forbidden list is not needed on Linux nodes; only the os name is checked. */
export function validatePodOS(spec: Obj, fldPath: Path): ErrorList {
  const os = obj(spec['os']);
  if (!os) return [];
  const name = str(os['name']);
  if (name === '') return [required(fldPath.child('name'), 'cannot be empty')];
  if (name !== 'linux' && name !== 'windows') return [notSupported(fldPath, name, ['linux', 'windows'])];
  if (name === 'linux') {
    const errs: ErrorList = [];
    if (obj(obj(spec['securityContext'])?.['windowsOptions'])) {
      errs.push(forbidden(fldPath.parent!.child('securityContext', 'windowsOptions'), 'windows options cannot be set for a linux pod'));
    }
    return errs;
  }
  return [];
}
