import { useState } from 'react';
import type { Settings } from '../../api/endpoints';
import { useApp } from '../../components/AppContext';
import { Switch } from '../../components/FilterBar';
import { SaveStatus, useSaver } from './useSaver';

/**
 * The experimental fast path for line counts (an admin's explicit opt-in, off by default): what it reads is said
 * before it is turned on.
 */
export function LineCountsSection({ settings, onSaved }: { settings: Settings; onSaved: () => void }) {
  const { api } = useApp();
  const [on, setOn] = useState(settings.lineCountsFromPatches);
  const saver = useSaver();
  return (
    <section className="card settings-section" aria-labelledby="line-counts-title">
      <h3 id="line-counts-title">Faster line counts (experimental)</h3>
      <p className="subtle" data-testid="line-counts-notice">
        Off, Tally asks Bitbucket for one summary of changed lines per commit. On, it asks for patch series
        instead, so one request covers up to 250 commits: line counts arrive many times sooner under
        Bitbucket&apos;s hourly request limit. This reads diff text (the changed lines of your code), which
        Tally counts in a stream and never stores, logs or reports. Counts are identical either way; merges,
        binary files and anything a series leaves out still use the summaries. The change applies at once to
        every commit still without line counts.
      </p>
      <Switch label="Count lines from patch series (reads diff text)" checked={on} onChange={setOn} />
      <div className="form-row">
        <button
          type="button"
          className="button primary"
          disabled={saver.status === 'saving' || on === settings.lineCountsFromPatches}
          onClick={() =>
            void saver.run(
              async () => {
                await api.saveSettings({ lineCountsFromPatches: on });
                onSaved();
              },
              on ? 'Line counts now come from patch series.' : 'Line counts now come from diffstats.',
            )
          }
        >
          Save
        </button>
        <SaveStatus {...saver} />
      </div>
    </section>
  );
}
