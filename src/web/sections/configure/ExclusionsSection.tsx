import { useState } from 'react';
import type { Settings } from '../../api/endpoints';
import { exclusionImpact, parsePatterns } from '../../chart-data/exclusions';
import { formatCount } from '../../chart-data/format';
import { useApp } from '../../components/AppContext';
import { Switch } from '../../components/FilterBar';
import { ErrorState, Skeleton } from '../../components/States';
import { useApi } from '../../hooks/useApi';
import { SaveStatus, useSaver } from './useSaver';

/**
 * Path exclusions (lock files, generated code) with the line counts before and after, per repository. The server
 * recounts from stored per-file numbers when the exclusions are saved (no Bitbucket request), so the table shows
 * the new numbers as soon as Save returns.
 */
export function ExclusionsSection({ settings, onSaved }: { settings: Settings; onSaved: () => void }) {
  const { api } = useApp();
  const [text, setText] = useState(settings.pathExclusions.join('\n'));
  const [useDefaults, setUseDefaults] = useState(settings.useDefaultExclusions);
  const [version, setVersion] = useState(0);
  const saver = useSaver();
  const effect = useApi(`exclusion-effect:${version}`, (signal) => api.exclusionEffect(signal));
  const dirty =
    parsePatterns(text).join('\n') !== settings.pathExclusions.join('\n') ||
    useDefaults !== settings.useDefaultExclusions;
  const rows = (effect.data ?? []).map((r) => ({
    repository: r.repository,
    ...exclusionImpact(r.before, r.after),
  }));
  const overall = exclusionImpact(
    {
      linesAdded: rows.reduce((n, r) => n + r.before.linesAdded, 0),
      linesRemoved: rows.reduce((n, r) => n + r.before.linesRemoved, 0),
    },
    {
      linesAdded: rows.reduce((n, r) => n + r.after.linesAdded, 0),
      linesRemoved: rows.reduce((n, r) => n + r.after.linesRemoved, 0),
    },
  );

  return (
    <section className="card settings-section" aria-labelledby="exclusions-title">
      <h3 id="exclusions-title">Path exclusions</h3>
      <p className="subtle">
        One glob a line, for example <code>docs/**</code>, <code>**/vendor/**</code>, <code>*.min.js</code>.
        Excluded files do not count towards lines added or removed; commits still count.
      </p>
      <Switch
        label={`Also exclude the defaults (${settings.defaults.pathExclusions.slice(0, 4).join(', ')}${
          settings.defaults.pathExclusions.length > 4 ? ', …' : ''
        })`}
        checked={useDefaults}
        onChange={setUseDefaults}
      />
      <label htmlFor="exclusions" className="visually-hidden">
        Excluded paths
      </label>
      <textarea
        id="exclusions"
        rows={5}
        value={text}
        onChange={(e) => setText(e.target.value)}
        spellCheck={false}
        style={{ marginTop: 8 }}
      />
      <div className="form-row">
        <button
          type="button"
          className="button primary"
          disabled={saver.status === 'saving' || !dirty}
          onClick={() =>
            void saver.run(async () => {
              await api.saveSettings({
                pathExclusions: parsePatterns(text),
                useDefaultExclusions: useDefaults,
              });
              setVersion((v) => v + 1);
              onSaved();
            }, 'Exclusions saved; every graph uses them now.')
          }
        >
          Save exclusions
        </button>
        <SaveStatus {...saver} />
      </div>
      <h4 style={{ margin: '16px 0 4px' }}>Lines counted, without and with exclusions</h4>
      {!effect.data && effect.status === 'error' ? (
        <ErrorState error={effect.error} onRetry={effect.reload} />
      ) : !effect.data ? (
        <Skeleton height={80} label="Loading line counts" />
      ) : (
        <div className="table-scroll" data-testid="exclusion-preview" aria-live="polite">
          <table className="data">
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col" className="num">
                  All files
                </th>
                <th scope="col" className="num">
                  With exclusions
                </th>
                <th scope="col" className="num">
                  Excluded
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.repository}>
                  <td>{r.repository}</td>
                  <td className="num">
                    +{formatCount(r.before.linesAdded)} −{formatCount(r.before.linesRemoved)}
                  </td>
                  <td className="num">
                    +{formatCount(r.after.linesAdded)} −{formatCount(r.after.linesRemoved)}
                  </td>
                  <td className="num">{r.excludedPercent}%</td>
                </tr>
              ))}
              <tr>
                <th scope="row">All repositories</th>
                <td className="num">
                  +{formatCount(overall.before.linesAdded)} −{formatCount(overall.before.linesRemoved)}
                </td>
                <td className="num">
                  +{formatCount(overall.after.linesAdded)} −{formatCount(overall.after.linesRemoved)}
                </td>
                <td className="num" data-testid="excluded-percent">
                  {overall.excludedPercent}%
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
