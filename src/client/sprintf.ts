// A small Go fmt.Sprintf for event messages, so messages ported from upstream keep their format
// strings ("Created pod: %v", "Scaled up replica set %s to %d"). Covers the verbs events use.
import { goQuote } from '../api/go_strings.ts';

/** Formats like Go's fmt.Sprintf for %v %s %d %q %t %f %x and %%; width/flags are ignored. */
export function sprintf(format: string, ...args: readonly unknown[]): string {
  let i = 0;
  const out = format.replace(/%([-+# 0]*)(\d+)?(?:\.(\d+))?([vsdqtfxXe%])/g, (_m, _flags: string, _width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++];
    switch (verb) {
      case 'd': return typeof a === 'number' ? String(Math.trunc(a)) : typeof a === 'bigint' ? a.toString() : `%!d(${goValue(a)})`;
      case 'q': return typeof a === 'string' ? goQuote(a) : `%!q(${goValue(a)})`;
      case 't': return typeof a === 'boolean' ? String(a) : `%!t(${goValue(a)})`;
      case 'f': case 'e': return typeof a === 'number' ? (verb === 'f' ? a.toFixed(prec === undefined ? 6 : Number(prec)) : a.toExponential(prec === undefined ? 6 : Number(prec))) : `%!${verb}(${goValue(a)})`;
      case 'x': case 'X': {
        const s = typeof a === 'number' || typeof a === 'bigint' ? a.toString(16) : Buffer.from(String(a)).toString('hex');
        return verb === 'X' ? s.toUpperCase() : s;
      }
      default: return goValue(a);
    }
  });
  if (i < args.length) return `${out}%!(EXTRA ${args.slice(i).map(goValue).join(', ')})`;
  return out;
}

/** %v of a value: strings bare, errors by message, arrays as [a b], objects as JSON. */
function goValue(a: unknown): string {
  if (a === null || a === undefined) return '<nil>';
  if (typeof a === 'string') return a;
  if (a instanceof Error) return a.message;
  if (Array.isArray(a)) return `[${a.map(goValue).join(' ')}]`;
  if (typeof a === 'object') {
    const s = (a as { toString?: () => string }).toString?.();
    if (s !== undefined && s !== '[object Object]') return s;
    return JSON.stringify(a);
  }
  return String(a);
}
