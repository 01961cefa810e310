import { useState } from 'react';
import type { Identity } from '../../api/endpoints';
import { formatCount } from '../../chart-data/format';
import { useApp } from '../../components/AppContext';
import { ErrorState, Skeleton } from '../../components/States';
import { useApi } from '../../hooks/useApi';
import { SaveStatus, useSaver } from './useSaver';

/** Merge identities that are one person (several emails, an account and a work address). */
export function IdentitiesSection() {
  const { api } = useApp();
  const identities = useApi('identities', (signal) => api.identities(signal));
  const [query, setQuery] = useState('');
  const [primary, setPrimary] = useState<string | null>(null);
  const [others, setOthers] = useState<Set<string>>(new Set());
  const saver = useSaver();
  const list: Identity[] = (identities.data ?? []).filter(
    (i) => !query || `${i.name} ${i.emails.join(' ')}`.toLowerCase().includes(query.toLowerCase()),
  );
  const toggle = (id: string) => {
    const next = new Set(others);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setOthers(next);
  };
  const mergeable = primary !== null && [...others].some((id) => id !== primary);
  return (
    <section className="card settings-section" aria-labelledby="identities-title">
      <h3 id="identities-title">Identity merges</h3>
      <p className="subtle">
        Pick the identity to keep, tick the ones that are the same person, and merge. Their commits then count
        as one contributor everywhere.
      </p>
      {!identities.data && identities.status === 'error' ? (
        <ErrorState error={identities.error} onRetry={identities.reload} />
      ) : !identities.data ? (
        <Skeleton height={120} label="Loading identities" />
      ) : (
        <>
          <input
            type="search"
            aria-label="Find identities"
            placeholder="Find by name or email"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            style={{ width: '100%', maxWidth: 360 }}
          />
          <div className="table-scroll">
            <table className="data">
              <thead>
                <tr>
                  <th scope="col">Keep</th>
                  <th scope="col">Merge</th>
                  <th scope="col">Name</th>
                  <th scope="col">Emails</th>
                  <th scope="col" className="num">
                    Commits
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((i) => (
                  <tr key={i.key}>
                    <td>
                      <input
                        type="radio"
                        name="primary-identity"
                        aria-label={`Keep ${i.name}`}
                        checked={primary === i.key}
                        onChange={() => setPrimary(i.key)}
                      />
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Merge ${i.name} into the kept identity`}
                        checked={others.has(i.key) && primary !== i.key}
                        disabled={primary === i.key}
                        onChange={() => toggle(i.key)}
                      />
                    </td>
                    <td>
                      {i.name}
                      {i.mergedInto ? (
                        <>
                          {' '}
                          <span className="lozenge">merged</span>{' '}
                          <button
                            type="button"
                            className="button small"
                            onClick={() =>
                              void saver.run(async () => {
                                await api.unmergeIdentity(i.key);
                                identities.reload();
                              }, `${i.name} is separate again.`)
                            }
                          >
                            Undo merge
                          </button>
                        </>
                      ) : null}
                    </td>
                    <td className="subtlest">{i.emails.join(', ')}</td>
                    <td className="num">{formatCount(i.commits)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="form-row">
            <button
              type="button"
              className="button primary"
              disabled={!mergeable || saver.status === 'saving'}
              onClick={() =>
                void saver.run(async () => {
                  await api.mergeIdentities(
                    primary!,
                    [...others].filter((id) => id !== primary),
                  );
                  setOthers(new Set());
                  identities.reload();
                }, 'Identities merged.')
              }
            >
              Merge selected
            </button>
            <SaveStatus {...saver} />
          </div>
        </>
      )}
    </section>
  );
}
