// The apply step: finds the host's iptables backend (nf_tables or legacy), loads rendered rules with
// `iptables-restore --noflush` (only our KUBE-* chains are declared, so the host's own rules stay),
// ensures our jump rules in the built-in chains once, and removes everything of ours on cleanup.

import { execFile } from 'node:child_process';
import { FILTER_CHAINS, JUMP_RULES, KUBE_FIREWALL, KUBE_NODEPORTS, NAT_CHAINS, isServiceChainName, jumpRuleArgs, type JumpRule } from './rules.ts';
import type { CommandRunner, ExecResult } from './types.ts';

/** Which netfilter interface the host's `iptables` drives. */
export type IptablesBackend = 'nft' | 'legacy';

/** The tools of one backend. */
export interface IptablesTools {
  backend: IptablesBackend;
  /** "1.8.9". */
  version: string;
  save: string;
  restore: string;
  /** MASQUERADE --random-fully is available (iptables >= 1.6.2). */
  randomFully: boolean;
}

/** A failed iptables command, with the offending input lines when restore names one. */
export class IptablesError extends Error {
  readonly code = 'IptablesError';
  constructor(message: string) {
    super(message);
    this.name = 'IptablesError';
  }
}

/** Runs commands on this host with execFile, optionally prefixed (e.g. ['ip','netns','exec','ns']). */
export function execRunner(prefix: readonly string[] = []): CommandRunner {
  return {
    run(cmd, args, opts = {}) {
      const [file, ...rest] = prefix.length > 0 ? [...prefix, cmd, ...args] : [cmd, ...args];
      return new Promise<ExecResult>((resolve) => {
        const child = execFile(file!, rest, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
          resolve({ code, stdout, stderr: stderr || (err && code === 127 ? String(err.message) : '') });
        });
        if (opts.input !== undefined) child.stdin?.end(opts.input);
        else child.stdin?.end();
      });
    },
  };
}

/** Parses `iptables --version` ("iptables v1.8.9 (nf_tables)"); no suffix means legacy. */
export function parseIptablesVersion(text: string): { version: string; backend: IptablesBackend } {
  const m = /v(\d+\.\d+\.\d+)(?:\s+\(([^)]+)\))?/.exec(text);
  if (!m) throw new IptablesError(`cannot parse iptables version from ${JSON.stringify(text.trim())}`);
  return { version: m[1]!, backend: m[2] === 'nf_tables' ? 'nft' : 'legacy' };
}

function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i]!;
  }
  return true;
}

/** Detects the backend `iptables` uses and picks the matching save/restore binaries. */
export async function detectIptables(runner: CommandRunner): Promise<IptablesTools> {
  const v = await runner.run('iptables', ['--version']);
  if (v.code !== 0) throw new IptablesError(`iptables --version failed: ${v.stderr.trim()}`);
  const { version, backend } = parseIptablesVersion(v.stdout || v.stderr);
  const pick = async (specific: string, generic: string): Promise<string> =>
    (await runner.run(specific, ['--version'])).code === 0 ? specific : generic;
  const prefix = backend === 'nft' ? 'iptables-nft' : 'iptables-legacy';
  return {
    backend,
    version,
    save: await pick(`${prefix}-save`, 'iptables-save'),
    restore: await pick(`${prefix}-restore`, 'iptables-restore'),
    randomFully: versionAtLeast(version, [1, 6, 2]),
  };
}

/** One table of `iptables-save` output. */
export interface SavedTable {
  chains: Set<string>;
  /** "-A CHAIN ..." lines as printed. */
  rules: string[];
}

/** Parses `iptables-save` output into tables. */
export function parseIptablesSave(text: string): Map<string, SavedTable> {
  const tables = new Map<string, SavedTable>();
  let current: SavedTable | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      current = { chains: new Set(), rules: [] };
      tables.set(line.slice(1).trim(), current);
    } else if (!current || line.startsWith('#') || line === 'COMMIT') {
      continue;
    } else if (line.startsWith(':')) {
      current.chains.add(line.slice(1).split(' ')[0]!);
    } else if (line.startsWith('-A ')) {
      current.rules.push(line);
    }
  }
  return tables;
}

