// Node validation beyond ObjectMeta: taints, capacity/allocatable quantities, pod CIDRs, and on
// update the rules that podCIDRs and providerID may only go from unset to set.

import { duplicate, forbidden, goValue, invalid, newPath, type ErrorList, type FieldError, type Path } from '../field_errors.ts';
import { goQuote } from '../go_strings.ts';
import { goPointerText, goStringSlice, goStructText } from './go_format.ts';
import { isIPv4, isValidCIDR, isValidLabelValue, parseCIDRSloppy } from './names.ts';
import { validateLabelName } from './object_meta.ts';
import { validateTaintEffect } from './pod_spec.ts';
import { quantityOf, validateResourceQuantityValue } from './resources.ts';
import { objAt, objList, objOr, str, strList, type Obj } from './values.ts';

// Upstream hangs spec.taints errors under metadata (fldPath there is the metadata path).
function validateNodeTaints(taints: unknown, fldPath: Path): ErrorList {
  const errs: ErrorList = [];
  const unique = new Map<string, Set<string>>();
  objList(taints).forEach((t, i) => {
    const p = fldPath.index(i);
    const key = str(t['key']);
    const value = str(t['value']);
    const effect = str(t['effect']);
    errs.push(...validateLabelName(key, p.child('key')));
    const msgs = isValidLabelValue(value);
    if (msgs.length > 0) errs.push(invalid(p.child('value'), value, msgs.join(';')));
    errs.push(...validateTaintEffect(effect, false, p.child('effect')));
    const keys = unique.get(effect) ?? new Set<string>();
    if (keys.has(key)) {
      const shown = goStructText('core.Taint', [['Key', goQuote(key)], ['Value', goQuote(value)], ['Effect', goQuote(effect)], ['TimeAdded', goPointerText('v1.Time', t['timeAdded'])]]);
      const e: FieldError = { ...duplicate(p, goValue(shown)), detail: 'taints must be unique by key and effect pair' };
      errs.push(e);
      return;
    }
    keys.add(key);
    unique.set(effect, keys);
  });
  return errs;
}

function validateNodeResources(node: Obj): ErrorList {
  const errs: ErrorList = [];
  for (const list of ['capacity', 'allocatable'] as const) {
    for (const [k, v] of Object.entries(objOr(objAt(node, 'status')?.[list]))) {
      const q = quantityOf(v);
      if (q !== null) errs.push(...validateResourceQuantityValue(k, q, newPath('status', list, k)));
    }
  }
  return errs;
}

/** ValidateNode without ObjectMeta. */
export function validateNode(node: Obj): ErrorList {
  const spec = objOr(node['spec']);
  const errs: ErrorList = [...validateNodeTaints(spec['taints'], newPath('metadata', 'taints')), ...validateNodeResources(node)];
  const cidrs = strList(spec['podCIDRs']);
  const p = newPath('spec', 'podCIDRs');
  cidrs.forEach((c, i) => errs.push(...isValidCIDR(p.index(i), c)));
  if (cidrs.length > 1) {
    const parsed = cidrs.map(parseCIDRSloppy);
    if (parsed.every((c) => c !== null)) {
      const v4 = parsed.filter((c) => c !== null && isIPv4(c.ip)).length;
      if (v4 === 0 || v4 === cidrs.length || cidrs.length > 2) errs.push(invalid(p, goStringSlice(cidrs), 'may specify no more than one CIDR for each IP family'));
    }
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(duplicate(p.index(i), c));
      seen.add(c);
    });
  }
  return errs;
}

/** ValidateNodeUpdate without ObjectMetaUpdate. */
export function validateNodeUpdate(node: Obj, old: Obj): ErrorList {
  const spec = objOr(node['spec']);
  const oldSpec = objOr(old['spec']);
  const errs: ErrorList = [...validateNodeResources(node)];
  const seen = new Set<string>();
  objList(objAt(node, 'status')?.['addresses']).forEach((a, i) => {
    const key = `${str(a['type'])}\u0000${str(a['address'])}`;
    if (seen.has(key)) {
      const shown = goStructText('core.NodeAddress', [['Type', goQuote(str(a['type']))], ['Address', goQuote(str(a['address']))]]);
      errs.push(duplicate(newPath('status', 'addresses').index(i), goValue(shown)));
    }
    seen.add(key);
  });
  const oldCIDRs = strList(oldSpec['podCIDRs']);
  const newCIDRs = strList(spec['podCIDRs']);
  const cidrMsg = 'node updates may not change podCIDR except from "" to valid';
  if (oldCIDRs.length > 0) {
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbidden(newPath('spec', 'podCIDRs'), cidrMsg));
    else oldCIDRs.forEach((c, i) => {
      if (c !== newCIDRs[i]) errs.push(forbidden(newPath('spec', 'podCIDRs'), cidrMsg));
    });
  }
  const oldProvider = str(oldSpec['providerID']);
  if (oldProvider !== '' && oldProvider !== str(spec['providerID'])) {
    errs.push(forbidden(newPath('spec', 'providerID'), 'node updates may not change providerID except from "" to valid'));
  }
  errs.push(...validateNodeTaints(spec['taints'], newPath('metadata', 'taints')));
  if (str(spec['externalID']) !== str(oldSpec['externalID'])) errs.push(forbidden(newPath('spec', 'externalID'), 'may not be updated'));
  return errs;
}
