// The text forms of simulated-node options, for `tkube server --sim-nodes N` and its companion
// flags: --sim-capacity cpu=32,memory=256Gi  --sim-labels a=b  --sim-taints k=v:NoSchedule
// --sim-name-prefix sim-  --sim-zones 3  --sim-complete-after 10s. Errors name the flag.
import type { Taint } from '../api/types/core_v1.ts';
import type { SimNodesOptions } from './sim_nodes.ts';

/** The flags as the command line gave them. */
export interface SimNodeFlags {
  readonly capacity?: string;
  readonly labels?: string;
  readonly taints?: string;
  readonly namePrefix?: string;
  readonly zones?: string | number;
  readonly completeAfter?: string;
  readonly failAfter?: string;
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function pairs(flag: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`${flag}: expected key=value, got ${JSON.stringify(part)}`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** `key[=value]:Effect`, as kubectl taint writes them, comma separated. */
export function parseTaints(flag: string, text: string): Taint[] {
  return text.split(',').map((p) => p.trim()).filter((p) => p !== '').map((part) => {
    const colon = part.lastIndexOf(':');
    const effect = colon < 0 ? '' : part.slice(colon + 1);
    if (!EFFECTS.includes(effect)) throw new Error(`${flag}: ${JSON.stringify(part)} needs an effect (${EFFECTS.join(', ')}) after ":"`);
    const kv = part.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (key === '') throw new Error(`${flag}: ${JSON.stringify(part)} has no key`);
    return { key, ...(eq < 0 ? {} : { value: kv.slice(eq + 1) }), effect };
  });
}

/** The startSimNodes options the flags ask for (validated by startSimNodes itself). */
export function simNodesOptionsFromFlags(f: SimNodeFlags): Omit<SimNodesOptions, 'client' | 'kubeconfig' | 'count'> {
  let zones: number | undefined;
  if (f.zones !== undefined && f.zones !== '') {
    zones = Number(f.zones);
    if (!(Number.isInteger(zones) && zones >= 1)) throw new Error(`--sim-zones: expected a whole number >= 1, got ${JSON.stringify(f.zones)}`);
  }
  return {
    ...(f.capacity ? { capacity: pairs('--sim-capacity', f.capacity) } : {}),
    ...(f.labels ? { labels: pairs('--sim-labels', f.labels) } : {}),
    ...(f.taints ? { taints: parseTaints('--sim-taints', f.taints) } : {}),
    ...(f.namePrefix !== undefined ? { namePrefix: f.namePrefix } : {}),
    ...(zones !== undefined ? { zones } : {}),
    ...(f.completeAfter ? { completeAfter: f.completeAfter } : {}),
    ...(f.failAfter ? { failAfter: f.failAfter } : {}),
  };
}
