// Static pods (pkg/kubelet/config/file.go, common.go): pods run from manifest files in a directory
// (DATA/agent/manifests, --pod-manifest-path), watched and rescanned; each named <name>-<node>, with
// a UID hashed from node, file and content and upstream's config.source/hash/seen annotations.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyDefaults } from '../api/defaults/registry.ts';
import { aggregateMessage } from '../api/field_errors.ts';
import type { Pod } from '../api/types/core_v1.ts';
import { validatePod } from '../api/validation/pod.ts';
import type { Disposable } from '../base/disposable.ts';
import { logger } from '../base/log.ts';
import { realClock, type Clock, type ClockTimer } from '../client/clock.ts';

const log = logger('static-pods');

export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** A pod the kubelet runs from a file (its source is not the API server). */
export function isStaticPod(pod: Pod): boolean {
  const source = pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return source !== undefined && source !== 'api';
}

/** The API's copy of a static pod. */
export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

/** Whether `mirror` is the current mirror of `pod` (IsMirrorPodOf). */
export function isMirrorPodOf(mirror: Pod, pod: Pod): boolean {
  if (mirror.metadata?.name !== pod.metadata?.name || mirror.metadata?.namespace !== pod.metadata?.namespace) return false;
  const hash = mirror.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION];
  return hash !== undefined && hash === pod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
}

/** Go's time.RFC3339Nano of a UTC time: the fraction without trailing zeros. */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A manifest that could not be read as pods, and why. */
export class ManifestError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ManifestError';
  }
}

/**
 * The pods of one manifest file (a Pod, or a PodList), defaulted and validated as the API server
 * would, with the file source's defaults (applyDefaults): UID from an MD5 of node, file and content
 * (ours hashes canonical JSON, so the value differs from upstream's), name <name>-<node>, namespace
 * default, spec.nodeName, a NoExecute toleration for every taint, phase Pending.
 */
export function podsFromManifest(text: string, path: string, nodeName: string, now: number): Pod[] {
  let docs: unknown[];
  try {
    docs = parseAllDocuments(text).map((d) => {
      if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
      return d.toJS() as unknown;
    }).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    throw new ManifestError(path, `invalid YAML or JSON: ${(err as Error).message}`);
  }
  if (docs.length !== 1) throw new ManifestError(path, `want one Pod or PodList, found ${docs.length} documents`);
  const doc = docs[0] as Record<string, unknown>;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ManifestError(path, 'not an object');
  const apiVersion = doc['apiVersion'];
  if (apiVersion !== 'v1') throw new ManifestError(path, `unsupported apiVersion ${JSON.stringify(apiVersion)}: want "v1"`);
  let items: unknown[];
  if (doc['kind'] === 'Pod') items = [doc];
  else if (doc['kind'] === 'PodList') items = Array.isArray(doc['items']) ? doc['items'] as unknown[] : [];
  else throw new ManifestError(path, `unsupported kind ${JSON.stringify(doc['kind'])}: want Pod or PodList`);
  return items.map((item) => staticPod(structuredClone(item) as Pod, path, nodeName, now));
}

function staticPod(pod: Pod, path: string, nodeName: string, now: number): Pod {
  pod.apiVersion = 'v1';
  pod.kind = 'Pod';
  applyDefaults('', 'v1', 'Pod', pod);
  const md = (pod.metadata ??= {});
  if (!md.uid) {
    const h = createHash('md5');
    h.update(`host:${nodeName}`);
    h.update(`file:${path}`);
    h.update(canonicalJson(pod));
    md.uid = h.digest('hex');
  }
  md.name = `${md.name ?? ''}-${nodeName.toLowerCase()}`;
  md.namespace ||= 'default';
  const spec = (pod.spec ??= { containers: [] });
  spec.nodeName = nodeName;
  md.annotations = { ...md.annotations, [CONFIG_HASH_ANNOTATION]: md.uid, [CONFIG_SOURCE_ANNOTATION]: 'file', [CONFIG_SEEN_ANNOTATION]: rfc3339Nano(now) };
  // static pods stay through node problems (AddOrUpdateTolerationInPod)
  const tolerations = spec.tolerations ?? [];
  if (!tolerations.some((t) => t.operator === 'Exists' && !t.key && t.effect === 'NoExecute')) {
    spec.tolerations = [...tolerations, { operator: 'Exists', effect: 'NoExecute' }];
  }
  pod.status = { phase: 'Pending' };
  const errs = validatePod(pod as unknown as Record<string, unknown>);
  if (errs.length > 0) throw new ManifestError(path, `invalid pod: ${aggregateMessage(errs)}`);
  return pod;
}

