import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { periodLabel, type Interval } from '../chart-data/dates';
import { formatCount } from '../chart-data/format';
import type { ChartColors } from '../hooks/useChartColors';
import { CHART_MARGIN, compactTick, tickFormatter } from './axes';

export interface SeriesKey {
  key: string;
  name: string;
  color: string;
}

interface TimeChartProps {
  rows: Record<string, number | string>[];
  keys: SeriesKey[];
  interval: Interval;
  colors: ChartColors;
  height: number;
  label: string;
  /** Called with a bar's period when it is clicked (the drill-down to its commits). */
  onPeriod?: (period: string) => void;
}

function commonAxes(props: TimeChartProps) {
  return [
    <CartesianGrid key="grid" stroke={props.colors.grid} vertical={false} />,
    <XAxis
      key="x"
      dataKey="period"
      tickFormatter={tickFormatter(props.interval)}
      stroke={props.colors.grid}
      tick={{ fill: props.colors.subtle }}
      minTickGap={24}
    />,
    <YAxis
      key="y"
      tickFormatter={compactTick}
      stroke={props.colors.grid}
      tick={{ fill: props.colors.subtle }}
      width={48}
      allowDecimals={false}
    />,
    <Tooltip
      key="tooltip"
      labelFormatter={(period) => periodLabel(String(period), props.interval)}
      formatter={(value) => formatCount(Math.abs(Number(value)))}
      contentStyle={{ background: props.colors.surface, color: props.colors.text }}
    />,
  ];
}

/** Stacked areas over time (contributors). */
export function StackedAreaChart(props: TimeChartProps) {
  return (
    <ResponsiveContainer width="100%" height={props.height}>
      <AreaChart data={props.rows} margin={CHART_MARGIN} title={props.label}>
        {commonAxes(props)}
        <Legend />
        {props.keys.map((k) => (
          <Area
            key={k.key}
            type="monotone"
            dataKey={k.key}
            name={k.name}
            stackId="stack"
            stroke={k.color}
            fill={k.color}
            fillOpacity={0.7}
            isAnimationActive={false}
          />
        ))}
      </AreaChart>
    </ResponsiveContainer>
  );
}

/** Bars over time; several keys are drawn side by side (created vs merged). */
export function BarsOverTime(props: TimeChartProps) {
  return (
    <ResponsiveContainer width="100%" height={props.height}>
      <BarChart data={props.rows} margin={CHART_MARGIN} title={props.label}>
        {commonAxes(props)}
        {props.keys.length > 1 ? <Legend /> : null}
        {props.keys.map((k) => (
          <Bar
            key={k.key}
            dataKey={k.key}
            name={k.name}
            fill={k.color}
            isAnimationActive={false}
            cursor={props.onPeriod ? 'pointer' : undefined}
            onClick={
              props.onPeriod
                ? (entry: { payload?: { period?: string } }) => {
                    if (entry.payload?.period) props.onPeriod!(entry.payload.period);
                  }
                : undefined
            }
          />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}

/** Additions above the axis, deletions below (code frequency). */
export function DivergingAreaChart(props: TimeChartProps) {
  return (
    <ResponsiveContainer width="100%" height={props.height}>
      <AreaChart data={props.rows} margin={CHART_MARGIN} title={props.label}>
        {commonAxes(props)}
        <Legend />
        <ReferenceLine y={0} stroke={props.colors.subtle} />
        {props.keys.map((k) => (
          <Area
            key={k.key}
            type="monotone"
            dataKey={k.key}
            name={k.name}
            stroke={k.color}
            fill={k.color}
            fillOpacity={0.5}
            isAnimationActive={false}
          />
        ))}
      </AreaChart>
    </ResponsiveContainer>
  );
}
