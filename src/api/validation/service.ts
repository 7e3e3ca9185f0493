// Service validation (ValidateService, ValidateServiceUpdate) beyond ObjectMeta: ports, type,
// session affinity, cluster IPs and IP families (including "may not change once set" on update),
// external IPs, source ranges and traffic policies.

import { duplicate, forbidden, goValue, invalid, newPath, notSupported, required, type ErrorList, type GoValue, type Path } from '../field_errors.ts';
import { goQuote } from '../go_strings.ts';
import { validatePortNumOrName } from './container.ts';
import { goIntOrStringText, goPointerText, goStringSlice, goStringSliceText, goStructText } from './go_format.ts';
import { isDNS1123Label, isDNS1123Subdomain, isIPv4, isValidCIDR, isValidIP, isValidPortNum, parseIPSloppy } from './names.ts';
import { validateLabelName, validateLabels } from './object_meta.ts';
import { isSet, list, num, objList, objOr, optNum, optStr, str, strList, strMap, type Obj } from './values.ts';

const SPEC = newPath('spec');
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;
const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';
const TOPOLOGY_HINTS = 'service.kubernetes.io/topology-aware-hints';
const LB_SOURCE_RANGES = 'service.beta.kubernetes.io/load-balancer-source-ranges';

function specOf(svc: Obj): Obj {
  return objOr(svc['spec']);
}

function isHeadless(spec: Obj): boolean {
  const ips = strList(spec['clusterIPs']);
  return ips.length === 1 && ips[0] === 'None';
}

function isIPv6String(s: string): boolean {
  const ip = parseIPSloppy(s);
  return ip !== null && !isIPv4(ip);
}

function externallyAccessible(spec: Obj): boolean {
  const type = str(spec['type']);
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && list(spec['externalIPs']).length > 0);
}

function needsHealthCheck(spec: Obj): boolean {
  return str(spec['type']) === 'LoadBalancer' && str(spec['externalTrafficPolicy']) === 'Local';
}

