import type { Account } from './accounts.js';
import { signIframeUrl } from './auth.js';
import { pageModules, resolveAppUrl, scopeForContextParam, type PageModule } from './descriptor.js';
import type { Installation, Repository } from './store.js';

export interface IframeContext {
  viewer: Account;
  repository?: Repository;
  targetUser?: Account;
}

/** Context parameter values, as the API JSON writes them (uuids keep their braces). */
export function contextValues(inst: Installation, ctx: IframeContext): Record<string, string> {
  const ws = inst.workspace;
  const values: Record<string, string> = {
    'user.uuid': ctx.viewer.uuid,
    'user.account_id': ctx.viewer.account_id,
    'user.nickname': ctx.viewer.nickname,
    'user.display_name': ctx.viewer.display_name,
    'workspace.uuid': ws.uuid,
    'workspace.slug': ws.slug,
    'principal.uuid': ws.uuid,
    'principal.username': ws.slug,
  };
  if (ctx.targetUser) {
    values['target_user.uuid'] = ctx.targetUser.uuid;
    values['target_user.account_id'] = ctx.targetUser.account_id;
    values['target_user.nickname'] = ctx.targetUser.nickname;
  }
  const repo = ctx.repository;
  if (repo) {
    values['repository.uuid'] = repo.uuid;
    values['repository.full_name'] = repo.fullName;
    values['repository.slug'] = repo.slug;
    values['repository.name'] = repo.name;
    values['repository.mainbranch.name'] = repo.mainbranch;
    values['repository.owner.uuid'] = ws.uuid;
  }
  return values;
}

function hasScope(inst: Installation, scope: string): boolean {
  return inst.descriptor.scopes.some((s) => s === scope || s.startsWith(`${scope}:`));
}

/**
 * Substitutes `{param}` placeholders (URL-encoded, so `{uuid}` braces become %7B…%7D). A
 * parameter whose scope the app lacks, or that has no value here, becomes empty
 * (UNCONFIRMED whether Bitbucket leaves such placeholders empty or literal).
 */
export function substitute(template: string, inst: Installation, values: Record<string, string>): string {
  return template.replace(/\{([a-z_]+(?:\.[a-z_]+)+)\}/gi, (_m, param: string) => {
    const scope = scopeForContextParam(param);
    if (scope && !hasScope(inst, scope)) return '';
    const value = values[param];
    return value === undefined ? '' : encodeURIComponent(value);
  });
}

export function findModule(inst: Installation, moduleKey: string): PageModule | undefined {
  return pageModules(inst.descriptor).find((m) => m.key === moduleKey);
}

/**
 * The exact URL the host page puts in the iframe: module URL with context substituted, then
 * `jwt` = HS256(sharedSecret) with iss = aud = clientKey, sub = viewer, exp = iat + 180 and a
 * real qsh over GET + path + query (Bitbucket does not support context-qsh).
 */
export function signedIframeUrl(
  inst: Installation,
  module: PageModule,
  ctx: IframeContext,
  opts: { nowSec: number; sub: 'account_id' | 'uuid' },
): string {
  const url = resolveAppUrl(inst.baseUrl, substitute(module.url, inst, contextValues(inst, ctx)));
  const token = signIframeUrl({
    clientKey: inst.clientKey,
    secret: inst.sharedSecret,
    url,
    baseUrl: inst.baseUrl,
    sub: opts.sub === 'uuid' ? ctx.viewer.uuid : ctx.viewer.account_id,
    nowSec: opts.nowSec,
  });
  return `${url}${url.includes('?') ? '&' : '?'}jwt=${token}`;
}
