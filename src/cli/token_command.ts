// `tkube token create|list|delete`: bootstrap tokens for joining nodes, kept as kubeadm keeps them
// (`bootstrap-token-<id>` Secrets of type bootstrap.kubernetes.io/token in kube-system), managed
// over the API with the admin kubeconfig.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigMap, Secret } from '../api/types/core_v1.ts';
import { readKubeconfig } from '../base/kubeconfig.ts';
import { isAlreadyExists, isNotFound } from '../client/api_errors.ts';
import { resourceDescriptor } from '../client/resource_descriptor.ts';
import { RestClient } from '../client/rest_client.ts';
import { caCertHash } from '../agent/bootstrap_ca.ts';
import {
  BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_SECRET_PREFIX, BOOTSTRAP_TOKEN_SECRET_TYPE, CLUSTER_INFO_KUBECONFIG_KEY, CLUSTER_INFO_NAME,
  CLUSTER_INFO_NAMESPACE, KNOWN_USAGES, TokenKeys, generateToken, isValidTokenId, parseToken, secretValue, tokenSecret, tokenOf,
} from '../controllers/bootstrap/token_secret.ts';
import { parse as parseYaml } from 'yaml';

/** The extra group of tokens made for joining nodes; the join bindings name it (kubeadm: system:bootstrappers:kubeadm:default-node-token). */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:tkube:default-node-token';
/** kubeadm's default token lifetime. */
export const DEFAULT_TTL = '24h';

/** Flags common to the token commands. */
export interface TokenFlags {
  kubeconfig?: string;
  dataDir: string;
}

/** Flags of `tkube token create`. */
export interface TokenCreateFlags extends TokenFlags {
  ttl: string;
  description?: string;
  groups?: string;
  usages?: string;
  printJoinCommand?: boolean;
}

const UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parses a Go duration such as 24h, 1h30m, 90s or 0; throws with the flag's name on bad input. */
export function parseDuration(text: string, flag = '--ttl'): number {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;
  let total = 0, pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`${flag}: invalid duration ${JSON.stringify(text)} (want e.g. 24h, 1h30m, 0 for never)`);
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (text === '') throw new Error(`${flag}: invalid duration ""`);
  return Math.round(total);
}

/** Go's Duration.String() for whole seconds, as kubeadm prints TTLs (23h59m58s). */
function durationText(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

function kubeconfigPath(flags: TokenFlags): string {
  const path = flags.kubeconfig ?? join(flags.dataDir, 'kubeconfig.yaml');
  if (!existsSync(path)) throw new Error(`no kubeconfig at ${path}; pass --kubeconfig or the server's --data-dir`);
  return path;
}

async function withClient<T>(flags: TokenFlags, fn: (c: RestClient) => Promise<T>): Promise<T> {
  const client = await RestClient.fromKubeconfig(kubeconfigPath(flags), { protocol: 'http1' });
  try {
    return await fn(client);
  } finally {
    await client.dispose();
  }
}

function secrets(c: RestClient) {
  return c.resource<Secret>(resourceDescriptor('v1', 'secrets'), BOOTSTRAP_TOKEN_NAMESPACE);
}

/** The server URL and CA a node should join with: cluster-info's when published, else the kubeconfig's. */
async function joinTarget(c: RestClient, flags: TokenFlags): Promise<{ server: string; caPem: string }> {
  try {
    const cm = await c.resource<ConfigMap>(resourceDescriptor('v1', 'configmaps'), CLUSTER_INFO_NAMESPACE).get(CLUSTER_INFO_NAME);
    const doc = parseYaml(cm.data?.[CLUSTER_INFO_KUBECONFIG_KEY] ?? '') as { clusters?: Array<{ cluster?: Record<string, string> }> } | null;
    const cluster = doc?.clusters?.[0]?.cluster;
    if (cluster?.['server'] && cluster['certificate-authority-data']) {
      return { server: cluster['server'], caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') };
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const kc = await readKubeconfig(kubeconfigPath(flags));
  if (!kc.caPem) throw new Error('the kubeconfig has no certificate-authority-data to pin');
  return { server: kc.server, caPem: kc.caPem };
}

/** `tkube token create [TOKEN]`: prints the token (or the join command). */
export async function tokenCreate(token: string | undefined, flags: TokenCreateFlags): Promise<number> {
  return run(async () => {
    const value = token ?? generateToken();
    if (!parseToken(value)) throw new Error(`token ${JSON.stringify(value)} does not match the format [a-z0-9]{6}.[a-z0-9]{16}`);
    const split = (s: string | undefined): string[] | undefined => s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter((x) => x !== '');
    const secret = tokenSecret(value, {
      ttlMs: parseDuration(flags.ttl),
      ...(flags.description ? { description: flags.description } : {}),
      usages: split(flags.usages) ?? KNOWN_USAGES,
      groups: split(flags.groups) ?? [DEFAULT_NODE_TOKEN_GROUP],
    });
    await withClient(flags, async (c) => {
      try {
        await secrets(c).create(secret);
      } catch (err) {
        if (isAlreadyExists(err)) throw new Error(`a token with id "${parseToken(value)!.id}" already exists`);
        throw err;
      }
      if (!flags.printJoinCommand) {
        console.log(value);
        return;
      }
      const { server, caPem } = await joinTarget(c, flags);
      console.log(`tkube agent --server ${server} --token ${value} --ca-cert-hash ${caCertHash(caPem)}`);
    });
  });
}

/** `tkube token list`: kubeadm's columns. */
export async function tokenList(flags: TokenFlags): Promise<number> {
  return run(async () => {
    const list = await withClient(flags, (c) => secrets(c).list({ fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` }));
    const now = Date.now();
    const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
    for (const s of list.items) {
      const t = tokenOf(s);
      if (!t) continue;
      const exp = secretValue(s, TokenKeys.expiration);
      const usages = KNOWN_USAGES.filter((u) => secretValue(s, TokenKeys.usagePrefix + u) === 'true');
      rows.push([
        `${t.id}.${t.secret}`,
        exp === '' ? '<forever>' : Date.parse(exp) <= now ? '<invalid>' : durationText(Date.parse(exp) - now),
        exp === '' ? '<never>' : exp,
        usages.join(',') || '<none>',
        secretValue(s, TokenKeys.description) || '<none>',
        secretValue(s, TokenKeys.extraGroups) || '<none>',
      ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) console.log(r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3)).join('').trimEnd());
  });
}

/** `tkube token delete TOKEN|ID...`. */
export async function tokenDelete(tokens: readonly string[], flags: TokenFlags): Promise<number> {
  return run(async () => {
    const ids = tokens.map((t) => {
      const id = parseToken(t)?.id ?? t;
      if (!isValidTokenId(id)) throw new Error(`given token or token id ${JSON.stringify(t)} didn't match pattern [a-z0-9]{6} or [a-z0-9]{6}.[a-z0-9]{16}`);
      return id;
    });
    await withClient(flags, async (c) => {
      for (const id of ids) {
        try {
          await secrets(c).delete(BOOTSTRAP_TOKEN_SECRET_PREFIX + id);
        } catch (err) {
          if (isNotFound(err)) throw new Error(`bootstrap token "${id}" not found`);
          throw err;
        }
        console.log(`bootstrap token "${id}" deleted`);
      }
    });
  });
}

async function run(fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (err) {
    console.error(`tkube token: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
