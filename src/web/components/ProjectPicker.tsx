import type { Project, RepositoryStatus } from '../api/endpoints';

/** The workspace's Bitbucket projects, from each repository's project (GET /repositories). */
export function projectsOf(repositories: RepositoryStatus[]): Project[] {
  const byUuid = new Map<string, Project>();
  for (const r of repositories) if (r.project) byUuid.set(r.project.uuid, r.project);
  return [...byUuid.values()].sort((a, b) => a.name.localeCompare(b.name));
}

const SEVERAL = 'several';

/** One project or all (a native select: keyboard and screen readers for free). Hidden while there is none. */
export function ProjectPicker({
  repositories,
  selected,
  onChange,
}: {
  repositories: RepositoryStatus[];
  selected: string[];
  onChange: (uuids: string[]) => void;
}) {
  const projects = projectsOf(repositories);
  if (projects.length === 0) return null;
  // Several projects come only from a link (the API takes them); the select then says so.
  const value = selected.length === 0 ? '' : selected.length === 1 ? selected[0]! : SEVERAL;
  return (
    <div className="field">
      <label className="field-label" htmlFor="project-picker">
        Project
      </label>
      <select
        id="project-picker"
        value={value}
        onChange={(e) => onChange(e.target.value ? [e.target.value] : [])}
      >
        <option value="">All projects ({projects.length})</option>
        {projects.map((p) => (
          <option key={p.uuid} value={p.uuid}>
            {p.name} ({p.key})
          </option>
        ))}
        {selected.length > 1 ? (
          <option value={SEVERAL} disabled>
            {selected.length} projects
          </option>
        ) : null}
      </select>
    </div>
  );
}
