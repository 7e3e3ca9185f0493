// Which names a CRD gets (apiextensions' NamingConditionController.calculateNamesAndConditions):
// each requested name is accepted unless another CRD of the group already holds it, and the
// NamesAccepted and Established conditions say so. Pure; the controller writes the result.
import type {
  CustomResourceDefinition, CustomResourceDefinitionCondition, CustomResourceDefinitionNames,
} from '../../api/types/apiextensions_v1.ts';
import { findCondition } from './crd_resources.ts';

/** What the naming controller decides for one CRD. */
export interface NamingResult {
  readonly acceptedNames: CustomResourceDefinitionNames;
  readonly namesAccepted: Omit<CustomResourceDefinitionCondition, 'lastTransitionTime'>;
  readonly established: Omit<CustomResourceDefinitionCondition, 'lastTransitionTime'>;
}

function inUse(requested: string, accepted: string | undefined, used: ReadonlySet<string>): string | undefined {
  if (requested === (accepted ?? '')) return undefined;
  if (!used.has(requested)) return undefined;
  return `"${requested}" is already in use`;
}

/** Names equal as upstream's semantic DeepEqual of the two structs sees them (unset and empty alike). */
export function namesEqual(a: CustomResourceDefinitionNames | undefined, b: CustomResourceDefinitionNames | undefined): boolean {
  const norm = (n: CustomResourceDefinitionNames | undefined): string => JSON.stringify([
    n?.plural ?? '', n?.singular ?? '', n?.shortNames ?? [], n?.kind ?? '', n?.listKind ?? '', n?.categories ?? [],
  ]);
  return norm(a) === norm(b);
}

/** The accepted names and conditions of `crd`, given every CRD the server knows. */
export function calculateNamesAndConditions(crd: CustomResourceDefinition, all: Iterable<CustomResourceDefinition>): NamingResult {
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const other of all) {
    if (other.spec.group !== crd.spec.group) continue;
    const a = other.status?.acceptedNames;
    resources.add(a?.plural ?? '');
    resources.add(a?.singular ?? '');
    for (const s of a?.shortNames ?? []) resources.add(s);
    kinds.add(a?.kind ?? '');
    kinds.add(a?.listKind ?? '');
  }
  const requested = crd.spec.names;
  const accepted: Partial<CustomResourceDefinitionNames> = crd.status?.acceptedNames ?? {};
  const out: CustomResourceDefinitionNames = { ...accepted, plural: accepted.plural ?? '', kind: accepted.kind ?? '' };
  let condition: NamingResult['namesAccepted'] = { type: 'NamesAccepted', status: 'Unknown' };
  const conflict = (reason: string, message: string): void => { condition = { type: 'NamesAccepted', status: 'False', reason, message }; };

  const plural = inUse(requested.plural, accepted.plural, resources);
  if (plural) conflict('PluralConflict', plural);
  else out.plural = requested.plural;
  const singular = inUse(requested.singular ?? '', accepted.singular, resources);
  if (singular) conflict('SingularConflict', singular);
  else if (requested.singular !== undefined) out.singular = requested.singular;
  if (JSON.stringify(requested.shortNames ?? []) !== JSON.stringify(accepted.shortNames ?? [])) {
    const mine = new Set(accepted.shortNames ?? []);
    const errs: string[] = [];
    for (const s of requested.shortNames ?? []) {
      if (mine.has(s) || s === accepted.plural || s === accepted.singular) continue;
      const e = inUse(s, '', resources);
      if (e) errs.push(e);
    }
    // utilerrors.NewAggregate: one error alone, else "[a, b]".
    if (errs.length > 0) conflict('ShortNamesConflict', errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`);
    else if (requested.shortNames !== undefined) out.shortNames = requested.shortNames;
    else delete out.shortNames;
  }
  const kind = inUse(requested.kind, accepted.kind, kinds);
  if (kind) conflict('KindConflict', kind);
  else out.kind = requested.kind;
  const listKind = inUse(requested.listKind ?? '', accepted.listKind, kinds);
  if (listKind) conflict('ListKindConflict', listKind);
  else if (requested.listKind !== undefined) out.listKind = requested.listKind;
  if (requested.categories !== undefined) out.categories = requested.categories;
  else delete out.categories;

  if (condition.status === 'Unknown') condition = { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
  // Established turns true in the establishing controller, once the names are served.
  let established: NamingResult['established'] = { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' };
  const old = findCondition(crd, 'Established');
  if (old) established = { type: old.type, status: old.status, reason: old.reason, message: old.message };
  if (established.status !== 'True' && condition.status === 'True') {
    established = { type: 'Established', status: 'False', reason: 'Installing', message: 'the initial names have been accepted' };
  }
  return { acceptedNames: orderedNames(out), namesAccepted: condition, established };
}

/** The names in the Go struct's field order (plural, singular, shortNames, kind, listKind, categories). */
function orderedNames(n: CustomResourceDefinitionNames): CustomResourceDefinitionNames {
  const out: Record<string, unknown> = { plural: n.plural };
  if (n.singular) out['singular'] = n.singular;
  if (n.shortNames && n.shortNames.length > 0) out['shortNames'] = n.shortNames;
  out['kind'] = n.kind;
  if (n.listKind) out['listKind'] = n.listKind;
  if (n.categories && n.categories.length > 0) out['categories'] = n.categories;
  return out as unknown as CustomResourceDefinitionNames;
}
