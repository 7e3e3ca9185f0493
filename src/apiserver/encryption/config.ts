// `--encryption-provider-config`: the apiserver.config.k8s.io/v1 EncryptionConfiguration, validated
// with upstream's messages and turned into one transformer per group-resource (first provider
// writes, every provider reads), with the `*.`, `*.<group>` and `*.*` wildcards.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { aggregateMessage, goValue, invalid, newPath, required, type ErrorList, type Path } from '../../api/field_errors.ts';
import {
  AESCBC_PREFIX, AESGCM_PREFIX, SECRETBOX_PREFIX, aesCBCTransformer, aesGCMTransformer, identityTransformer,
  prefixTransformers, secretboxTransformer, type PrefixTransformer, type Transformer,
} from './transformers.ts';

/** A named key of an aescbc, aesgcm or secretbox provider. */
export interface EncryptionKey {
  readonly name: string;
  /** Base64 of the key bytes. */
  readonly secret: string;
}

/** One provider; exactly one field is set. */
export interface ProviderConfiguration {
  readonly aescbc?: { readonly keys?: readonly EncryptionKey[] };
  readonly aesgcm?: { readonly keys?: readonly EncryptionKey[] };
  readonly secretbox?: { readonly keys?: readonly EncryptionKey[] };
  readonly identity?: Record<string, never>;
  readonly kms?: Record<string, unknown>;
}

/** Resources and the providers that store them. */
export interface ResourceConfiguration {
  readonly resources: readonly string[];
  readonly providers: readonly ProviderConfiguration[];
}

/** The decoded configuration file. */
export interface EncryptionConfigurationSpec {
  readonly resources: readonly ResourceConfiguration[];
}

/** A group and resource, where either may be "*". */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}

/** A validated configuration with its transformers. */
export interface EncryptionConfig {
  readonly spec: EncryptionConfigurationSpec;
  /** The transformer of a stored group-resource; identity (refusing encrypted data) when none is configured. */
  transformerFor(gr: GroupResource): Transformer;
  /** Whether a group-resource has configured providers (directly or through a wildcard). */
  isConfigured(gr: GroupResource): boolean;
}

/** A configuration that cannot be used; the message is upstream's. */
export class EncryptionConfigError extends Error {
  readonly code = 'EncryptionConfigInvalid';
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionConfigError';
  }
}

const AES_KEY_SIZES = [16, 24, 32];
const SECRETBOX_KEY_SIZES = [32];
const NO_PROVIDER = 'provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity';

