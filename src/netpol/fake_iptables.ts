// An in-memory filter table behind a CommandRunner (imported only by *_test.ts): it understands
// the iptables-restore lines the apply step writes (:chain, -A, -I, -D, -X) and prints itself like
// iptables-save, so the enforcer's sync loop is tested without root.

import type { CommandRunner, ExecResult } from './types.ts';

const BUILTIN = ['INPUT', 'FORWARD', 'OUTPUT'];

/** The table: chains in creation order, each with its rule arguments. */
export class FakeIptables implements CommandRunner {
  readonly chains = new Map<string, string[]>(BUILTIN.map((c) => [c, []]));
  /** Every restore input, in order. */
  readonly restores: string[] = [];
  /** Makes the next restores fail (exit 1) while set. */
  failRestore = false;
  sctp = true;

  async run(cmd: string, args: readonly string[], opts: { input?: string } = {}): Promise<ExecResult> {
    const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
    if (args[0] === '--version') return cmd === 'iptables' ? ok('iptables v1.8.9 (nf_tables)\n') : ok();
    if (cmd === 'iptables' && args.includes('sctp')) return { code: this.sctp ? 1 : 2, stdout: '', stderr: '' };
    if (cmd.endsWith('-save')) return ok(this.save());
    if (cmd.endsWith('-restore')) {
      this.restores.push(opts.input ?? '');
      if (this.failRestore) return { code: 1, stdout: '', stderr: 'iptables-restore: line 2 failed' };
      return this.restore(opts.input ?? '');
    }
    return { code: 127, stdout: '', stderr: `fake iptables: unknown command ${cmd}` };
  }

  save(): string {
    const lines = ['*filter'];
    for (const c of this.chains.keys()) lines.push(BUILTIN.includes(c) ? `:${c} ACCEPT [0:0]` : `:${c} - [0:0]`);
    for (const [c, rules] of this.chains) for (const r of rules) lines.push(`-A ${c} ${r}`);
    lines.push('COMMIT');
    return lines.join('\n') + '\n';
  }

  /** Applies a restore input atomically (a failing line leaves the table as it was). */
  restore(input: string): ExecResult {
    const next = new Map([...this.chains].map(([c, r]) => [c, [...r]]));
    const lines = input.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const fail = (why: string): ExecResult => ({ code: 1, stdout: '', stderr: `iptables-restore: line ${i + 1} failed: ${why}` });
      if (line === '' || line === '*filter' || line === 'COMMIT') continue;
      const m = /^(:|-A |-I |-D |-X )(\S+)\s*(.*)$/.exec(line);
      if (!m) return fail('syntax');
      const [, op, chain, rest] = m as unknown as [string, string, string, string];
      if (op === ':') {
        next.set(chain, []);
        continue;
      }
      const rules = next.get(chain);
      if (!rules) return fail(`no chain ${chain}`);
      if (op === '-A ') rules.push(rest);
      else if (op === '-I ') {
        const pos = /^(\d+) (.*)$/.exec(rest);
        rules.splice(pos ? Number(pos[1]) - 1 : 0, 0, pos ? pos[2]! : rest);
      } else if (op === '-D ') {
        const at = rules.indexOf(rest);
        if (at < 0) return fail('no such rule');
        rules.splice(at, 1);
      } else {
        const used = [...next.values()].some((rs) => rs.some((r) => r.endsWith(`-j ${chain}`)));
        if (used || rules.length > 0) return fail(`chain ${chain} in use or not empty`);
        next.delete(chain);
      }
    }
    this.chains.clear();
    for (const [c, r] of next) this.chains.set(c, r);
    return { code: 0, stdout: '', stderr: '' };
  }
}
