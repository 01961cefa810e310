import { useState } from 'react';
import { useApp } from '../../components/AppContext';
import { ErrorState, Skeleton } from '../../components/States';
import { useApi } from '../../hooks/useApi';
import { formatTime } from './TrustSections';
import { SaveStatus, useSaver } from './useSaver';

/** Read-only API tokens for scripts and BI tools (docs/api.md): create (shown once, with a copy button), revoke. */
export function ApiTokensSection() {
  const { api } = useApp();
  const tokens = useApi('api-tokens', () => api.apiTokens());
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const saver = useSaver();
  return (
    <section className="card settings-section" aria-labelledby="tokens-title">
      <h3 id="tokens-title">API tokens</h3>
      <p className="subtle">
        Tokens let scripts and BI tools read this workspace's statistics and exports (
        <code>Authorization: Bearer …</code>), never settings or admin data. Each use is counted in the audit
        log.
      </p>
      {created && (
        <div className="form-row" data-testid="new-token">
          <p>
            Copy the token <strong>{created.name}</strong> now: it is not shown again.
          </p>
          <input type="text" readOnly value={created.token} aria-label="New API token" size={50} />
          <button
            type="button"
            className="button"
            onClick={() =>
              void navigator.clipboard?.writeText(created.token).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      <div className="form-row">
        <div className="field" style={{ flex: 1, minWidth: 220 }}>
          <label htmlFor="token-name">Name</label>
          <input
            id="token-name"
            type="text"
            value={name}
            maxLength={100}
            placeholder="e.g. Looker dashboard"
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <button
          type="button"
          className="button primary"
          disabled={!name.trim() || saver.status === 'saving'}
          onClick={() =>
            void saver.run(async () => {
              const token = await api.createApiToken(name.trim());
              setCreated({ name: token.name, token: token.token });
              setCopied(false);
              setName('');
              tokens.reload();
            }, 'Token created.')
          }
        >
          Create token
        </button>
        <SaveStatus {...saver} />
      </div>
      {!tokens.data && tokens.status === 'error' ? (
        <ErrorState error={tokens.error} onRetry={tokens.reload} />
      ) : !tokens.data ? (
        <Skeleton height={60} label="Loading API tokens" />
      ) : tokens.data.length === 0 ? (
        <p className="subtle">No tokens yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>
                    {formatTime(t.created_at)} by {t.created_by}
                  </td>
                  <td>{t.last_used_at ? formatTime(t.last_used_at) : 'never'}</td>
                  <td>
                    <button
                      type="button"
                      className="button"
                      aria-label={`Revoke ${t.name}`}
                      onClick={() =>
                        void saver.run(async () => {
                          await api.revokeApiToken(t.id);
                          tokens.reload();
                        }, 'Token revoked.')
                      }
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