/** Reads and validates the file (encryptionconfig.LoadEncryptionConfig). */
export async function loadEncryptionConfig(path: string): Promise<EncryptionConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EncryptionConfigError(`error while parsing file: error while loading file: error reading encryption provider configuration file ${JSON.stringify(path)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (text.length === 0) {
    throw new EncryptionConfigError(`error while parsing file: error while loading file: encryption provider configuration file ${JSON.stringify(path)} is empty`);
  }
  try {
    return parseEncryptionConfig(text, path);
  } catch (err) {
    if (err instanceof EncryptionConfigError) throw new EncryptionConfigError(`error while parsing file: ${err.message}`);
    throw err;
  }
}

/** Decodes, validates and builds a configuration from YAML or JSON text. */
export function parseEncryptionConfig(text: string, path = '<inline>'): EncryptionConfig {
  const spec = decode(text, path);
  const errs = validateEncryptionConfiguration(spec);
  if (errs.length > 0) throw new EncryptionConfigError(aggregateMessage(errs));
  return build(spec);
}

function decode(text: string, path: string): EncryptionConfigurationSpec {
  const fail = (msg: string): never => {
    throw new EncryptionConfigError(`error decoding encryption provider configuration file ${JSON.stringify(path)}: ${msg}`);
  };
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail("Object 'Kind' is missing");
  const o = doc as Record<string, unknown>;
  if (typeof o['kind'] !== 'string' || o['kind'] === '') fail("Object 'Kind' is missing");
  if (o['apiVersion'] !== 'apiserver.config.k8s.io/v1' || o['kind'] !== 'EncryptionConfiguration') {
    fail(`no kind ${JSON.stringify(o['kind'])} is registered for version ${JSON.stringify(o['apiVersion'] ?? '')}`);
  }
  const list = (v: unknown, at: string): unknown[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return fail(`${at}: expected a list`);
    return v;
  };
  const obj = (v: unknown, at: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(`${at}: expected an object`);
    return v as Record<string, unknown>;
  };
  const keys = (v: unknown, at: string): { keys: EncryptionKey[] } => {
    const o2 = v === null ? {} : obj(v, at);
    return {
      keys: list(o2['keys'], `${at}.keys`).map((k, i) => {
        const kk = obj(k, `${at}.keys[${i}]`);
        return { name: typeof kk['name'] === 'string' ? kk['name'] : '', secret: typeof kk['secret'] === 'string' ? kk['secret'] : '' };
      }),
    };
  };
  return {
    resources: list(o['resources'], 'resources').map((r, i) => {
      const rr = obj(r, `resources[${i}]`);
      return {
        resources: list(rr['resources'], `resources[${i}].resources`).map((s, j) => (typeof s === 'string' ? s : fail(`resources[${i}].resources[${j}]: expected a string`))),
        providers: list(rr['providers'], `resources[${i}].providers`).map((p, j) => {
          const at = `resources[${i}].providers[${j}]`;
          const pp = obj(p, at);
          const out: { -readonly [K in keyof ProviderConfiguration]: ProviderConfiguration[K] } = {};
          if ('aescbc' in pp) out.aescbc = keys(pp['aescbc'], `${at}.aescbc`);
          if ('aesgcm' in pp) out.aesgcm = keys(pp['aesgcm'], `${at}.aesgcm`);
          if ('secretbox' in pp) out.secretbox = keys(pp['secretbox'], `${at}.secretbox`);
          if ('identity' in pp) out.identity = {};
          if ('kms' in pp) out.kms = pp['kms'] === null ? {} : obj(pp['kms'], `${at}.kms`);
          return out;
        }),
      };
    }),
  };
}

/** schema.ParseGroupResource: "deployments.apps" → apps/deployments, "*." → core/*. */
export function parseGroupResource(s: string): GroupResource {
  const i = s.indexOf('.');
  return i >= 0 ? { group: s.slice(i + 1), resource: s.slice(0, i) } : { group: '', resource: s };
}

function grString(gr: GroupResource): string {
  if (gr.group === '' && gr.resource === '*') return '*.';
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

/** validation.ValidateEncryptionConfiguration. */
export function validateEncryptionConfiguration(c: EncryptionConfigurationSpec): ErrorList {
  const root = newPath('resources');
  const errs: ErrorList = [];
  if (c.resources.length === 0) return [required(root, `at least one ${root} is required`)];
  c.resources.forEach((conf, i) => {
    const r = root.index(i).child('resources');
    const p = root.index(i).child('providers');
    if (conf.resources.length === 0) errs.push(required(r, `at least one ${r} is required`));
    errs.push(...validateResourceOverlap(conf.resources, r), ...validateResourceNames(conf.resources, r));
    if (conf.providers.length === 0) errs.push(required(p, `at least one ${p} is required`));
    conf.providers.forEach((provider, j) => {
      const path = p.index(j);
      const kinds = (['kms', 'aesgcm', 'aescbc', 'secretbox', 'identity'] as const).filter((k) => provider[k] !== undefined);
      // Go prints the provider struct with %#v; JSON is our nearest readable rendering.
      if (kinds.length === 0) errs.push(invalid(path, goValue(JSON.stringify(provider)), NO_PROVIDER));
      else if (kinds.length > 1) errs.push(invalid(path, goValue(JSON.stringify(provider)), 'more than one provider specified in a single element, should split into different list elements'));
      if (provider.kms !== undefined) {
        // tkube has no KMS plugin client; refuse rather than start without encryption.
        errs.push(invalid(path.child('kms'), goValue(JSON.stringify(provider.kms)), 'KMS providers are not supported by tkube; use aescbc, aesgcm or secretbox'));
      } else if (provider.aesgcm) errs.push(...validateKeys(provider.aesgcm.keys ?? [], path.child('aesgcm').child('keys'), AES_KEY_SIZES));
      else if (provider.aescbc) errs.push(...validateKeys(provider.aescbc.keys ?? [], path.child('aescbc').child('keys'), AES_KEY_SIZES));
      else if (provider.secretbox) errs.push(...validateKeys(provider.secretbox.keys ?? [], path.child('secretbox').child('keys'), SECRETBOX_KEY_SIZES));
    });
  });
  return errs;
}

function validateResourceOverlap(resources: readonly string[], path: Path): ErrorList {
  if (resources.length < 2) return [];
  const grs = resources.map(parseGroupResource);
  let overlap = false;
  let dup = false;
  grs.forEach((r1, i) => grs.forEach((r2, j) => {
    if (i === j) return;
    if (r1.group === r2.group && r1.resource === r2.resource && !dup) {
      dup = true;
      return;
    }
    if (overlap) return;
    if (r1.group === '*' && r1.resource === '*') overlap = true;
    else if (r1.group === r2.group && (r1.resource === '*' || r2.resource === '*')) overlap = true;
  }));
  const errs: ErrorList = [];
  if (dup) errs.push(invalid(path, resources, 'the same resource cannot be specified multiple times'));
  if (overlap) errs.push(invalid(path, resources, "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"));
  return errs;
}

function validateResourceNames(resources: readonly string[], path: Path): ErrorList {
  const errs: ErrorList = [];
  resources.forEach((res, j) => {
    const at = path.index(j);
    const gr = parseGroupResource(res);
    if (res.toLowerCase() !== res) errs.push(invalid(at, res, 'resource name should not contain capital letters'));
    else if (res === '*') errs.push(invalid(at, res, "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"));
    else if (res === 'apiserveripinfo' || res === 'serviceipallocations' || res === 'servicenodeportallocations') {
      errs.push(invalid(at, res, 'resources which do not have REST API/s cannot be encrypted'));
    } else if (gr.group === 'events.k8s.io') {
      errs.push(invalid(at, res, "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"));
    } else if (gr.group === 'extensions') errs.push(invalid(at, res, "'extensions' group has been removed and cannot be used for encryption"));
    else if (gr.group === '*' && gr.resource !== '*') errs.push(invalid(at, res, 'encrypting the same resource across groups is not supported'));
  });
  return errs;
}

function validateKeys(keys: readonly EncryptionKey[], path: Path, sizes: readonly number[]): ErrorList {
  if (keys.length === 0) return [required(path, 'at least one keys is required')];
  const errs: ErrorList = [];
  keys.forEach((key, i) => {
    const at = path.index(i);
    if (key.name === '') errs.push(required(at.child('name'), 'name is a mandatory field for a key'));
    if (key.secret === '') {
      errs.push(required(at.child('secret'), 'secret is a mandatory field for a key'));
      return;
    }
    const bytes = decodeBase64Strict(key.secret);
    if (!bytes) {
      errs.push(invalid(at.child('secret'), 'REDACTED', 'secrets must be base64 encoded'));
      return;
    }
    if (!sizes.includes(bytes.length)) {
      errs.push(invalid(at.child('secret'), 'REDACTED', `secret is not of the expected length, got ${bytes.length}, expected one of [${sizes.join(' ')}]`));
    }
  });
  return errs;
}

/** base64.StdEncoding.DecodeString: padded standard alphabet, newlines ignored; undefined when malformed. */
export function decodeBase64Strict(s: string): Buffer | undefined {
  const clean = s.replace(/[\r\n]/g, '');
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined;
  return Buffer.from(clean, 'base64');
}

function keyedTransformer(keys: readonly EncryptionKey[], make: (key: Buffer) => Transformer, noMatch: string): Transformer {
  return prefixTransformers(noMatch, keys.map((k): PrefixTransformer => {
    let t: Transformer;
    try {
      t = make(decodeBase64Strict(k.secret)!);
    } catch (err) {
      throw new EncryptionConfigError(`error while creating cipher for named key ${k.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { prefix: Buffer.from(`${k.name}:`), transformer: t };
  }));
}

