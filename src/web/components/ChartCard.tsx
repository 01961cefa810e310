import { useRef, useState, type ReactNode } from 'react';
import { meaningfulPaint } from '../host/paint';
import { downloadName, toCsv, type CsvColumn } from '../chart-data/csv';
import { useChartColors } from '../hooks/useChartColors';
import type { Loadable } from '../hooks/useApi';
import { downloadBlob, downloadCsv, svgToPng } from './download';
import { EmptyState, ErrorState, Skeleton } from './States';

export interface ChartCardProps<Row> {
  id: string;
  title: string;
  subtitle?: string;
  state: Pick<Loadable<unknown>, 'status' | 'error' | 'reload'> & { data?: unknown };
  /** The rows the chart draws; the CSV holds exactly these. */
  rows: Row[];
  csvColumns: CsvColumn<Row>[];
  /** File name parts after `tally-`: graph name, scope, range. */
  fileParts: (string | null | undefined)[];
  isEmpty: boolean;
  emptyTitle?: string;
  emptyHint?: ReactNode;
  legend?: { name: string; color: string }[];
  height: number;
  table?: ReactNode;
  children: ReactNode;
  className?: string;
}

/**
 * A graph in a card: title, CSV and PNG download, a skeleton while loading, empty and error states, and the
 * numbers as a table (collapsed) for keyboard and screen-reader users.
 */
export function ChartCard<Row>(props: ChartCardProps<Row>) {
  const body = useRef<HTMLDivElement>(null);
  const colors = useChartColors();
  const [exportError, setExportError] = useState<string | null>(null);
  const { state } = props;
  const hasData = state.data !== undefined;
  const titleId = `${props.id}-title`;

  const downloadPng = async () => {
    setExportError(null);
    const svg = body.current?.querySelector<SVGSVGElement>('svg[data-chart], svg.recharts-surface');
    if (!svg) return;
    try {
      const blob = await svgToPng(svg, {
        title: props.title,
        subtitle: props.subtitle,
        legend: props.legend,
        background: colors.surface,
        text: colors.text,
        subtle: colors.subtle,
      });
      downloadBlob(downloadName(props.fileParts, 'png'), blob);
    } catch (error) {
      setExportError(error instanceof Error ? error.message : String(error));
    }
  };

  const canExport = hasData && !props.isEmpty;
  return (
    <section
      className={`card chart-card ${props.className ?? ''}`}
      aria-labelledby={titleId}
      data-chart-id={props.id}
    >
      <header>
        <div>
          <h3 id={titleId}>{props.title}</h3>
          {props.subtitle ? (
            <div
              key={hasData ? 'data' : 'loading'}
              className="subtlest"
              {...(hasData ? meaningfulPaint : {})}
            >
              {props.subtitle}
            </div>
          ) : null}
        </div>
        <div className="actions">
          <button
            type="button"
            className="button small"
            disabled={!canExport}
            onClick={() =>
              downloadCsv(downloadName(props.fileParts, 'csv'), toCsv(props.csvColumns, props.rows))
            }
            aria-label={`Download ${props.title} as CSV`}
          >
            CSV
          </button>
          <button
            type="button"
            className="button small"
            disabled={!canExport}
            onClick={() => void downloadPng()}
            aria-label={`Download ${props.title} as PNG`}
          >
            PNG
          </button>
        </div>
      </header>
      {exportError ? (
        <div className="banner error" role="alert">
          {exportError}
        </div>
      ) : null}
      <div className="chart-body" ref={body} aria-busy={state.status === 'loading'}>
        {!hasData && state.status === 'loading' ? (
          <Skeleton height={props.height} label={`Loading ${props.title}`} />
        ) : !hasData && state.status === 'error' ? (
          <ErrorState error={state.error!} onRetry={state.reload} />
        ) : props.isEmpty ? (
          <EmptyState title={props.emptyTitle ?? 'Nothing in this range'}>
            {props.emptyHint ?? 'Try a longer date range, or include merges and bots.'}
          </EmptyState>
        ) : (
          props.children
        )}
      </div>
      {state.status === 'error' && hasData ? (
        <ErrorState error={state.error!} onRetry={state.reload} />
      ) : null}
      {canExport && props.table ? (
        <details className="data-table">
          <summary>Show the numbers</summary>
          {props.table}
        </details>
      ) : null}
    </section>
  );
}
