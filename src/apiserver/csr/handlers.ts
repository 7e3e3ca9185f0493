// The CertificateSigningRequest endpoints that differ from the generic ones: create records the
// requester in spec (username, uid, groups, extra) and refuses bad signatures and system:masters
// client certificates; /approval (GET, PUT, PATCH; `kubectl certificate approve|deny`) changes
// only the conditions and needs the `approve` verb on the signer.
import { groupVersionString } from '../../api/resource_types.ts';
import { invalid, newPath, omitValue } from '../../api/field_errors.ts';
import type { Authorizer } from '../authz/authorizer.ts';
import { newBadRequest, newForbidden, newInvalid, newMethodNotSupported } from '../errors.ts';
import { contentType, readBody } from '../http_util.ts';
import type { HandlerContext, UserInfo } from '../handlers/context.ts';
import { fieldManagerOf } from '../handlers/write.ts';
import { respondObject } from '../handlers/respond.ts';
import { applyPatchBody } from '../patch.ts';
import { checkBodyAgainstRequest } from '../registry/generic_store.ts';
import type { KObject } from '../registry/strategy.ts';
import { loadCsrSupport, parseCsr } from './request.ts';
import { CSR_GROUP, CSR_RESOURCE, Signers } from './strategy.ts';

type Obj = Record<string, unknown>;

const GR = { group: CSR_GROUP, resource: CSR_RESOURCE };

/** Whether a request is one these handlers serve. */
export function isCsrRoute(group: string, resource: string, subresource: string, verb: string): boolean {
  return group === CSR_GROUP && resource === CSR_RESOURCE && (subresource === 'approval' || (subresource === '' && verb === 'create'));
}

function dryRunOf(q: URLSearchParams): boolean {
  for (const v of q.getAll('dryRun')) if (v !== 'All') throw newBadRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return q.getAll('dryRun').length > 0;
}

function fieldValidationOf(q: URLSearchParams): string {
  const v = q.get('fieldValidation') ?? '';
  if (v === '') return 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') throw newBadRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
  return v;
}

/** Records the requester in spec and starts with an empty status (upstream's PrepareForCreate). */
export function stampRequester(csr: KObject, user: UserInfo): void {
  const spec = (csr['spec'] ??= {}) as Obj;
  delete spec['username'];
  delete spec['uid'];
  delete spec['groups'];
  delete spec['extra'];
  spec['username'] = user.name;
  if (user.uid) spec['uid'] = user.uid;
  spec['groups'] = [...user.groups];
  if (user.extra && Object.keys(user.extra).length > 0) spec['extra'] = structuredClone(user.extra);
  delete csr['status'];
}

/** Routes a CSR create or /approval request. */
export async function handleCsr(ctx: HandlerContext, authorizer: Authorizer): Promise<void> {
  await loadCsrSupport();
  if (ctx.ri.subresource === 'approval') return handleApproval(ctx, authorizer);
  return handleCreate(ctx);
}

async function handleCreate(ctx: HandlerContext): Promise<void> {
  const dryRun = dryRunOf(ctx.query);
  const mode = fieldValidationOf(ctx.query);
  const obj = ctx.services.decodeBody(ctx.req, await readBody(ctx.req), ctx.info);
  ctx.warnings.push(...ctx.services.checkFields(ctx.info, obj, mode));
  checkBodyAgainstRequest(ctx.info, obj, '', undefined, groupVersionString(ctx.info.group, ctx.info.version));
  const spec = (obj['spec'] ?? {}) as Obj;
  const name = String(((obj['metadata'] ?? {}) as Obj)['name'] ?? '');
  if (typeof spec['request'] === 'string' && spec['request'] !== '') {
    let verified = true;
    try {
      verified = await parseCsr(spec['request']).verify();
    } catch {
      // unparsable: validation reports it with the parser's words
    }
    if (!verified) {
      throw newInvalid(CSR_GROUP, 'CertificateSigningRequest', name, [invalid(newPath('spec', 'request'), omitValue, 'x509: signature verification failure')]);
    }
    // CertificateSubjectRestriction: the client signer never issues system:masters certificates.
    if (spec['signerName'] === Signers.KubeAPIServerClient) {
      let orgs: readonly string[] = [];
      try {
        orgs = parseCsr(spec['request']).organizations;
      } catch {
        orgs = [];
      }
      if (orgs.includes('system:masters')) {
        throw newForbidden(GR, name, `use of ${Signers.KubeAPIServerClient} signer with system:masters group is not allowed`);
      }
    }
  }
  const created = await ctx.store.create('', obj, {
    dryRun, user: ctx.user, warnings: ctx.warnings, fieldManager: fieldManagerOf(ctx),
    mutate: (o) => stampRequester(o, ctx.user),
  });
  respondObject(ctx, 201, created);
}

/** Upstream's IsAuthorizedForSignerName: the verb on signers/<name>, or on signers/<domain>/*. */
export async function authorizedForSigner(authorizer: Authorizer, user: UserInfo, verb: string, signerName: string): Promise<boolean> {
  const attrs = (name: string) => ({
    user, verb, isResourceRequest: true, namespace: '', apiGroup: CSR_GROUP, apiVersion: '*', resource: 'signers', subresource: '', name, path: '',
  });
  if ((await authorizer.authorize(attrs(signerName))).decision === 'allow') return true;
  const domain = signerName.split('/')[0] ?? '';
  return (await authorizer.authorize(attrs(`${domain}/*`))).decision === 'allow';
}

async function handleApproval(ctx: HandlerContext, authorizer: Authorizer): Promise<void> {
  const name = ctx.ri.name;
  if (ctx.ri.verb === 'get') {
    respondObject(ctx, 200, await ctx.store.get('', name));
    return;
  }
  if (ctx.ri.verb !== 'update' && ctx.ri.verb !== 'patch') throw newMethodNotSupported(GR, ctx.ri.verb);
  const dryRun = dryRunOf(ctx.query);
  const mode = fieldValidationOf(ctx.query);
  const body = await readBody(ctx.req);
  const gv = groupVersionString(ctx.info.group, ctx.info.version);
  const ct = contentType(ctx.req);
  const put = ctx.ri.verb === 'update' ? ctx.services.decodeBody(ctx.req, body, ctx.info) : undefined;
  if (put) {
    ctx.warnings.push(...ctx.services.checkFields(ctx.info, put, mode));
    checkBodyAgainstRequest(ctx.info, put, '', name, gv);
  }
  const { obj } = await ctx.store.update('', name, async (current) => {
    if (!current) return put ?? {};
    // CertificateApproval admission: approving or denying needs `approve` on the signer.
    const signer = String(((current['spec'] ?? {}) as Obj)['signerName'] ?? '');
    if (!(await authorizedForSigner(authorizer, ctx.user, 'approve', signer))) {
      throw newForbidden(GR, name, `user not permitted to approve requests with signerName "${signer}"`);
    }
    if (put) return structuredClone(put);
    const patched = await applyPatchBody(ct, current, body, ctx.info);
    ctx.services.checkTyped(ctx.info, patched);
    ctx.warnings.push(...ctx.services.checkFields(ctx.info, patched, mode));
    checkBodyAgainstRequest(ctx.info, patched, '', name, gv);
    return patched;
  }, { dryRun, subresource: 'approval', user: ctx.user, warnings: ctx.warnings, fieldManager: fieldManagerOf(ctx) });
  respondObject(ctx, 200, obj);
}
