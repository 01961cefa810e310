import type { StatsQuery } from '../api/endpoints';
import { downloadName } from '../chart-data/csv';
import { useApp } from '../components/AppContext';
import { downloadCsv } from '../components/download';
import { SaveStatus, useSaver } from './configure/useSaver';

/** Every commit or pull request in scope as CSV, straight from the server's export endpoints. */
export function ServerExports({ query, fileParts }: { query: StatsQuery; fileParts: (string | null)[] }) {
  const { api } = useApp();
  const saver = useSaver();
  const download = (kind: 'commits' | 'pull-requests') =>
    saver.run(async () => {
      downloadCsv(downloadName([kind, ...fileParts], 'csv'), await api.exportCsv(kind, query));
    }, 'Download started.');
  return (
    <div className="form-row" style={{ marginTop: 0 }}>
      <button
        type="button"
        className="button small"
        onClick={() => void download('commits')}
        disabled={saver.status === 'saving'}
      >
        Export commits (CSV)
      </button>
      <button
        type="button"
        className="button small"
        onClick={() => void download('pull-requests')}
        disabled={saver.status === 'saving'}
      >
        Export pull requests (CSV)
      </button>
      <SaveStatus {...saver} />
    </div>
  );
}
