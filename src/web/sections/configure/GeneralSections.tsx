import { useMemo, useState } from 'react';
import { parsePatterns } from '../../chart-data/exclusions';
import type { Settings } from '../../api/endpoints';
import { useApp } from '../../components/AppContext';
import { Switch } from '../../components/FilterBar';
import { SaveStatus, useSaver } from './useSaver';

/** Bot accounts by name or email pattern; their commits are hidden unless "Include bots" is on. */
export function BotsSection({ settings, onSaved }: { settings: Settings; onSaved: () => void }) {
  const { api } = useApp();
  const [text, setText] = useState(settings.botPatterns.join('\n'));
  const [useDefaults, setUseDefaults] = useState(settings.useDefaultBots);
  const saver = useSaver();
  return (
    <section className="card settings-section" aria-labelledby="bots-title">
      <h3 id="bots-title">Bots</h3>
      <p className="subtle">
        One pattern a line: a commit whose author name or email contains it is a bot&apos;s, for example{' '}
        <code>renovate</code>. Bots are left out unless &ldquo;Include bots&rdquo; is on.
      </p>
      <Switch
        label={`Also treat the defaults as bots (${settings.defaults.botPatterns.slice(0, 4).join(', ')}${
          settings.defaults.botPatterns.length > 4 ? ', …' : ''
        })`}
        checked={useDefaults}
        onChange={setUseDefaults}
      />
      <label htmlFor="bots" className="visually-hidden">
        Bot patterns
      </label>
      <textarea
        id="bots"
        rows={4}
        value={text}
        onChange={(e) => setText(e.target.value)}
        spellCheck={false}
        style={{ marginTop: 8 }}
      />
      <div className="form-row">
        <button
          type="button"
          className="button primary"
          disabled={saver.status === 'saving'}
          onClick={() =>
            void saver.run(async () => {
              await api.saveSettings({ botPatterns: parsePatterns(text), useDefaultBots: useDefaults });
              onSaved();
            }, 'Bots saved.')
          }
        >
          Save bots
        </button>
        <SaveStatus {...saver} />
      </div>
    </section>
  );
}

function timeZones(current: string): string[] {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set(['UTC', current, ...zones])];
}

/** The workspace's time zone: days, weeks and the punch card's hours are counted in it. */
export function TimezoneSection({ initial, onSaved }: { initial: string; onSaved: () => void }) {
  const { api } = useApp();
  const [zone, setZone] = useState(initial);
  const zones = useMemo(() => timeZones(initial), [initial]);
  const saver = useSaver();
  return (
    <section className="card settings-section" aria-labelledby="timezone-title">
      <h3 id="timezone-title">Time zone</h3>
      <p className="subtle">
        Bitbucket gives commit times in UTC; Tally counts days and hours in this time zone.
      </p>
      <div className="form-row">
        <div className="field">
          <label htmlFor="timezone">Time zone</label>
          <select id="timezone" value={zone} onChange={(e) => setZone(e.target.value)}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="button primary"
          disabled={saver.status === 'saving' || zone === initial}
          onClick={() =>
            void saver.run(async () => {
              await api.saveSettings({ timezone: zone });
              onSaved();
            }, 'Time zone saved.')
          }
        >
          Save time zone
        </button>
        <SaveStatus {...saver} />
      </div>
    </section>
  );
}

/** The workspace's Jira site: issue keys in commit messages (ABC-123) link there in the commits lists. */
export function JiraSection({ initial, onSaved }: { initial: string | null; onSaved: () => void }) {
  const { api } = useApp();
  const [site, setSite] = useState(initial ?? '');
  const saver = useSaver();
  const value = site.trim() === '' ? null : site.trim();
  return (
    <section className="card settings-section" aria-labelledby="jira-title">
      <h3 id="jira-title">Jira site</h3>
      <p className="subtle">
        Issue keys in commit messages, like <code>ABC-123</code>, link to this Jira site in the commits lists.
        An https address, for example <code>https://your-site.atlassian.net</code>; empty for no links.
      </p>
      <div className="form-row">
        <div className="field">
          <label htmlFor="jira-site">Jira site address</label>
          <input
            id="jira-site"
            type="url"
            inputMode="url"
            placeholder="https://your-site.atlassian.net"
            value={site}
            maxLength={200}
            onChange={(e) => setSite(e.target.value)}
          />
        </div>
        <button
          type="button"
          className="button primary"
          disabled={saver.status === 'saving' || value === initial}
          onClick={() =>
            void saver.run(async () => {
              await api.saveSettings({ jiraSiteUrl: value });
              onSaved();
            }, 'Jira site saved.')
          }
        >
          Save Jira site
        </button>
        <SaveStatus {...saver} />
      </div>
    </section>
  );
}