/** Options of StaticPodSource. */
export interface StaticPodSourceOptions {
  /** The manifest directory; a missing one holds no pods until it appears. */
  readonly dir: string;
  readonly nodeName: string;
  /** Hears the complete set of static pods whenever it changes. */
  readonly onChange: (pods: readonly Pod[]) => void;
  readonly clock?: Clock;
  /** Rescan period (fileCheckFrequency, default 20 s). */
  readonly rescanMs?: number;
}

interface FileEntry {
  readonly mtimeMs: number;
  readonly size: number;
  readonly pods: Pod[];
}

/** Watches the manifest directory. */
export class StaticPodSource implements Disposable {
  readonly #o: StaticPodSourceOptions;
  readonly #clock: Clock;
  readonly #files = new Map<string, FileEntry>();
  #lastKey = '';
  #watcher: FSWatcher | undefined;
  #timer: ClockTimer | undefined;
  #debounce: ClockTimer | undefined;
  #scanning: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(opts: StaticPodSourceOptions) {
    if (!opts.dir.startsWith('/')) throw new Error(`StaticPodSourceOptions.dir: want an absolute path, got ${JSON.stringify(opts.dir)}`);
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
  }

  /** The static pods now. */
  pods(): Pod[] {
    return [...this.#files.keys()].sort().flatMap((f) => this.#files.get(f)!.pods);
  }

  /** Reads the directory once, then watches it. */
  async start(): Promise<void> {
    await this.scan();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(() => {
      void this.scan().finally(() => this.#schedule());
    }, this.#o.rescanMs ?? 20_000);
  }

  #watch(): void {
    if (this.#watcher || this.#stopped) return;
    try {
      this.#watcher = watch(this.#o.dir, { persistent: false }, () => this.#soon());
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      // no directory yet: the periodic rescan finds it
    }
  }

  /** A change was seen: rescan after editors have finished writing. */
  #soon(): void {
    if (this.#stopped) return;
    this.#debounce?.dispose();
    this.#debounce = this.#clock.setTimer(() => { void this.scan(); }, 100);
  }

  /** Reads every manifest that changed; tells the listener when the set of pods did. */
  async scan(): Promise<void> {
    if (this.#scanning) {
      this.#again = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      do {
        this.#again = false;
        await this.#scanOnce();
      } while (this.#again && !this.#stopped);
    })().finally(() => { this.#scanning = undefined; });
    return this.#scanning;
  }

  async #scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#o.dir);
    } catch {
      names = [];
    }
    this.#watch();
    const seen = new Set<string>();
    // editors' swap and backup files, and hidden files, are not manifests
    for (const n of names.sort()) {
      if (n.startsWith('.') || n.endsWith('~') || n.endsWith('.swp')) continue;
      const path = join(this.#o.dir, n);
      let st;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      seen.add(path);
      const prev = this.#files.get(path);
      if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size) continue;
      try {
        const pods = podsFromManifest(await readFile(path, 'utf8'), path, this.#o.nodeName, this.#clock.now());
        // an unchanged pod keeps the object (and config.seen) it had
        const old = new Map((prev?.pods ?? []).map((p) => [p.metadata?.uid, p]));
        this.#files.set(path, { mtimeMs: st.mtimeMs, size: st.size, pods: pods.map((p) => old.get(p.metadata?.uid) ?? p) });
      } catch (err) {
        log.warn('could not read a static pod manifest', { path, err: (err as Error).message });
        // a file that stops parsing keeps its pods no longer
        this.#files.set(path, { mtimeMs: st.mtimeMs, size: st.size, pods: [] });
      }
    }
    for (const path of [...this.#files.keys()]) if (!seen.has(path)) this.#files.delete(path);
    const pods = this.pods();
    const key = pods.map((p) => p.metadata?.uid).join(',');
    if (key !== this.#lastKey) {
      this.#lastKey = key;
      log.info('static pods changed', { pods: pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`) });
      this.#o.onChange(pods);
    }
  }

  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    this.#debounce?.dispose();
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#scanning;
  }
}
