import { useMemo } from 'react';
import type { PullRequestStats } from '../api/endpoints';
import type { Interval } from '../chart-data/dates';
import { periodLabel } from '../chart-data/dates';
import { formatCount, formatHours } from '../chart-data/format';
import { createdVsMerged } from '../chart-data/pull-requests';
import { ChartCard } from '../components/ChartCard';
import { DataTable } from '../components/DataTable';
import { Columns, HorizontalBars } from '../charts/Bars';
import { BarsOverTime } from '../charts/TimeCharts';
import type { Loadable } from '../hooks/useApi';
import type { ChartColors } from '../hooks/useChartColors';

/** Pull-request reports: created vs merged, time to merge, review activity. */
export function PullRequestSection({
  state,
  range,
  colors,
  fileParts,
}: {
  state: Loadable<PullRequestStats>;
  range: { from: string; to: string; interval: Interval };
  colors: ChartColors;
  fileParts: (string | null)[];
}) {
  const series = useMemo(() => createdVsMerged(state.data?.series ?? [], range), [state.data, range]);
  const histogram = state.data?.histogram ?? [];
  const reviewers = (state.data?.reviewers ?? []).slice(0, 15);
  const totals = state.data?.totals;
  const typical = state.data?.timeToMerge.p50 ?? null;
  return (
    <>
      <h2 className="section-title">Pull requests</h2>
      {totals ? (
        <div className="stat-row">
          <div className="stat">
            <div className="value" data-testid="pr-created">
              {formatCount(totals.created)}
            </div>
            <div className="label">created</div>
          </div>
          <div className="stat">
            <div className="value" data-testid="pr-merged">
              {formatCount(totals.merged)}
            </div>
            <div className="label">merged</div>
          </div>
          <div className="stat">
            <div className="value">{formatCount(totals.open)}</div>
            <div className="label">open</div>
          </div>
          <div className="stat">
            <div className="value">{formatCount(totals.declined)}</div>
            <div className="label">declined</div>
          </div>
          <div className="stat">
            <div className="value">{typical === null ? '—' : formatHours(typical)}</div>
            <div className="label">median time to merge</div>
          </div>
        </div>
      ) : null}
      <ChartCard
        id="pr-created-merged"
        title="Created vs merged"
        subtitle={`Pull requests per ${range.interval}`}
        state={state}
        rows={series}
        csvColumns={[
          { header: 'period', value: (r) => r.period },
          { header: 'created', value: (r) => r.created },
          { header: 'merged', value: (r) => r.merged },
        ]}
        fileParts={['pull-requests', ...fileParts]}
        isEmpty={series.every((r) => r.created === 0 && r.merged === 0)}
        emptyTitle="No pull requests in this range"
        legend={[
          { name: 'Created', color: colors.brand },
          { name: 'Merged', color: colors.success },
        ]}
        height={260}
        table={
          <DataTable
            caption="Pull requests created and merged"
            rows={series.filter((r) => r.created || r.merged)}
            columns={[
              { header: 'Period', cell: (r) => periodLabel(r.period, range.interval) },
              { header: 'Created', cell: (r) => formatCount(r.created), numeric: true },
              { header: 'Merged', cell: (r) => formatCount(r.merged), numeric: true },
            ]}
          />
        }
      >
        <BarsOverTime
          rows={series as unknown as Record<string, number | string>[]}
          keys={[
            { key: 'created', name: 'Created', color: colors.brand },
            { key: 'merged', name: 'Merged', color: colors.success },
          ]}
          interval={range.interval}
          colors={colors}
          height={260}
          label="Pull requests created and merged"
        />
      </ChartCard>
      <div className="grid two">
        <ChartCard
          id="pr-time-to-merge"
          title="Time to merge"
          subtitle={
            typical === null
              ? 'From creation to merge'
              : `Median ${formatHours(typical)}, 90th percentile ${formatHours(state.data?.timeToMerge.p90 ?? typical)}`
          }
          state={state}
          rows={histogram}
          csvColumns={[
            { header: 'time to merge', value: (b) => b.label },
            { header: 'pull requests', value: (b) => b.count },
          ]}
          fileParts={['time-to-merge', ...fileParts]}
          isEmpty={histogram.every((b) => b.count === 0)}
          emptyTitle="No merged pull requests in this range"
          height={240}
          table={
            <DataTable
              caption="Time to merge"
              rows={histogram}
              columns={[
                { header: 'Time to merge', cell: (b) => b.label },
                { header: 'Pull requests', cell: (b) => formatCount(b.count), numeric: true },
              ]}
            />
          }
        >
          <Columns
            rows={histogram as unknown as Record<string, number | string>[]}
            dataKey="count"
            name="Pull requests"
            colors={colors}
            label="Distribution of time to merge"
            height={240}
          />
        </ChartCard>
        <ChartCard
          id="pr-reviews"
          title="Review activity"
          subtitle="Reviews and approvals per reviewer"
          state={state}
          rows={reviewers}
          csvColumns={[
            { header: 'reviewer', value: (r) => r.name },
            { header: 'reviews', value: (r) => r.reviews },
            { header: 'approvals', value: (r) => r.approvals },
          ]}
          fileParts={['reviews', ...fileParts]}
          isEmpty={reviewers.length === 0}
          emptyTitle="No reviews in this range"
          legend={[
            { name: 'Reviews', color: colors.brand },
            { name: 'Approvals', color: colors.success },
          ]}
          height={240}
          table={
            <DataTable
              caption="Review activity"
              rows={reviewers}
              columns={[
                { header: 'Reviewer', cell: (r) => r.name },
                { header: 'Reviews', cell: (r) => formatCount(r.reviews), numeric: true },
                { header: 'Approvals', cell: (r) => formatCount(r.approvals), numeric: true },
              ]}
            />
          }
        >
          <HorizontalBars
            rows={reviewers}
            keys={[
              { key: 'reviews', name: 'Reviews', color: colors.brand },
              { key: 'approvals', name: 'Approvals', color: colors.success },
            ]}
            colors={colors}
            label="Reviews and approvals per reviewer"
          />
        </ChartCard>
      </div>
    </>
  );
}
