// A CommandRunner that gives our iptables chains another prefix on the host (KUBE- -> E2Eab-K- ...),
// so a test's proxy or policy enforcer can share the host's tables with a real agent without either
// touching the other's chains. Restore input is renamed on the way in; save output on the way out,
// with the host's own chains of the original prefix hidden so cleanup never sees them.

import type { CommandRunner } from './types.ts';

/** One renaming: chains starting with `from` live as `to` in the kernel. */
export interface ChainRename {
  readonly from: string;
  readonly to: string;
}

/** Marks a chain of the original prefix that belongs to someone else; iptables never sees it. */
const HIDDEN = '~';

/** Chain names are at most 28 characters; ours reach 28 with their longest prefix (TKUBE-POD-FW-). */
export function validateRename(r: ChainRename): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*-$/.test(r.to)) throw new RangeError(`chain prefix must be letters, digits and dashes ending in "-", got ${JSON.stringify(r.to)}`);
  if (r.to.length > r.from.length + (r.from === 'KUBE-' ? 3 : 0)) {
    throw new RangeError(`chain prefix ${JSON.stringify(r.to)} is too long to stand for ${JSON.stringify(r.from)}`);
  }
  if (r.to.startsWith(r.from) || r.from.startsWith(r.to)) throw new RangeError(`chain prefix ${JSON.stringify(r.to)} overlaps ${JSON.stringify(r.from)}`);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `from` -> `to` where a chain name starts (not inside a longer word: TKUBE- is not KUBE-). */
export function renameIn(text: string, r: ChainRename): string {
  return text.replace(new RegExp(`(?<![A-Za-z0-9_~-])${escape(r.from)}`, 'g'), r.to);
}

/** The inverse of renameIn for save output: `to` -> `from`, and the host's own `from` chains hidden. */
export function renameOut(text: string, r: ChainRename): string {
  return text.replace(new RegExp(`(?<![A-Za-z0-9_~-])(${escape(r.to)}|${escape(r.from)})`, 'g'), (m) => (m === r.to ? r.from : HIDDEN + r.from));
}

/** Wraps `inner` so that iptables-restore and iptables-save see `r.to` where our code says `r.from`. */
export function renamingRunner(inner: CommandRunner, r: ChainRename): CommandRunner {
  validateRename(r);
  return {
    async run(cmd, args, opts = {}) {
      const base = cmd.split('/').pop() ?? cmd;
      if (base.endsWith('-restore')) {
        const input = opts.input === undefined ? undefined : renameIn(opts.input, r);
        return inner.run(cmd, args, input === undefined ? {} : { input });
      }
      const res = await inner.run(cmd, args, opts);
      if (base.endsWith('-save')) return { ...res, stdout: renameOut(res.stdout, r) };
      return res;
    },
  };
}
