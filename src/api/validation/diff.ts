// A readable diff of two JSON values for "may not change" messages. Upstream appends go-cmp's
// cmp.Diff of the internal structs, whose layout depends on Go reflection; we print the changed
// leaves in the same -/+ style instead (the message text before the diff is upstream's verbatim).

import { isObj, semanticEqual } from './values.ts';

function leaves(a: unknown, b: unknown, path: string, out: string[]): void {
  if (semanticEqual(a, b)) return;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => leaves(x, b[i], `${path}[${i}]`, out));
    return;
  }
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) leaves(a[k], b[k], path === '' ? k : `${path}.${k}`, out);
    return;
  }
  if (a !== undefined && a !== null) out.push(`- \t${path}: ${JSON.stringify(a)},`);
  if (b !== undefined && b !== null) out.push(`+ \t${path}: ${JSON.stringify(b)},`);
}

/** `  <type>{` / `- \tfield: old,` / `+ \tfield: new,` / `  }` for the fields that differ. */
export function objectDiff(type: string, oldValue: unknown, newValue: unknown): string {
  const lines: string[] = [];
  leaves(oldValue, newValue, '', lines);
  return [`  ${type}{`, ...lines, '  }', ''].join('\n');
}