/** The saved rule that is jump `j`, if any (loose match: iptables may reorder matches). */
function findJumpRule(table: SavedTable | undefined, j: JumpRule): string | undefined {
  return table?.rules.find(
    (r) =>
      r.startsWith(`-A ${j.srcChain} `) &&
      r.endsWith(` -j ${j.dstChain}`) &&
      (j.comment === '' || r.includes(`--comment "${j.comment}"`) || r.includes(`--comment ${j.comment}`)),
  );
}

/** Jump rules missing from the saved state, as "-I" lines per table for the restore input. */
export function missingJumpLines(saved: Map<string, SavedTable>, jumps: readonly JumpRule[] = JUMP_RULES): { filter: string[]; nat: string[] } {
  const out = { filter: [] as string[], nat: [] as string[] };
  for (const j of jumps) {
    if (findJumpRule(saved.get(j.table), j) === undefined) out[j.table].push(`-I ${j.srcChain} ${jumpRuleArgs(j)}`);
  }
  return out;
}

/** Restore input removing our jump rules and chains from the saved state (empty if nothing is ours). */
export function cleanupInput(saved: Map<string, SavedTable>): string {
  const sections: string[] = [];
  const ours: Record<'filter' | 'nat', (c: string) => boolean> = {
    filter: (c) => (FILTER_CHAINS as readonly string[]).includes(c) || c === KUBE_FIREWALL || c === KUBE_NODEPORTS,
    nat: (c) => (NAT_CHAINS as readonly string[]).includes(c) || isServiceChainName(c),
  };
  for (const table of ['filter', 'nat'] as const) {
    const t = saved.get(table);
    if (!t) continue;
    const chains = [...t.chains].filter(ours[table]).sort();
    // Also drop any other rule of a built-in chain that jumps into one of our chains.
    const jumps = t.rules.filter((r) => {
      const m = /^-A (\S+) .*-j (\S+)$/.exec(r);
      return m !== null && !ours[table](m[1]!) && chains.includes(m[2]!);
    });
    if (chains.length === 0 && jumps.length === 0) continue;
    sections.push(`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...jumps.map((r) => `-D${r.slice(2)}`), ...chains.map((c) => `-X ${c}`), 'COMMIT');
  }
  return sections.length > 0 ? sections.join('\n') + '\n' : '';
}

/** The restore input's lines around `line` (1-based), for error messages. */
function linesAround(input: string, line: number, context = 2): string {
  const lines = input.split('\n');
  const from = Math.max(0, line - 1 - context);
  return lines
    .slice(from, Math.min(lines.length, line + context))
    .map((l, i) => `${from + i + 1 === line ? '>' : ' '} ${from + i + 1}: ${l}`)
    .join('\n');
}

/** Save, restore and cleanup against one backend through a runner. */
export class Iptables {
  readonly tools: IptablesTools;
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner, tools: IptablesTools) {
    this.#runner = runner;
    this.tools = tools;
  }

  /** `iptables-save` of the given tables (all when omitted), parsed. */
  async save(tables: readonly string[] = ['filter', 'nat']): Promise<Map<string, SavedTable>> {
    const out = new Map<string, SavedTable>();
    for (const table of tables) {
      const r = await this.#runner.run(this.tools.save, ['-t', table]);
      if (r.code !== 0) throw new IptablesError(`${this.tools.save} -t ${table} failed: ${r.stderr.trim()}`);
      for (const [name, t] of parseIptablesSave(r.stdout)) out.set(name, t);
    }
    return out;
  }

  /** Loads `input` atomically per table, leaving chains it does not declare untouched. */
  async restore(input: string): Promise<void> {
    const r = await this.#runner.run(this.tools.restore, ['-w', '5', '--noflush'], { input });
    if (r.code === 0) return;
    const m = /line (\d+)/.exec(r.stderr);
    const where = m ? `\n${linesAround(input, Number(m[1]))}` : '';
    throw new IptablesError(`${this.tools.restore} failed (exit ${r.code}): ${r.stderr.trim()}${where}`);
  }

  /** Removes all our jump rules and chains; the host's other rules stay. */
  async cleanup(): Promise<void> {
    const input = cleanupInput(await this.save());
    if (input !== '') await this.restore(input);
  }
}

/** Removes every rule and chain of ours from the host's backend (upstream's CleanupLeftovers). */
export async function cleanupLeftovers(runner: CommandRunner = execRunner()): Promise<void> {
  await new Iptables(runner, await detectIptables(runner)).cleanup();
}
