import { useState } from 'react';
import { useApp } from '../../components/AppContext';
import { ErrorState, Skeleton } from '../../components/States';
import { useApi } from '../../hooks/useApi';
import { SaveStatus, useSaver } from './useSaver';

export const formatTime = (iso: string) =>
  new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

/** The server allows 1 to 30 days. */
const CONSENT_DAYS = [1, 3, 7, 14, 30];

/** Support access: Tally's support can read this workspace's data only while an admin's consent is active. */
export function SupportAccessSection() {
  const { api } = useApp();
  const consent = useApi('consent', () => api.consent());
  const [days, setDays] = useState(7);
  const [reason, setReason] = useState('');
  const saver = useSaver();
  const c = consent.data;
  return (
    <section className="card settings-section" aria-labelledby="support-title">
      <h3 id="support-title">Support access</h3>
      {c === undefined && consent.status === 'error' ? (
        <ErrorState error={consent.error} onRetry={consent.reload} />
      ) : consent.status === 'loading' && c === undefined ? (
        <Skeleton height={60} label="Loading support access" />
      ) : c ? (
        <>
          <p data-testid="consent-state">
            <span className="lozenge inprogress">Granted</span> Support may read this workspace's data until{' '}
            <strong>{formatTime(c.expiresAt)}</strong> (“{c.reason}”, granted by {c.grantedBy}). Every read is
            recorded in the audit log.
          </p>
          <div className="form-row">
            <button
              type="button"
              className="button"
              onClick={() =>
                void saver.run(async () => {
                  await api.revokeConsent();
                  consent.reload();
                }, 'Support access revoked.')
              }
            >
              Revoke now
            </button>
            <SaveStatus {...saver} />
          </div>
        </>
      ) : (
        <>
          <p className="subtle" data-testid="consent-state">
            Support cannot read this workspace's data. Grant time-limited access when you ask for help.
          </p>
          <div className="form-row">
            <div className="field">
              <label htmlFor="consent-days">For</label>
              <select id="consent-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
                {CONSENT_DAYS.map((d) => (
                  <option key={d} value={d}>
                    {d} day{d > 1 ? 's' : ''}
                  </option>
                ))}
              </select>
            </div>
            <div className="field" style={{ flex: 1, minWidth: 220 }}>
              <label htmlFor="consent-reason">Reason</label>
              <input
                id="consent-reason"
                type="text"
                value={reason}
                placeholder="e.g. ticket TALLY-123: numbers look wrong"
                onChange={(e) => setReason(e.target.value)}
              />
            </div>
            <button
              type="button"
              className="button primary"
              disabled={!reason.trim() || saver.status === 'saving'}
              onClick={() =>
                void saver.run(async () => {
                  await api.grantConsent(days, reason.trim());
                  setReason('');
                  consent.reload();
                }, 'Support access granted.')
              }
            >
              Grant access
            </button>
            <SaveStatus {...saver} />
          </div>
        </>
      )}
    </section>
  );
}

export function AuditSection() {
  const { api } = useApp();
  const audit = useApi('audit', (signal) => api.audit(signal));
  const entries = (audit.data ?? []).slice(0, 50);
  return (
    <section className="card settings-section" aria-labelledby="audit-title">
      <h3 id="audit-title">Audit log</h3>
      {!audit.data && audit.status === 'error' ? (
        <ErrorState error={audit.error} onRetry={audit.reload} />
      ) : !audit.data ? (
        <Skeleton height={80} label="Loading audit log" />
      ) : entries.length === 0 ? (
        <p className="subtle">Nothing recorded yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e, i) => (
                <tr key={`${e.at}-${i}`}>
                  <td>{formatTime(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Delete everything Tally holds for this workspace; the admin types the workspace slug to confirm. */
export function DeleteDataSection({ workspace }: { workspace: string | null }) {
  const { api } = useApp();
  const [typed, setTyped] = useState('');
  const saver = useSaver();
  return (
    <section className="card settings-section" aria-labelledby="delete-title">
      <h3 id="delete-title">Delete all data</h3>
      <p className="subtle">
        Deletes every commit, pull request, identity and setting Tally stored for this workspace. Tally
        indexes the workspace again from scratch unless you uninstall it. This cannot be undone.
      </p>
      <div className="form-row">
        <div className="field">
          <label htmlFor="delete-confirm">
            Type <strong>{workspace ?? 'the workspace slug'}</strong> to confirm
          </label>
          <input
            id="delete-confirm"
            type="text"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
          />
        </div>
        <button
          type="button"
          className="button danger"
          disabled={!workspace || typed !== workspace || saver.status === 'saving'}
          onClick={() => void saver.run(() => api.deleteAllData(typed), 'All data deleted.')}
        >
          Delete all data
        </button>
        <SaveStatus {...saver} />
      </div>
    </section>
  );
}
