import { useState } from 'react';
import { useApp } from '../../components/AppContext';
import { ErrorState, Skeleton } from '../../components/States';
import { useApi } from '../../hooks/useApi';
import { SaveStatus, useSaver } from './useSaver';

/** Teams of contributors: a name and its people, shown side by side on the workspace page (`team=` on the API). */
export function TeamsSection() {
  const { api } = useApp();
  const teams = useApi('teams', () => api.teams());
  const identities = useApi('team-identities', () => api.identities());
  const [editing, setEditing] = useState<{ id?: number; name: string; members: string[] }>({
    name: '',
    members: [],
  });
  const saver = useSaver();
  const people = (identities.data ?? []).filter((i) => i.mergedInto === null);
  const nameOf = (key: string) => people.find((p) => p.key === key)?.name ?? key;
  return (
    <section className="card settings-section" aria-labelledby="teams-title">
      <h3 id="teams-title">Teams</h3>
      <p className="subtle">
        Group people into teams to compare them side by side on the workspace page. A merged identity counts
        for the person it was merged into.
      </p>
      <div className="form-row">
        <div className="field" style={{ minWidth: 200 }}>
          <label htmlFor="team-name">Team name</label>
          <input
            id="team-name"
            type="text"
            value={editing.name}
            maxLength={100}
            placeholder="e.g. Platform"
            onChange={(e) => setEditing({ ...editing, name: e.target.value })}
          />
        </div>
        <div className="field" style={{ flex: 1, minWidth: 240 }}>
          <label htmlFor="team-members">Members</label>
          <select
            id="team-members"
            multiple
            size={Math.min(8, Math.max(3, people.length))}
            value={editing.members}
            onChange={(e) =>
              setEditing({ ...editing, members: [...e.target.selectedOptions].map((o) => o.value) })
            }
          >
            {people.map((p) => (
              <option key={p.key} value={p.key}>
                {p.name} ({p.commits} commits)
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="button primary"
          disabled={!editing.name.trim() || saver.status === 'saving'}
          onClick={() =>
            void saver.run(
              async () => {
                await api.saveTeam({ ...editing, name: editing.name.trim() });
                setEditing({ name: '', members: [] });
                teams.reload();
              },
              editing.id === undefined ? 'Team created.' : 'Team saved.',
            )
          }
        >
          {editing.id === undefined ? 'Create team' : 'Save team'}
        </button>
        {editing.id !== undefined ? (
          <button type="button" className="button" onClick={() => setEditing({ name: '', members: [] })}>
            Cancel
          </button>
        ) : null}
        <SaveStatus {...saver} />
      </div>
      {!teams.data && teams.status === 'error' ? (
        <ErrorState error={teams.error} onRetry={teams.reload} />
      ) : !teams.data ? (
        <Skeleton height={60} label="Loading teams" />
      ) : teams.data.length === 0 ? (
        <p className="subtle">No teams yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data" data-testid="teams">
            <thead>
              <tr>
                <th scope="col">Team</th>
                <th scope="col">Members</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {teams.data.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{t.members.length === 0 ? '—' : t.members.map(nameOf).join(', ')}</td>
                  <td>
                    <button
                      type="button"
                      className="button"
                      aria-label={`Edit ${t.name}`}
                      onClick={() => setEditing({ id: t.id, name: t.name, members: t.members })}
                    >
                      Edit
                    </button>{' '}
                    <button
                      type="button"
                      className="button"
                      aria-label={`Delete ${t.name}`}
                      onClick={() =>
                        void saver.run(async () => {
                          await api.deleteTeam(t.id);
                          teams.reload();
                        }, 'Team deleted.')
                      }
                    >
                      Delete
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
