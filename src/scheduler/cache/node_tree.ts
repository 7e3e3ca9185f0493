// Node names grouped by zone (cache/node_tree.go); list() interleaves the zones so that a cycle
// that stops early (percentageOfNodesToScore) still sees nodes from every zone.

import type { Node } from '../../api/types/core_v1.ts';

/** GetZoneKey: "<region>:\0:<zone>" from the topology labels (or their deprecated forms), "" if none. */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const zone = labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? '';
  const region = labels['topology.kubernetes.io/region'] ?? labels['failure-domain.beta.kubernetes.io/region'] ?? '';
  if (zone === '' && region === '') return '';
  return `${region}:\x00:${zone}`;
}

/** Zones in insertion order, each with its node names. */
export class NodeTree {
  private readonly tree = new Map<string, string[]>();
  private zones: string[] = [];
  private readonly names = new Set<string>();
  numNodes = 0;

  addNode(node: Node): void {
    const zone = zoneKey(node);
    const name = node.metadata?.name ?? '';
    if (this.names.has(name)) return;
    let names = this.tree.get(zone);
    if (names === undefined) {
      names = [];
      this.tree.set(zone, names);
      this.zones.push(zone);
    }
    names.push(name);
    this.names.add(name);
    this.numNodes++;
  }

  removeNode(node: Node): boolean {
    const zone = zoneKey(node);
    const names = this.tree.get(zone);
    if (names === undefined) return false;
    const name = node.metadata?.name ?? '';
    const i = names.indexOf(name);
    if (i < 0) return false;
    names.splice(i, 1);
    this.names.delete(name);
    if (names.length === 0) {
      this.tree.delete(zone);
      this.zones = this.zones.filter((z) => z !== zone);
    }
    this.numNodes--;
    return true;
  }

  /** Moves the node when its zone labels changed. */
  updateNode(oldNode: Node, newNode: Node): void {
    if (zoneKey(oldNode) === zoneKey(newNode)) return;
    this.removeNode(oldNode);
    this.addNode(newNode);
  }

  /** All names, one zone after another in round-robin. */
  list(): string[] {
    const out: string[] = [];
    const lists = this.zones.map((z) => this.tree.get(z) as string[]);
    for (let i = 0; out.length < this.numNodes; i++) {
      let any = false;
      for (const l of lists) {
        if (i < l.length) {
          out.push(l[i] as string);
          any = true;
        }
      }
      if (!any) break;
    }
    return out;
  }
}
