// Static bearer tokens from `--token-auth-file` (upstream's tokenfile authenticator): a CSV file of
// `token,user,uid[,"group1,group2"]` lines, read once at start. Tokens compare in constant time.
import { timingSafeEqual, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { logger } from '../../base/log.ts';
import type { UserInfo } from '../handlers/context.ts';
import { UNRECOGNIZED, type TokenAuthenticator, type TokenResult } from './authenticator.ts';

const log = logger('authn');

/**
 * Parses CSV as Go's encoding/csv does with FieldsPerRecord = -1: quoted fields (with "" escapes
 * and embedded newlines), empty lines skipped, a bare quote in an unquoted field is an error.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0, line = 1;
  const n = text.length;
  while (i < n) {
    // Empty lines are skipped.
    if (text[i] === '\n') { i++; line++; continue; }
    if (text[i] === '\r' && text[i + 1] === '\n') { i += 2; line++; continue; }
    const record: string[] = [];
    const recordLine = line;
    for (;;) {
      let field = '';
      const column = i;
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Error(`record on line ${recordLine}; parse error on line ${line}, column ${i - column}: extraneous or missing " in quoted-field`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          throw new Error(`parse error on line ${line}, column ${i - column + 1}: extraneous or missing " in quoted-field`);
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          if (text[i] === '"') throw new Error(`parse error on line ${line}, column ${i - column + 1}: bare " in non-quoted-field`);
          field += text[i];
          i++;
        }
      }
      record.push(field);
      if (i < n && text[i] === ',') { i++; continue; }
      if (i < n && text[i] === '\r') i++;
      if (i < n && text[i] === '\n') { i++; line++; }
      break;
    }
    records.push(record);
  }
  return records;
}

/** Builds the token table of a token file's text; `source` names the file in messages. */
export function parseTokenFile(text: string, source: string): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  let recordNum = 0;
  for (const record of parseCsv(text)) {
    if (record.length < 3) {
      throw new Error(`token file '${source}' must have at least 3 columns (token, user name, user uid), found ${record.length}`);
    }
    recordNum++;
    const [token, name, uid] = record as [string, string, string];
    if (token === '') {
      log.warn(`empty token has been found in token file '${source}', record number '${recordNum}'`);
      continue;
    }
    if (tokens.has(token)) log.warn(`duplicate token has been found in token file '${source}', record number '${recordNum}'`);
    const groups = record.length >= 4 ? record[3]!.split(',') : [];
    tokens.set(token, { name, uid, groups });
  }
  return tokens;
}

/** Authenticates tokens listed in a token file. */
export class StaticTokenAuthenticator implements TokenAuthenticator {
  // Keyed by a hash of the token, so a lookup reveals nothing through timing about other tokens.
  readonly #byHash = new Map<string, { token: Buffer; user: UserInfo }>();

  constructor(tokens: ReadonlyMap<string, UserInfo>) {
    for (const [token, user] of tokens) this.#byHash.set(hash(token), { token: Buffer.from(token), user });
  }

  /** Reads and parses `path`; fails with the file's problem (missing file, bad line). */
  static async fromFile(path: string): Promise<StaticTokenAuthenticator> {
    if (typeof path !== 'string' || path === '') throw new Error(`tokenAuthFile must be a non-empty path, got ${JSON.stringify(path)}`);
    return new StaticTokenAuthenticator(parseTokenFile(await readFile(path, 'utf8'), path));
  }

  authenticateToken(token: string): TokenResult {
    const entry = this.#byHash.get(hash(token));
    if (!entry) return UNRECOGNIZED;
    const given = Buffer.from(token);
    if (given.length !== entry.token.length || !timingSafeEqual(given, entry.token)) return UNRECOGNIZED;
    return { kind: 'authenticated', user: entry.user, audiences: [] };
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
