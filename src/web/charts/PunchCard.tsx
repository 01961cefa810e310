import {
  CartesianGrid,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  ZAxis,
} from 'recharts';
import { formatCount } from '../chart-data/format';
import { hourLabel, WEEKDAY_ORDER, WEEKDAYS, type PunchCardGrid } from '../chart-data/punch-card';
import type { ChartColors } from '../hooks/useChartColors';

/** Commits by weekday (rows, Monday first) and hour (columns) as bubbles sized by area. */
export function PunchCardChart({
  grid,
  colors,
  label,
}: {
  grid: PunchCardGrid;
  colors: ChartColors;
  label: string;
}) {
  const data = grid.points.filter((p) => p.commits > 0);
  return (
    <ResponsiveContainer width="100%" height={300}>
      <ScatterChart margin={{ top: 8, right: 16, bottom: 8, left: 8 }} title={label}>
        <CartesianGrid stroke={colors.grid} />
        <XAxis
          type="number"
          dataKey="hour"
          name="Hour"
          domain={[-0.5, 23.5]}
          ticks={[0, 3, 6, 9, 12, 15, 18, 21]}
          tickFormatter={hourLabel}
          stroke={colors.grid}
          tick={{ fill: colors.subtle }}
        />
        <YAxis
          type="number"
          dataKey="row"
          name="Day"
          reversed
          domain={[-0.5, 6.5]}
          ticks={[0, 1, 2, 3, 4, 5, 6]}
          tickFormatter={(row: number) => WEEKDAYS[WEEKDAY_ORDER[row]!]!.slice(0, 3)}
          stroke={colors.grid}
          tick={{ fill: colors.subtle }}
          width={40}
        />
        <ZAxis
          type="number"
          dataKey="commits"
          domain={[0, Math.max(1, grid.max)]}
          range={[0, 520]}
          name="Commits"
        />
        <Tooltip
          cursor={false}
          contentStyle={{ background: colors.surface, color: colors.text }}
          formatter={(value, name) => {
            if (name === 'Hour') return [hourLabel(Number(value)), 'Hour'];
            if (name === 'Day') return [WEEKDAYS[WEEKDAY_ORDER[Number(value)]!], 'Day'];
            return [formatCount(Number(value)), 'Commits'];
          }}
        />
        <Scatter
          data={data}
          fill={colors.brand}
          fillOpacity={0.75}
          isAnimationActive={false}
          name="Commits"
        />
      </ScatterChart>
    </ResponsiveContainer>
  );
}
