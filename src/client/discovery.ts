// Discovery of the resources the built-in table does not know (custom resources of CRDs), read from
// aggregated discovery (/apis as APIGroupDiscoveryList) at each group's preferred version: what the
// garbage collector and the namespace deleter ask discovery for beyond the table.
import type { ResourceInfo } from '../api/resource_types.ts';
import { preferredVersion } from '../api/resource_table.ts';
import type { RestClient } from './rest_client.ts';

const AGGREGATED_DISCOVERY = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

interface DiscoveredResource {
  resource: string;
  responseKind?: { kind?: string };
  scope?: string;
  singularResource?: string;
  verbs?: string[];
}

interface DiscoveryList {
  items?: { metadata?: { name?: string }; versions?: { version: string; resources?: DiscoveredResource[] }[] }[];
}

/** Resources of the groups outside the built-in table, at each group's preferred (first) version. */
export async function discoverCustomResources(client: RestClient): Promise<ResourceInfo[]> {
  const list = await client.request<DiscoveryList>({ method: 'GET', path: '/apis', accept: AGGREGATED_DISCOVERY });
  const out: ResourceInfo[] = [];
  for (const g of list?.items ?? []) {
    const group = g.metadata?.name ?? '';
    const v = g.versions?.[0];
    if (group === '' || preferredVersion(group) !== undefined || !v) continue;
    for (const r of v.resources ?? []) {
      const kind = r.responseKind?.kind ?? '';
      out.push({
        group, version: v.version, kind, listKind: `${kind}List`, resource: r.resource, singular: r.singularResource ?? '',
        namespaced: r.scope === 'Namespaced', shortNames: [], categories: [], verbs: r.verbs ?? [], subresources: [],
        storageVersion: v.version, definition: '',
      });
    }
  }
  return out;
}
