import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCount } from '../chart-data/format';
import type { ChartColors } from '../hooks/useChartColors';
import { compactTick } from './axes';
import type { SeriesKey } from './TimeCharts';

/** Ranked horizontal bars (top contributors, repositories, reviewers). */
export function HorizontalBars({
  rows,
  keys,
  colors,
  label,
}: {
  rows: Record<string, string | number>[];
  keys: SeriesKey[];
  colors: ChartColors;
  label: string;
}) {
  const height = Math.max(120, rows.length * 28 + 48);
  return (
    <ResponsiveContainer width="100%" height={height}>
      <BarChart
        data={rows}
        layout="vertical"
        margin={{ top: 4, right: 24, bottom: 0, left: 8 }}
        title={label}
      >
        <CartesianGrid stroke={colors.grid} horizontal={false} />
        <XAxis
          type="number"
          tickFormatter={compactTick}
          stroke={colors.grid}
          tick={{ fill: colors.subtle }}
          allowDecimals={false}
        />
        <YAxis
          type="category"
          dataKey="name"
          width={160}
          stroke={colors.grid}
          tick={{ fill: colors.text }}
          tickFormatter={(name: string) => (name.length > 22 ? `${name.slice(0, 21)}…` : name)}
        />
        <Tooltip
          formatter={(v) => formatCount(Number(v))}
          contentStyle={{ background: colors.surface, color: colors.text }}
        />
        {keys.length > 1 ? <Legend /> : null}
        {keys.map((k) => (
          <Bar
            key={k.key}
            dataKey={k.key}
            name={k.name}
            fill={k.color}
            isAnimationActive={false}
            barSize={16}
          />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}

/** Categorical columns (time-to-merge distribution). */
export function Columns({
  rows,
  dataKey,
  name,
  colors,
  label,
  height,
}: {
  rows: Record<string, string | number>[];
  dataKey: string;
  name: string;
  colors: ChartColors;
  label: string;
  height: number;
}) {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <BarChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }} title={label}>
        <CartesianGrid stroke={colors.grid} vertical={false} />
        <XAxis
          dataKey="label"
          stroke={colors.grid}
          tick={{ fill: colors.subtle, fontSize: 11 }}
          interval={0}
        />
        <YAxis
          tickFormatter={compactTick}
          stroke={colors.grid}
          tick={{ fill: colors.subtle }}
          width={40}
          allowDecimals={false}
        />
        <Tooltip
          formatter={(v) => formatCount(Number(v))}
          contentStyle={{ background: colors.surface, color: colors.text }}
        />
        <Bar dataKey={dataKey} name={name} fill={colors.brand} isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
