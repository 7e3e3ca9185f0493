// Server-side apply conflicts as upstream reports them: the 409 message ("Apply failed with 1
// conflict: conflict with "m" using apps/v1: .spec.replicas") and one FieldManagerConflict cause
// per field, managers printed by name, subresource and (for Update managers) API version.
import { goQuote } from './fieldpath.ts';
import { managerIdentifier } from './managed_fields.ts';

/** A field another manager owns with a different value than the applied configuration. */
export interface ApplyConflict {
  /** The other manager's name. */
  readonly manager: string;
  /** How it wrote the field. */
  readonly operation: 'Apply' | 'Update';
  /** The API version of its entry (printed for Update managers only, as upstream). */
  readonly apiVersion: string;
  /** The subresource it wrote through, when not the main resource. */
  readonly subresource?: string;
  /** The field, printed as upstream: `.spec.template.spec.containers[name="nginx"].image`. */
  readonly field: string;
}

/** A metav1.StatusCause of a conflict. */
export interface ConflictCause {
  readonly reason: 'FieldManagerConflict';
  readonly message: string;
  readonly field: string;
}

/** How upstream names a manager in conflict messages (printManager). */
export function printManager(c: Pick<ApplyConflict, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = goQuote(c.manager);
  if (c.subresource) s += ` with subresource ${goQuote(c.subresource)}`;
  if (c.operation === 'Update') s += ` using ${c.apiVersion}`;
  return s;
}

function identifier(c: ApplyConflict): string {
  return managerIdentifier({ manager: c.manager, operation: c.operation, apiVersion: c.apiVersion, subresource: c.subresource });
}

/** Upstream's conflict message (the 409 Status message). */
export function conflictStatusMessage(conflicts: readonly ApplyConflict[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    return `Apply failed with 1 conflict: conflict with ${printManager(c)}: ${c.field}`;
  }
  const byManager = new Map<string, ApplyConflict[]>();
  for (const c of conflicts) {
    const id = identifier(c);
    const list = byManager.get(id);
    if (list) list.push(c);
    else byManager.set(id, [c]);
  }
  const lines: string[] = [];
  for (const id of [...byManager.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const list = byManager.get(id)!;
    lines.push(`conflicts with ${printManager(list[0]!)}:`);
    for (const c of list) lines.push(`- ${c.field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** One cause per conflicting field, in the conflicts' order. */
export function conflictCauses(conflicts: readonly ApplyConflict[]): ConflictCause[] {
  return conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c)}`, field: c.field }));
}

/** The whole 409 metav1.Status upstream answers for conflicts. */
export function conflictStatus(conflicts: readonly ApplyConflict[]): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: conflictStatusMessage(conflicts),
    reason: 'Conflict',
    details: { causes: conflictCauses(conflicts) },
    code: 409,
  };
}
