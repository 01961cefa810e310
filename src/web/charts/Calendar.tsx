import type { KeyboardEvent } from 'react';
import { formatCount } from '../chart-data/format';
import type { CalendarGrid } from '../chart-data/calendar';
import type { ChartColors } from '../hooks/useChartColors';

const CELL = 11;
const GAP = 3;
const LEFT = 28;
const TOP = 16;
const DAY_LABELS: [number, string][] = [
  [1, 'Mon'],
  [3, 'Wed'],
  [5, 'Fri'],
];

/** A year of days as a GitHub-style contributions calendar (plain SVG: 371 cells need no chart library). */
export function CalendarHeatmap({
  grid,
  colors,
  label,
  onDay,
}: {
  grid: CalendarGrid;
  colors: ChartColors;
  label: string;
  /** Opens a day's commits: days with commits are then buttons (click, Enter or Space). */
  onDay?: (date: string) => void;
}) {
  const width = LEFT + grid.weeks.length * (CELL + GAP);
  const height = TOP + 7 * (CELL + GAP);
  return (
    <div className="calendar-scroll">
      <svg
        data-chart="calendar"
        width={width}
        height={height}
        role={onDay ? 'group' : 'img'}
        aria-label={label}
      >
        {grid.months.map((m) => (
          <text
            key={`${m.label}-${m.week}`}
            x={LEFT + m.week * (CELL + GAP)}
            y={10}
            fontSize={10}
            fill={colors.subtle}
          >
            {m.label}
          </text>
        ))}
        {DAY_LABELS.map(([day, text]) => (
          <text key={text} x={0} y={TOP + day * (CELL + GAP) + CELL - 2} fontSize={10} fill={colors.subtle}>
            {text}
          </text>
        ))}
        {grid.weeks.map((week, w) =>
          week.map((cell, d) =>
            cell ? (
              <rect
                key={cell.date}
                x={LEFT + w * (CELL + GAP)}
                y={TOP + d * (CELL + GAP)}
                width={CELL}
                height={CELL}
                rx={2}
                fill={colors.calendar[cell.level]}
                data-date={cell.date}
                data-count={cell.commits}
                {...(onDay && cell.commits > 0
                  ? {
                      role: 'button',
                      tabIndex: 0,
                      'aria-label': `${formatCount(cell.commits)} commit${cell.commits === 1 ? '' : 's'} on ${cell.date}`,
                      style: { cursor: 'pointer' },
                      onClick: () => onDay(cell.date),
                      onKeyDown: (e: KeyboardEvent) => {
                        if (e.key !== 'Enter' && e.key !== ' ') return;
                        e.preventDefault();
                        onDay(cell.date);
                      },
                    }
                  : {})}
              >
                <title>{`${formatCount(cell.commits)} commit${cell.commits === 1 ? '' : 's'} on ${cell.date}`}</title>
              </rect>
            ) : null,
          ),
        )}
      </svg>
      <div className="legend-row subtlest" aria-hidden="true">
        Less
        {colors.calendar.map((c) => (
          <span key={c} className="swatch" style={{ background: c }} />
        ))}
        More
      </div>
    </div>
  );
}
