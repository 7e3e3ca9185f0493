// The image-reference parsing that container defaulting needs: the tag of an image as the docker
// reference grammar (distribution/reference) reads it, and the imagePullPolicy derived from it.

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const namePattern = new RegExp(`^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*$`);
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const digestLengths: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const maxNameLength = 255;

/** The parts of an image reference; undefined when the reference does not parse. */
export interface ImageReference {
  /** The repository as written, without tag or digest. */
  readonly name: string;
  /** The tag; "latest" when neither tag nor digest is given, "" when only a digest is. */
  readonly tag: string;
  readonly digest: string;
}

/** Parses an image reference the way the kubelet's parsers.ParseImageName does. */
export function parseImageReference(image: string): ImageReference | undefined {
  // A bare 64-hex string reads as an image ID, which is not a repository name.
  if (/^[a-f0-9]{64}$/.test(image)) return undefined;
  let rest = image;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!validDigest(digest)) return undefined;
  }
  let tag = '';
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) return undefined;
  }
  if (rest.length === 0 || rest.length > maxNameLength || !namePattern.test(rest)) return undefined;
  if (!remainderIsLowercase(rest)) return undefined;
  if (tag === '' && digest === '') tag = 'latest';
  return { name: rest, tag, digest };
}

function validDigest(digest: string): boolean {
  if (!digestPattern.test(digest)) return false;
  const [algorithm, hex] = digest.split(':') as [string, string];
  const want = digestLengths[algorithm];
  return want !== undefined && hex.length === want;
}

// The repository path after the registry host must be lower case; a first component without a dot
// or colon (and not "localhost") is not a host but part of that path.
function remainderIsLowercase(name: string): boolean {
  const slash = name.indexOf('/');
  let remainder = name;
  if (slash >= 0) {
    const first = name.slice(0, slash);
    const isDomain = /[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first;
    if (isDomain) remainder = name.slice(slash + 1);
  }
  return remainder.toLowerCase() === remainder;
}

/** imagePullPolicy for a container that sets none: Always for the "latest" tag, else IfNotPresent. */
export function defaultPullPolicy(image: unknown): 'Always' | 'IfNotPresent' {
  if (typeof image !== 'string') return 'IfNotPresent';
  return parseImageReference(image)?.tag === 'latest' ? 'Always' : 'IfNotPresent';
}
