import { useApp } from '../components/AppContext';
import { ErrorState, Skeleton } from '../components/States';
import { useApi } from '../hooks/useApi';
import { ApiTokensSection } from '../sections/configure/ApiTokensSection';
import { ExclusionsSection } from '../sections/configure/ExclusionsSection';
import { BotsSection, JiraSection, TimezoneSection } from '../sections/configure/GeneralSections';
import { IdentitiesSection } from '../sections/configure/IdentitiesSection';
import { IndexingSection } from '../sections/configure/IndexingSection';
import { LineCountsSection } from '../sections/configure/LineCountsSection';
import { TeamsSection } from '../sections/configure/TeamsSection';
import { AuditSection, DeleteDataSection, SupportAccessSection } from '../sections/configure/TrustSections';

/** Configure Tally (workspace admins): indexing, what counts, identities, trust operations. */
export default function ConfigurePage() {
  const { api } = useApp();
  const indexing = useApi('indexing', (signal) => api.repositoryList(signal));
  const settings = useApi('settings', () => api.settings());
  const me = useApi('me', () => api.me());
  const s = settings.data;
  return (
    <main>
      <h1 className="page-title">Configure Tally</h1>
      <p className="subtle">Workspace {me.data?.workspace ?? ''}</p>
      <IndexingSection state={indexing} />
      {s ? <LineCountsSection settings={s} onSaved={settings.reload} /> : null}
      <h2 className="section-title">What counts</h2>
      {!s && settings.status === 'error' ? (
        <ErrorState error={settings.error} onRetry={settings.reload} />
      ) : !s ? (
        <Skeleton height={200} label="Loading settings" />
      ) : (
        <>
          <ExclusionsSection settings={s} onSaved={settings.reload} />
          <BotsSection settings={s} onSaved={settings.reload} />
          <TimezoneSection initial={s.timezone} onSaved={settings.reload} />
          <JiraSection initial={s.jiraSiteUrl} onSaved={settings.reload} />
        </>
      )}
      <IdentitiesSection />
      <TeamsSection />
      <h2 className="section-title">Privacy and support</h2>
      <SupportAccessSection />
      <ApiTokensSection />
      <AuditSection />
      <DeleteDataSection workspace={me.data?.workspace ?? null} />
    </main>
  );
}
