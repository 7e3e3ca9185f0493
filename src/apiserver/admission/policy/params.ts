// The params a binding hands its policy (upstream's CollectParams): none without a paramKind,
// one object by name or every object a selector picks, from the param resource's watch cache;
// parameterNotFoundAction Deny turns "nothing found" into a configuration error.
import { labelSelectorAsSelector, matches, type LabelSelectorLike } from '../../../api/labels.ts';
import type { KObject } from '../../registry/strategy.ts';
import { getFresh, getMap, getObj, getStr, metaOf } from '../plugin_util.ts';
import type { AdmissionLister } from '../types.ts';
import type { CompiledBinding, CompiledPolicy } from './source.ts';

/** A configuration error of a binding ("failed to configure binding: " is added by the caller). */
export class ParamError extends Error {}

/** The params to evaluate the policy with (null stands for "no params"). */
export async function collectParams(policy: CompiledPolicy, binding: CompiledBinding, requestNamespace: string,
  lister: AdmissionLister): Promise<(KObject | null)[]> {
  const ref = binding.paramRef;
  if (!policy.paramKind || !ref) return [null];
  const info = policy.paramResource;
  if (!info) throw new ParamError(`paramKind kind \`${policy.paramKind.apiVersion}, Kind=${policy.paramKind.kind}\` not known`);
  const refNamespace = getStr(ref, 'namespace');
  let namespace = '';
  if (info.namespaced) {
    namespace = refNamespace !== '' ? refNamespace : requestNamespace;
    if (namespace === '') throw new ParamError('cannot use namespaced paramRef in policy binding that matches cluster-scoped resources');
  } else if (refNamespace !== '') {
    throw new ParamError('paramRef.namespace must not be provided for a cluster-scoped `paramKind`');
  }
  const name = getStr(ref, 'name');
  const selector = getObj(ref, 'selector');
  let params: KObject[];
  if (name !== '') {
    if (selector) throw new ParamError('paramRef.name and paramRef.selector are mutually exclusive');
    const p = await getFresh(lister, info.group, info.resource, namespace, name);
    params = p ? [p] : [];
  } else if (selector) {
    let sel;
    try {
      sel = labelSelectorAsSelector(selector as LabelSelectorLike);
    } catch (e) {
      throw new ParamError(e instanceof Error ? e.message : String(e));
    }
    params = lister.list(info.group, info.resource, info.namespaced ? namespace : undefined)
      .filter((o) => matches(sel, getMap(metaOf(o), 'labels')));
  } else {
    throw new ParamError('one of name or selector must be provided');
  }
  if (params.length === 0 && getStr(ref, 'parameterNotFoundAction') === 'Deny') {
    throw new ParamError('no params found for policy binding with `Deny` parameterNotFoundAction');
  }
  return params;
}
