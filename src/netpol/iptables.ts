// The apply step of NetworkPolicy enforcement: finds the host's iptables backend, loads our chains
// with `iptables-restore --noflush` (only TKUBE-* chains are declared, so other rules stay), keeps
// our jump the first rule of FORWARD, and removes everything of ours on cleanup.
// Small parts mirror src/proxy/iptables.ts; components may not import each other.

import { execFile } from 'node:child_process';
import { FORWARD_JUMP_ARGS, NETPOL_FORWARD, isNetpolChain, type RenderedNetpol } from './rules.ts';
import type { CommandRunner, ExecResult } from './types.ts';

/** The save and restore binaries of the backend `iptables` uses. */
export interface IptablesTools {
  backend: 'nft' | 'legacy';
  version: string;
  save: string;
  restore: string;
}

/** A failed iptables command. */
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
      const [file, ...rest] = [...prefix, cmd, ...args];
      return new Promise<ExecResult>((resolve) => {
        const child = execFile(file!, rest, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127) : 0;
          resolve({ code, stdout, stderr: stderr || (err && code === 127 ? String(err.message) : '') });
        });
        child.stdin?.end(opts.input);
      });
    },
  };
}

/** Detects the backend ("iptables v1.8.9 (nf_tables)"; no suffix: legacy) and its save/restore tools. */
export async function detectIptables(runner: CommandRunner): Promise<IptablesTools> {
  const v = await runner.run('iptables', ['--version']);
  const m = /v(\d+\.\d+\.\d+)(?:\s+\(([^)]+)\))?/.exec(v.stdout || v.stderr);
  if (v.code !== 0 || !m) throw new IptablesError(`iptables --version failed: ${(v.stderr || v.stdout).trim()}`);
  const backend = m[2] === 'nf_tables' ? 'nft' : 'legacy';
  const pick = async (specific: string, generic: string): Promise<string> =>
    (await runner.run(specific, ['--version'])).code === 0 ? specific : generic;
  const prefix = backend === 'nft' ? 'iptables-nft' : 'iptables-legacy';
  return { backend, version: m[1]!, save: await pick(`${prefix}-save`, 'iptables-save'), restore: await pick(`${prefix}-restore`, 'iptables-restore') };
}

/**
 * Whether the kernel has the sctp match: `-C` of a rule that does not exist answers 1 when the
 * match loads and 2 when it cannot (there is no modprobe to fix that).
 */
export async function detectSctp(runner: CommandRunner): Promise<boolean> {
  const r = await runner.run('iptables', ['-w', '5', '-t', 'filter', '-C', 'FORWARD', '-p', 'sctp', '-m', 'sctp', '--dport', '1', '-j', 'RETURN']);
  return r.code === 0 || r.code === 1;
}

/** The filter table as `iptables-save -t filter` prints it: chain names and "-A" lines. */
export interface SavedFilter {
  chains: Set<string>;
  rules: string[];
}

/** Parses `iptables-save -t filter` output. */
export function parseSavedFilter(text: string): SavedFilter {
  const out: SavedFilter = { chains: new Set(), rules: [] };
  let inFilter = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) inFilter = line.slice(1).trim() === 'filter';
    else if (!inFilter) continue;
    else if (line.startsWith(':')) out.chains.add(line.slice(1).split(' ')[0]!);
    else if (line.startsWith('-A ')) out.rules.push(line);
  }
  return out;
}

/** FORWARD rules that jump to our chain, as saved. */
function forwardJumps(saved: SavedFilter): string[] {
  return saved.rules.filter((r) => r.startsWith('-A FORWARD ') && r.endsWith(` -j ${NETPOL_FORWARD}`));
}

/**
 * Whether our jump is exactly once in FORWARD and first: it must come before the Service proxy's
 * KUBE-FORWARD, which ACCEPTs masquerade-marked packets (NodePort traffic) and would bypass policies.
 */
export function forwardJumpInPlace(saved: SavedFilter): boolean {
  const jumps = forwardJumps(saved);
  const first = saved.rules.find((r) => r.startsWith('-A FORWARD '));
  return jumps.length === 1 && first === jumps[0];
}

/** Our chains in the saved table that the rendered rules no longer use. */
export function staleChains(saved: SavedFilter, rendered: RenderedNetpol): string[] {
  const current = new Set(rendered.chains);
  return [...saved.chains].filter((c) => isNetpolChain(c) && !current.has(c)).sort();
}

/** The restore input: our chains (flushed and rewritten), the FORWARD jump put first, stale chains deleted. */
export function restoreInput(rendered: RenderedNetpol, saved: SavedFilter): string {
  const stale = staleChains(saved, rendered);
  const lines = ['*filter', ...[...rendered.chains, ...stale].map((c) => `:${c} - [0:0]`), ...rendered.rules];
  if (!forwardJumpInPlace(saved)) {
    for (const r of forwardJumps(saved)) lines.push(`-D${r.slice(2)}`);
    lines.push(`-I FORWARD 1 ${FORWARD_JUMP_ARGS}`);
  }
  for (const c of stale) lines.push(`-X ${c}`);
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}

/** Restore input removing our jump and every chain of ours ('' when nothing is ours). */
export function cleanupInput(saved: SavedFilter): string {
  const chains = [...saved.chains].filter(isNetpolChain).sort();
  // Any rule outside our chains that jumps into one of them (normally just the FORWARD jump).
  const jumps = saved.rules.filter((r) => {
    const m = /^-A (\S+) .*-j (\S+)$/.exec(r);
    return m !== null && !isNetpolChain(m[1]!) && isNetpolChain(m[2]!);
  });
  if (chains.length === 0 && jumps.length === 0) return '';
  return ['*filter', ...chains.map((c) => `:${c} - [0:0]`), ...jumps.map((r) => `-D${r.slice(2)}`), ...chains.map((c) => `-X ${c}`), 'COMMIT'].join('\n') + '\n';
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

/** Save, restore and cleanup of the filter table through a runner. */
export class Iptables {
  readonly tools: IptablesTools;
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner, tools: IptablesTools) {
    this.#runner = runner;
    this.tools = tools;
  }

  async saveFilter(): Promise<SavedFilter> {
    const r = await this.#runner.run(this.tools.save, ['-t', 'filter']);
    if (r.code !== 0) throw new IptablesError(`${this.tools.save} -t filter failed: ${r.stderr.trim()}`);
    return parseSavedFilter(r.stdout);
  }

  /** Loads `input` atomically, leaving chains it does not declare untouched. */
  async restore(input: string): Promise<void> {
    const r = await this.#runner.run(this.tools.restore, ['-w', '5', '--noflush'], { input });
    if (r.code === 0) return;
    const m = /line (\d+)/.exec(r.stderr);
    const where = m ? `\n${linesAround(input, Number(m[1]))}` : '';
    throw new IptablesError(`${this.tools.restore} failed (exit ${r.code}): ${r.stderr.trim()}${where}`);
  }

  /** Removes our jump and chains; the host's other rules stay. */
  async cleanup(): Promise<void> {
    const input = cleanupInput(await this.saveFilter());
    if (input !== '') await this.restore(input);
  }
}

/** Removes every rule and chain of ours from the host (for `tkube agent --cleanup`-like paths). */
export async function cleanupNetpolLeftovers(runner: CommandRunner = execRunner()): Promise<void> {
  await new Iptables(runner, await detectIptables(runner)).cleanup();
}