function providerTransformer(p: ProviderConfiguration): PrefixTransformer {
  if (p.aesgcm) {
    return { prefix: Buffer.from(AESGCM_PREFIX), transformer: keyedTransformer(p.aesgcm.keys ?? [], aesGCMTransformer, 'no matching key was found for the provided AES transformer') };
  }
  if (p.aescbc) {
    return { prefix: Buffer.from(AESCBC_PREFIX), transformer: keyedTransformer(p.aescbc.keys ?? [], aesCBCTransformer, 'no matching key was found for the provided AES transformer') };
  }
  if (p.secretbox) {
    return { prefix: Buffer.from(SECRETBOX_PREFIX), transformer: keyedTransformer(p.secretbox.keys ?? [], secretboxTransformer, 'no matching key was found for the provided Secretbox transformer') };
  }
  if (p.identity) return { prefix: new Uint8Array(0), transformer: identityTransformer };
  throw new EncryptionConfigError(NO_PROVIDER);
}

function build(spec: EncryptionConfigurationSpec): EncryptionConfig {
  const byGR = new Map<string, PrefixTransformer[]>();
  const id = (gr: GroupResource): string => `${gr.group}/${gr.resource}`;
  for (const conf of spec.resources) {
    const list = conf.providers.map(providerTransformer);
    for (const res of conf.resources) {
      const gr = parseGroupResource(res);
      const anyInGroup = { group: gr.group, resource: '*' };
      if (byGR.has(id(anyInGroup))) throw new EncryptionConfigError(`resource ${JSON.stringify(grString(gr))} is masked by earlier rule ${JSON.stringify(grString(anyInGroup))}`);
      if (byGR.has('*/*')) throw new EncryptionConfigError(`resource ${JSON.stringify(grString(gr))} is masked by earlier rule "*.*"`);
      byGR.set(id(gr), [...(byGR.get(id(gr)) ?? []), ...list]);
    }
  }
  const transformers = new Map<string, Transformer>();
  for (const [k, list] of byGR) transformers.set(k, prefixTransformers('no matching prefix found', list));
  const lookup = (gr: GroupResource): Transformer | undefined =>
    transformers.get(id(gr)) ?? transformers.get(id({ group: gr.group, resource: '*' })) ?? transformers.get('*/*');
  return {
    spec,
    transformerFor: (gr) => lookup(gr) ?? identityTransformer,
    isConfigured: (gr) => lookup(gr) !== undefined,
  };
}

