// ControllerRevision history shared by the DaemonSet and StatefulSet controllers (upstream
// pkg/controller/history): revision data as the template patch, names "<owner>-<hash>" from an
// FNV-32 hash bumped by collisionCount, ordering, equality, creation with collision handling.
import type { ControllerRevision } from '../api/types/apps_v1.ts';
import type { OwnerReference } from '../api/types/meta_v1.ts';
import { isAlreadyExists } from '../client/api_errors.ts';
import { parseTime } from '../client/clock.ts';
import type { RestClient } from '../client/rest_client.ts';
import type { KubeObject, ResourceClient } from '../client/resource_client.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import { safeEncodeString } from './deep_hash.ts';

/** Label holding a revision's hash (ControllerRevisionHashLabel). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

/** Go's json.Marshal of a map: keys sorted at every level, with <, > and & escaped. */
export function goJson(value: unknown): string {
  const enc = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    if (Array.isArray(v)) return `[${v.map(enc).join(',')}]`;
    if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, x]) => `${str(k)}:${enc(x)}`).join(',')}}`;
    }
    if (typeof v === 'string') return str(v);
    return JSON.stringify(v);
  };
  const str = (s: string): string => JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return enc(value);
}

/** The revision data of a workload: its pod template, marked to replace on apply (getPatch). */
export function templatePatch(obj: { spec?: { template?: unknown } }): Record<string, unknown> {
  const template = structuredClone((obj.spec?.template ?? {}) as Record<string, unknown>);
  const md = (template['metadata'] ??= {}) as Record<string, unknown>;
  // Go encodes the zero metav1.Time of a template as null; keep it so hashes match upstream's.
  if (!('creationTimestamp' in md)) md['creationTimestamp'] = null;
  template['$patch'] = 'replace';
  return { spec: { template } };
}

/** FNV-32 (not 1a) of the revision data, then the collision count in decimal (HashControllerRevision). */
export function hashControllerRevision(data: unknown, collisionCount: number | undefined): string {
  let h = 0x811c9dc5;
  const feed = (bytes: Uint8Array): void => {
    for (const b of bytes) {
      h = Math.imul(h, 0x01000193) >>> 0;
      h = (h ^ b) >>> 0;
    }
  };
  feed(Buffer.from(goJson(data), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) feed(Buffer.from(String(collisionCount), 'utf8'));
  return safeEncodeString(String(h >>> 0));
}

/** "<prefix>-<hash>", the prefix cut to keep the name a valid DNS subdomain (ControllerRevisionName). */
export function controllerRevisionName(prefix: string, hash: string): string {
  const p = prefix.length > 223 ? prefix.slice(0, 223) : prefix;
  return `${p}-${hash}`;
}

/** A new revision of `parent` (NewControllerRevision). */
export function newControllerRevision(parent: KubeObject, controllerRef: OwnerReference, templateLabels: Record<string, string> | undefined, data: unknown, revision: number, collisionCount: number | undefined): ControllerRevision {
  const hash = hashControllerRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1', kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(parent.metadata?.name ?? '', hash),
      namespace: parent.metadata?.namespace ?? '',
      labels: { ...(templateLabels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [controllerRef],
    },
    data: data as ControllerRevision['data'],
    revision,
  };
}

/** Orders by revision number, then creation time, then name (SortControllerRevisions). */
export function sortControllerRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  return revisions.sort((a, b) => {
    if (a.revision !== b.revision) return a.revision - b.revision;
    const ta = parseTime(a.metadata?.creationTimestamp) ?? 0, tb = parseTime(b.metadata?.creationTimestamp) ?? 0;
    if (ta !== tb) return ta - tb;
    return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  });
}

/**
 * Same data (EqualRevision; upstream also compares numeric hash labels, but the labels it writes
 * are safe-encoded letters that never parse as numbers, so only the data decides).
 */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  return goJson(a.data) === goJson(b.data);
}

/** The revisions equal to `needle` (FindEqualRevisions). */
export function findEqualRevisions(revisions: readonly ControllerRevision[], needle: ControllerRevision): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** One more than the highest revision number (nextRevision). */
export function nextRevision(revisions: readonly ControllerRevision[]): number {
  let max = 0;
  for (const r of revisions) max = Math.max(max, r.revision);
  return max + 1;
}

/** Writes ControllerRevisions over the API (history.realHistory). */
export class ControllerHistory {
  #revisions: ResourceClient<ControllerRevision>;

  constructor(client: RestClient) {
    this.#revisions = client.resource<ControllerRevision>(resourceDescriptor('apps/v1', 'controllerrevisions'));
  }

  /**
   * Creates `revision`, renaming it with a higher collision count while another revision with
   * different data holds the name; returns the stored revision and the collision count used.
   */
  async createControllerRevision(parent: KubeObject, revision: ControllerRevision, collisionCount: number): Promise<{ revision: ControllerRevision; collisionCount: number }> {
    let count = collisionCount;
    for (;;) {
      const clone = structuredClone(revision);
      const hash = hashControllerRevision(clone.data, count);
      clone.metadata!.name = controllerRevisionName(parent.metadata?.name ?? '', hash);
      clone.metadata!.labels = { ...clone.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash };
      clone.metadata!.namespace = parent.metadata?.namespace ?? '';
      try {
        return { revision: await this.#revisions.inNamespace(clone.metadata!.namespace!).create(clone), collisionCount: count };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const exists = await this.#revisions.inNamespace(clone.metadata!.namespace!).get(clone.metadata!.name!);
        if (equalRevision(exists, clone)) return { revision: exists, collisionCount: count };
        count++;
      }
    }
  }

  /** Sets the revision number of an existing revision. */
  async updateControllerRevision(revision: ControllerRevision, newRevision: number): Promise<ControllerRevision> {
    if (revision.revision === newRevision) return revision;
    const clone = structuredClone(revision);
    clone.revision = newRevision;
    return this.#revisions.inNamespace(clone.metadata!.namespace!).update(clone);
  }

  async deleteControllerRevision(revision: ControllerRevision): Promise<void> {
    await this.#revisions.inNamespace(revision.metadata!.namespace!).delete(revision.metadata!.name!);
  }

  /** Strategic-merge patch of a revision (adoption and release). */
  async patchControllerRevision(revision: ControllerRevision, patch: unknown): Promise<void> {
    await this.#revisions.inNamespace(revision.metadata!.namespace!).patch(revision.metadata!.name!, 'strategic', patch);
  }
}
