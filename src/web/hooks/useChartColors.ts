import { useEffect, useState } from 'react';

/**
 * Chart colours from the ADS tokens, resolved to concrete values: SVG presentation attributes cannot use
 * `var()`, and a PNG export must carry real colours. Re-read whenever the theme changes.
 */
const SERIES_TOKENS = [
  '--ds-chart-categorical-1',
  '--ds-chart-categorical-2',
  '--ds-chart-categorical-3',
  '--ds-chart-categorical-4',
  '--ds-chart-categorical-5',
  '--ds-chart-categorical-6',
  '--ds-chart-categorical-7',
  '--ds-chart-categorical-8',
];
const SERIES_FALLBACK = [
  '#2898BD',
  '#5E4DB2',
  '#E56910',
  '#943D73',
  '#09326C',
  '#8F7EE7',
  '#50253F',
  '#0055CC',
];

export interface ChartColors {
  series: string[];
  neutral: string;
  success: string;
  danger: string;
  brand: string;
  text: string;
  subtle: string;
  grid: string;
  surface: string;
  calendar: string[];
}

function read(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export function readChartColors(): ChartColors {
  return {
    series: SERIES_TOKENS.map((t, i) => read(t, SERIES_FALLBACK[i]!)),
    neutral: read('--ds-chart-neutral', '#8590A2'),
    success: read('--ds-chart-success-bold', '#22A06B'),
    danger: read('--ds-chart-danger-bold', '#E2483D'),
    brand: read('--ds-chart-brand', '#1D7AFC'),
    text: read('--ds-text', '#172B4D'),
    subtle: read('--ds-text-subtle', '#44546F'),
    grid: read('--ds-border', '#091E4224'),
    surface: read('--ds-surface', '#FFFFFF'),
    calendar: [
      read('--ds-background-neutral', '#091E420F'),
      read('--ds-background-accent-green-subtler', '#BAF3DB'),
      read('--ds-background-accent-green-subtle', '#4BCE97'),
      read('--ds-chart-green-bold', '#22A06B'),
      read('--ds-chart-green-boldest', '#164B35'),
    ],
  };
}

export function useChartColors(): ChartColors {
  const [colors, setColors] = useState(readChartColors);
  useEffect(() => {
    const observer = new MutationObserver(() => setColors(readChartColors()));
    observer.observe(document.documentElement, {
      attributes: true,
      attributeFilter: ['data-color-mode', 'data-theme'],
    });
    return () => observer.disconnect();
  }, []);
  return colors;
}
