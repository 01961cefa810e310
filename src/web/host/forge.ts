import { invokeRemote, view } from '@forge/bridge';
import type { PageName } from '../App';
import type { Host, Transport } from './host';

/**
 * The Forge host: a Custom UI resource (forge/manifest.yml) in Bitbucket's frame, talking to its host through
 * `@forge/bridge`. The page comes from the module's context (`extension.type`), its parameters from the extension
 * context Bitbucket gives (`extension.repository`), and every API call is an `invokeRemote` to the same `/api/v1`
 * routes; Forge adds `Authorization: Bearer <invocation token>` on its way to Tally, so this frame never holds a
 * credential.
 */
const PAGE_BY_MODULE: Record<string, PageName> = {
  'bitbucket:repoMainMenuPage': 'repository',
  'bitbucket:workspaceGlobalPage': 'workspace',
  'bitbucket:workspaceSettingsMenuPage': 'configure',
  'bitbucket:workspacePersonalSettingsPage': 'profile',
};

interface BitbucketExtension {
  type?: string;
  repository?: { uuid?: string; full_name?: string; fullName?: string; name?: string };
  workspace?: { uuid?: string; slug?: string };
}

/** invokeRemote's answer: the remote's status, headers and body (JSON parsed by Forge, or text). */
interface RemoteAnswer {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: unknown;
  message?: string;
}

function abortError(): DOMException {
  return new DOMException('The request was aborted', 'AbortError');
}

/** `/api/v1` through Forge: a fetch Response rebuilt from invokeRemote's answer, so the API client is the same. */
export const remoteTransport: Transport = async (path, request) => {
  if (request.signal?.aborted) throw abortError();
  const answer = ((await invokeRemote({
    path: `/api/v1${path}`,
    method: request.method as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: JSON.parse(request.body) as unknown }),
  })) ?? {}) as RemoteAnswer;
  // invokeRemote cannot be cancelled; an aborted request's answer is dropped, as fetch would drop it.
  if (request.signal?.aborted) throw abortError();
  const status = typeof answer.status === 'number' && answer.status >= 200 ? answer.status : 502;
  const body =
    status === 204 || answer.body === undefined || answer.body === null
      ? null
      : typeof answer.body === 'string'
        ? answer.body
        : JSON.stringify(answer.body);
  if (typeof answer.status !== 'number')
    return Response.json(
      { error: { code: 'internal_error', message: answer.message ?? 'Forge could not reach Tally' } },
      { status },
    );
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers ?? {}))
    headers.set(name, Array.isArray(value) ? value.join(',') : value);
  return new Response(body, { status, headers });
};

/** The Forge host of this frame; its page is null when the module is not one of Tally's pages. */
export async function forgeHost(): Promise<Host> {
  const context = (await view.getContext()) as { extension?: BitbucketExtension };
  const extension = context.extension ?? {};
  const page = PAGE_BY_MODULE[extension.type ?? ''] ?? null;
  const params = new URLSearchParams(window.location.search);
  const repository = extension.repository;
  if (repository?.uuid) params.set('repoUuid', repository.uuid);
  const repoPath = repository?.full_name ?? repository?.fullName;
  if (repoPath) params.set('repoPath', repoPath);
  if (extension.workspace?.slug) params.set('workspace', extension.workspace.slug);
  if (page === 'profile') {
    // "My contributions" shows the viewer, whom Tally knows from the invocation token (its scope's contributor).
    const res = await remoteTransport('/me', { method: 'GET', headers: { accept: 'application/json' } });
    if (res.ok) {
      const me = (await res.json()) as { scope?: { contributor?: string | null } };
      if (me.scope?.contributor) params.set('user', me.scope.contributor);
    }
  }
  return {
    kind: 'forge',
    page,
    params,
    transport: remoteTransport,
    // Forge sizes Custom UI frames itself.
    resize: () => {},
    // The frame's own query keeps the filters; Bitbucket's address does not.
    saveState: () => {},
    savedState: () => '',
  };
}
