import { sparklinePath } from '../chart-data/contributors';

const WIDTH = 280;
const HEIGHT = 40;

export function Sparkline({ values, color, label }: { values: number[]; color: string; label: string }) {
  const line = sparklinePath(values, WIDTH, HEIGHT - 2);
  const area = line ? `${line} L${WIDTH},${HEIGHT} L0,${HEIGHT} Z` : '';
  return (
    <svg
      className="sparkline"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
    >
      <path d={area} fill={color} fillOpacity={0.2} stroke="none" />
      <path d={line} fill="none" stroke={color} strokeWidth={1.5} vectorEffect="non-scaling-stroke" />
    </svg>
  );
}
