// SetDefaults_ResourceList: the quantities of a ResourceList (container resources, capacities,
// quotas) rounded up to milli precision, in the text upstream then serializes them as.

import { quantityString, roundUpQuantity, Scale, tryParseQuantity } from '../quantity.ts';

/** Rounds every value of a ResourceList map in place; values that do not parse are left to validation. */
export function roundResourceList(list: unknown): void {
  if (typeof list !== 'object' || list === null || Array.isArray(list)) return;
  const map = list as Record<string, unknown>;
  for (const [name, value] of Object.entries(map)) {
    const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
    if (text === undefined) continue;
    const q = tryParseQuantity(text);
    if (q !== null) map[name] = quantityString(roundUpQuantity(q, Scale.Milli).quantity);
  }
}