/** ValidateNonSpecialIP: no unspecified, loopback or link-local addresses. */
export function validateNonSpecialIP(address: string, fldPath: Path): ErrorList {
  const ip = parseIPSloppy(address);
  if (ip === null) return [invalid(fldPath, address, 'must be a valid IP address')];
  const b = ip.bytes;
  const v4 = isIPv4(ip) ? b.slice(b.length - 4) : null;
  const errs: ErrorList = [];
  const allZero = b.every((x) => x === 0) || (v4 !== null && v4.every((x) => x === 0));
  if (allZero) errs.push(invalid(fldPath, address, `may not be unspecified (${address})`));
  const loopback = v4 !== null ? v4[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  if (loopback) errs.push(invalid(fldPath, address, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  const linkLocal = v4 !== null ? v4[0] === 169 && v4[1] === 254 : b[0] === 0xfe && ((b[1] ?? 0) & 0xc0) === 0x80;
  if (linkLocal) errs.push(invalid(fldPath, address, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  const llMulticast = v4 !== null ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0 : b[0] === 0xff && ((b[1] ?? 0) & 0x0f) === 0x02;
  if (llMulticast) errs.push(invalid(fldPath, address, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

function validateServicePort(sp: Obj, requireName: boolean, names: Set<string>, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const name = str(sp['name']);
  if (requireName && name === '') {
    errs.push(required(fldPath.child('name'), ''));
  } else if (name !== '') {
    for (const m of isDNS1123Label(name)) errs.push(invalid(fldPath.child('name'), name, m));
    if (names.has(name)) errs.push(duplicate(fldPath.child('name'), name));
    else names.add(name);
  }
  const port = num(sp['port']);
  for (const m of isValidPortNum(port)) errs.push(invalid(fldPath.child('port'), port, m));
  const protocol = str(sp['protocol']);
  if (protocol === '') errs.push(required(fldPath.child('protocol'), ''));
  else if (!PROTOCOLS.includes(protocol)) errs.push(notSupported(fldPath.child('protocol'), protocol, PROTOCOLS));
  errs.push(...validatePortNumOrName(sp['targetPort'], fldPath.child('targetPort')));
  const appProtocol = optStr(sp['appProtocol']);
  if (appProtocol !== undefined) errs.push(...validateLabelName(appProtocol, fldPath.child('appProtocol')));
  return errs;
}

function goServicePortKey(protocol: string, port: number): string {
  return goStructText('core.ServicePort', [
    ['Name', '""'], ['Protocol', goQuote(protocol)], ['AppProtocol', goPointerText('string', null)], ['Port', String(port)],
    ['TargetPort', goIntOrStringText(0)], ['NodePort', '0'],
  ]);
}

function validateClusterIPsRelatedFields(spec: Obj): ErrorList {
  if (str(spec['type']) === 'ExternalName') return [];
  const errs: ErrorList = [];
  const clusterIPsPath = SPEC.child('clusterIPs');
  const clusterIP = str(spec['clusterIP']);
  const clusterIPs = strList(spec['clusterIPs']);
  const families = strList(spec['ipFamilies']);
  let hasInvalidIPs = false;
  if (clusterIP !== '') {
    if (clusterIPs.length === 0) errs.push(required(clusterIPsPath, ''));
    else if (clusterIPs[0] !== clusterIP) errs.push(invalid(clusterIPsPath, clusterIPs, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length !== 0) {
    errs.push(invalid(clusterIPsPath, clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(notSupported(SPEC.child('ipFamilies').index(i), f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(duplicate(SPEC.child('ipFamilies').index(i), f));
    seen.add(f);
  });
  const policy = optStr(spec['ipFamilyPolicy']);
  if (policy !== undefined && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(policy)) {
    errs.push(notSupported(SPEC.child('ipFamilyPolicy'), policy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  }
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        hasInvalidIPs = true;
        errs.push(invalid(clusterIPsPath, clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const ipErrs = isValidIP(clusterIPsPath.index(i), ip);
    if (ipErrs.length > 0) hasInvalidIPs = true;
    errs.push(...ipErrs);
  });
  if (clusterIPs.length > 2) errs.push(invalid(clusterIPsPath, clusterIPs, 'may only hold up to 2 values'));
  if (hasInvalidIPs) return errs;
  if (clusterIPs.length > 1) {
    const v6 = clusterIPs.filter(isIPv6String).length;
    if (v6 === 0 || v6 === clusterIPs.length) errs.push(invalid(clusterIPsPath, clusterIPs, 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(spec) && clusterIPs.length > 0 && families.length > 0) {
    clusterIPs.forEach((ip, i) => {
      if (i > families.length - 1) return;
      if (families[i] === 'IPv4' && isIPv6String(ip)) errs.push(invalid(clusterIPsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !isIPv6String(ip)) errs.push(invalid(clusterIPsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function validateLoadBalancerClass(oldSpec: Obj | null, spec: Obj): ErrorList {
  const errs: ErrorList = [];
  const isLB = str(spec['type']) === 'LoadBalancer';
  const cls = optStr(spec['loadBalancerClass']);
  if (oldSpec !== null && isLB && str(oldSpec['type']) === 'LoadBalancer' && optStr(oldSpec['loadBalancerClass']) !== cls) {
    errs.push(invalid(SPEC.child('loadBalancerClass'), cls ?? null, 'may not change once set'));
  }
  if (isLB) {
    if (cls !== undefined) errs.push(...validateLabelName(cls, SPEC.child('loadBalancerClass')));
  } else if (cls !== undefined) {
    errs.push(forbidden(SPEC.child('loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

/** ValidateService without ValidateObjectMeta. */
export function validateService(svc: Obj): ErrorList {
  const spec = specOf(svc);
  const annotations = strMap(objOr(svc['metadata'])['annotations']);
  const errs: ErrorList = [];
  if (TOPOLOGY_MODE in annotations && TOPOLOGY_HINTS in annotations && annotations[TOPOLOGY_MODE] !== annotations[TOPOLOGY_HINTS]) {
    errs.push(invalid(newPath('metadata', 'annotations').key(TOPOLOGY_MODE), annotations[TOPOLOGY_MODE], `must match annotations[${TOPOLOGY_HINTS}] when both are specified`));
  }
  const type = str(spec['type']);
  const ports = objList(spec['ports']);
  const headless = isHeadless(spec);
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(required(SPEC.child('ports'), ''));
  const clusterIPs = strList(spec['clusterIPs']);
  if ((type === 'LoadBalancer' || type === 'NodePort') && headless) {
    errs.push(invalid(SPEC.child('clusterIPs').index(0), clusterIPs[0], `may not be set to 'None' for ${type} services`));
  } else if (type === 'ExternalName') {
    if (clusterIPs.length > 0) errs.push(forbidden(SPEC.child('clusterIPs'), 'may not be set for ExternalName services'));
    if (list(spec['ipFamilies']).length > 0) errs.push(forbidden(SPEC.child('ipFamilies'), 'may not be set for ExternalName services'));
    if (isSet(spec['ipFamilyPolicy'])) errs.push(forbidden(SPEC.child('ipFamilyPolicy'), 'may not be set for ExternalName services'));
    const externalName = str(spec['externalName']);
    const cname = externalName.endsWith('.') ? externalName.slice(0, -1) : externalName;
    if (cname !== '') for (const m of isDNS1123Subdomain(cname)) errs.push(invalid(SPEC.child('externalName'), cname, m));
    else errs.push(required(SPEC.child('externalName'), ''));
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, SPEC.child('ports').index(i))));
  if (isSet(spec['selector'])) errs.push(...validateLabels(strMap(spec['selector']), SPEC.child('selector')));
  const affinity = str(spec['sessionAffinity']);
  if (affinity === '') errs.push(required(SPEC.child('sessionAffinity'), ''));
  else if (affinity !== 'ClientIP' && affinity !== 'None') errs.push(notSupported(SPEC.child('sessionAffinity'), affinity, ['ClientIP', 'None']));
  const configPath = SPEC.child('sessionAffinityConfig');
  if (affinity === 'ClientIP') {
    const config = spec['sessionAffinityConfig'];
    const clientIP = objOr(config)['clientIP'];
    const detail = 'when session affinity type is ClientIP';
    if (!isSet(config)) errs.push(required(configPath, detail));
    else if (!isSet(clientIP)) errs.push(required(configPath.child('clientIP'), detail));
    else {
      const timeout = optNum(objOr(clientIP)['timeoutSeconds']);
      const p = configPath.child('clientIP', 'timeoutSeconds');
      if (timeout === undefined) errs.push(required(p, detail));
      else if (timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS) {
        errs.push(invalid(p, timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
      }
    }
  } else if (affinity === 'None' && isSet(spec['sessionAffinityConfig'])) {
    errs.push(forbidden(configPath, 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPsRelatedFields(spec));
  strList(spec['externalIPs']).forEach((ip, i) => {
    const p = SPEC.child('externalIPs').index(i);
    const ipErrs = isValidIP(p, ip);
    errs.push(...(ipErrs.length > 0 ? ipErrs : validateNonSpecialIP(ip, p)));
  });
  if (type === '') errs.push(required(SPEC.child('type'), ''));
  else if (!SERVICE_TYPES.includes(type)) errs.push(notSupported(SPEC.child('type'), type, SERVICE_TYPES));
  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (num(p['nodePort']) !== 0) errs.push(forbidden(SPEC.child('ports').index(i).child('nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const nodePort = num(p['nodePort']);
    if (nodePort === 0) return;
    const key = `${str(p['protocol'])}/${nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(SPEC.child('ports').index(i).child('nodePort'), nodePort));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${str(p['protocol'])}/${num(p['port'])}`;
    if (portKeys.has(key)) errs.push(duplicate(SPEC.child('ports').index(i), goValue(goServicePortKey(str(p['protocol']), num(p['port'])))));
    portKeys.add(key);
  });
  const ranges = strList(spec['loadBalancerSourceRanges']);
  if (ranges.length > 0) {
    const p = SPEC.child('LoadBalancerSourceRanges');
    if (type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...isValidCIDR(p.index(i), r.trim())));
  } else if (LB_SOURCE_RANGES in annotations) {
    const p = newPath('metadata', 'annotations').key(LB_SOURCE_RANGES);
    if (type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const val = (annotations[LB_SOURCE_RANGES] as string).trim();
    if (val !== '') for (const cidr of val.split(',')) errs.push(...isValidCIDR(p, cidr.trim()));
  }
  if (isSet(spec['allocateLoadBalancerNodePorts']) && type !== 'LoadBalancer') {
    errs.push(forbidden(SPEC.child('allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === 'LoadBalancer' && !isSet(spec['allocateLoadBalancerNodePorts'])) errs.push(required(newPath('allocateLoadBalancerNodePorts'), ''));
  errs.push(...validateLoadBalancerClass(null, spec));
  errs.push(...validateTrafficPolicies(spec));
  return errs;
}

function validateTrafficPolicies(spec: Obj): ErrorList {
  const errs: ErrorList = [];
  const etp = str(spec['externalTrafficPolicy']);
  if (!externallyAccessible(spec)) {
    if (etp !== '') errs.push(invalid(SPEC.child('externalTrafficPolicy'), etp, 'may only be set for externally-accessible services'));
  } else if (etp === '') {
    errs.push(required(SPEC.child('externalTrafficPolicy'), ''));
  } else if (etp !== 'Cluster' && etp !== 'Local') {
    errs.push(notSupported(SPEC.child('externalTrafficPolicy'), etp, ['Cluster', 'Local']));
  }
  const hcnp = num(spec['healthCheckNodePort']);
  if (!needsHealthCheck(spec)) {
    if (hcnp !== 0) errs.push(invalid(SPEC.child('healthCheckNodePort'), hcnp, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (hcnp === 0) {
    errs.push(required(SPEC.child('healthCheckNodePort'), ''));
  } else {
    for (const m of isValidPortNum(hcnp)) errs.push(invalid(SPEC.child('healthCheckNodePort'), hcnp, m));
  }
  const type = str(spec['type']);
  const itp = optStr(spec['internalTrafficPolicy']);
  if (itp === undefined && (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP')) {
    errs.push(required(SPEC.child('internalTrafficPolicy'), ''));
  }
  if (itp !== undefined && itp !== 'Cluster' && itp !== 'Local') errs.push(notSupported(SPEC.child('internalTrafficPolicy'), itp, ['Cluster', 'Local']));
  const td = optStr(spec['trafficDistribution']);
  if (td !== undefined && td !== 'PreferClose') errs.push(notSupported(SPEC.child('trafficDistribution'), td, ['PreferClose']));
  return errs;
}

function validateUpgradeDowngradeClusterIPs(oldSpec: Obj, spec: Obj): ErrorList {
  if (str(spec['type']) === 'ExternalName' || str(oldSpec['type']) === 'ExternalName') return [];
  if (isHeadless(oldSpec) && isHeadless(spec)) return [];
  const errs: ErrorList = [];
  const oldIPs = strList(oldSpec['clusterIPs']);
  const newIPs = strList(spec['clusterIPs']);
  const p0 = SPEC.child('clusterIPs').index(0);
  const shown = goStringSlice(spec['clusterIPs']);
  if (oldIPs.length === newIPs.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== newIPs[i]) errs.push(invalid(SPEC.child('clusterIPs').index(i), shown, 'may not change once set'));
    });
  } else if (oldIPs.length > newIPs.length) {
    if (newIPs.length === 0) errs.push(invalid(p0, shown, 'primary clusterIP can not be unset'));
    if (oldIPs.length > 0 && newIPs.length > 0 && newIPs[0] !== oldIPs[0]) errs.push(invalid(p0, shown, 'may not change once set'));
    if (newIPs.length === 1 && str(spec['ipFamilyPolicy']) !== 'SingleStack') {
      errs.push(invalid(SPEC.child('ipFamilyPolicy'), optStr(spec['ipFamilyPolicy']) ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (oldIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
    errs.push(invalid(p0, shown, 'may not change once set'));
  }
  return errs;
}

function goFamilies(spec: Obj): GoValue {
  return goValue(goStringSliceText(spec['ipFamilies'], '[]core.IPFamily'));
}

function validateUpgradeDowngradeIPFamilies(oldSpec: Obj, spec: Obj): ErrorList {
  if (str(spec['type']) === 'ExternalName' || str(oldSpec['type']) === 'ExternalName') return [];
  if (isHeadless(oldSpec) !== isHeadless(spec) || isHeadless(spec)) return [];
  const errs: ErrorList = [];
  const oldF = strList(oldSpec['ipFamilies']);
  const newF = strList(spec['ipFamilies']);
  const p0 = SPEC.child('ipFamilies').index(0);
  if (oldF.length === newF.length) {
    oldF.forEach((f, i) => {
      if (f !== newF[i]) errs.push(invalid(p0, goFamilies(spec), 'may not change once set'));
    });
  } else if (oldF.length > newF.length) {
    if (strList(spec['clusterIPs']).length === 0) errs.push(invalid(p0, goFamilies(spec), 'primary ipFamily can not be unset'));
    if (newF.length > 0 && newF[0] !== oldF[0]) errs.push(invalid(p0, goStringSlice(spec['clusterIPs']), 'may not change once set'));
    if (newF.length === 1 && str(spec['ipFamilyPolicy']) !== 'SingleStack') {
      errs.push(invalid(SPEC.child('ipFamilyPolicy'), optStr(spec['ipFamilyPolicy']) ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (oldF.length > 0 && newF.length > 0 && newF[0] !== oldF[0]) {
    errs.push(invalid(p0, goStringSlice(spec['clusterIPs']), 'may not change once set'));
  }
  return errs;
}

/** ValidateServiceUpdate without ValidateObjectMetaUpdate. */
export function validateServiceUpdate(svc: Obj, oldSvc: Obj): ErrorList {
  const spec = specOf(svc);
  const oldSpec = specOf(oldSvc);
  const errs: ErrorList = [
    ...validateUpgradeDowngradeClusterIPs(oldSpec, spec),
    ...validateUpgradeDowngradeIPFamilies(oldSpec, spec),
    ...validateLoadBalancerClass(oldSpec, spec),
  ];
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && num(spec['healthCheckNodePort']) !== num(oldSpec['healthCheckNodePort'])) {
    errs.push(forbidden(SPEC.child('healthCheckNodePort'), 'field is immutable'));
  }
  errs.push(...validateService(svc));
  return errs;
}
