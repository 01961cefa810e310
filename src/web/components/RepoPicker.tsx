import { useRef, useState } from 'react';
import type { RepositoryStatus } from '../api/endpoints';

/**
 * Several repositories at once: a disclosure with a filterable checkbox list. Empty selection = all.
 * Escape closes it and returns focus to the button.
 */
export function RepoPicker({
  repositories,
  selected,
  onChange,
}: {
  repositories: RepositoryStatus[];
  selected: string[];
  onChange: (uuids: string[]) => void;
}) {
  const details = useRef<HTMLDetailsElement>(null);
  const [query, setQuery] = useState('');
  const chosen = new Set(selected);
  const shown = repositories.filter((r) => r.fullName.toLowerCase().includes(query.toLowerCase()));
  const summary =
    selected.length === 0
      ? `All repositories (${repositories.length})`
      : selected.length === 1
        ? (repositories.find((r) => r.uuid === selected[0])?.fullName ?? '1 repository')
        : `${selected.length} repositories`;
  const toggle = (uuid: string) => {
    const next = new Set(chosen);
    if (next.has(uuid)) next.delete(uuid);
    else next.add(uuid);
    onChange(repositories.filter((r) => next.has(r.uuid)).map((r) => r.uuid));
  };
  return (
    <div className="field">
      <span className="field-label" id="repo-picker-label">
        Repositories
      </span>
      <details
        className="repo-picker"
        ref={details}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && details.current?.open) {
            details.current.open = false;
            details.current.querySelector('summary')?.focus();
          }
        }}
      >
        <summary className="button" aria-describedby="repo-picker-label">
          {summary} ▾
        </summary>
        <div className="popover" role="group" aria-label="Choose repositories">
          <input
            type="search"
            placeholder="Filter repositories"
            aria-label="Filter repositories"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            style={{ width: '100%', marginBottom: 8 }}
          />
          {shown.map((r) => (
            <label key={r.uuid}>
              <input type="checkbox" checked={chosen.has(r.uuid)} onChange={() => toggle(r.uuid)} />
              {r.fullName}
            </label>
          ))}
          {selected.length > 0 ? (
            <button
              type="button"
              className="button small"
              onClick={() => onChange([])}
              style={{ marginTop: 8 }}
            >
              Show all repositories
            </button>
          ) : null}
        </div>
      </details>
    </div>
  );
}
