import { useId, useState, type ReactNode } from 'react';
import type { Metric } from '../chart-data/contributors';
import { INTERVALS, PRESETS, type Filters, type Preset, resolveRange } from '../state/url-filters';
import { useApp } from './AppContext';

export function Switch({
  label,
  checked,
  onChange,
}: {
  label: string;
  checked: boolean;
  onChange: (v: boolean) => void;
}) {
  const id = useId();
  return (
    <span className="switch">
      <button type="button" role="switch" id={id} aria-checked={checked} onClick={() => onChange(!checked)} />
      <label htmlFor={id}>{label}</label>
    </span>
  );
}

export function Segmented<T extends string>({
  label,
  options,
  value,
  onChange,
  disabled = [],
}: {
  label: string;
  options: { value: T; label: string }[];
  value: T;
  onChange: (value: T) => void;
  /** Options that cannot be picked now (with why, in their title). */
  disabled?: { value: T; why: string }[];
}) {
  return (
    <div className="field">
      <span className="field-label">{label}</span>
      <div className="segmented" role="group" aria-label={label}>
        {options.map((o) => (
          <button
            key={o.value}
            type="button"
            aria-pressed={o.value === value}
            disabled={disabled.some((d) => d.value === o.value)}
            title={disabled.find((d) => d.value === o.value)?.why}
            onClick={() => onChange(o.value)}
          >
            {o.label}
          </button>
        ))}
      </div>
    </div>
  );
}

/** Preset select, and two date fields for a custom range (applied when both are valid). */
export function DateRangePicker({
  filters,
  onChange,
}: {
  filters: Filters;
  onChange: (f: Partial<Filters>) => void;
}) {
  const { today } = useApp();
  const id = useId();
  const resolved = resolveRange(filters, today);
  const [draft, setDraft] = useState({
    from: filters.from ?? resolved.from ?? '',
    to: filters.to ?? resolved.to,
  });
  const applyCustom = (next: { from: string; to: string }) => {
    setDraft(next);
    if (next.from && next.to && next.from <= next.to)
      onChange({ range: 'custom', from: next.from, to: next.to });
  };
  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-preset`}>Date range</label>
        <select
          id={`${id}-preset`}
          value={filters.range}
          onChange={(e) => {
            const range = e.target.value as Preset;
            if (range === 'custom')
              applyCustom({ from: draft.from || resolved.from || today, to: draft.to || today });
            else onChange({ range });
          }}
        >
          {PRESETS.map((p) => (
            <option key={p.value} value={p.value}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      {filters.range === 'custom' ? (
        <>
          <div className="field">
            <label htmlFor={`${id}-from`}>From</label>
            <input
              id={`${id}-from`}
              type="date"
              value={draft.from}
              max={draft.to || today}
              onChange={(e) => applyCustom({ ...draft, from: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-to`}>To</label>
            <input
              id={`${id}-to`}
              type="date"
              value={draft.to}
              min={draft.from}
              max={today}
              onChange={(e) => applyCustom({ ...draft, to: e.target.value })}
            />
          </div>
        </>
      ) : null}
    </>
  );
}

export const METRICS: { value: Metric; label: string }[] = [
  { value: 'commits', label: 'Commits' },
  { value: 'additions', label: 'Additions' },
  { value: 'deletions', label: 'Deletions' },
];

export function FilterBar({
  filters,
  onChange,
  children,
  showMetric = false,
}: {
  filters: Filters;
  onChange: (f: Partial<Filters>) => void;
  children?: ReactNode;
  showMetric?: boolean;
}) {
  return (
    <div className="filter-bar" role="group" aria-label="Filters">
      {children}
      <DateRangePicker filters={filters} onChange={onChange} />
      {showMetric ? (
        <Segmented
          label="Contributions"
          options={METRICS}
          value={filters.metric}
          onChange={(metric) => onChange({ metric })}
        />
      ) : null}
      <Segmented
        label="Per"
        options={INTERVALS}
        value={filters.interval}
        onChange={(interval) => onChange({ interval })}
        disabled={
          filters.range === 'all'
            ? [{ value: 'day', why: 'Pick a range of up to ten years to see days' }]
            : []
        }
      />
      <Switch label="Include merges" checked={filters.merges} onChange={(merges) => onChange({ merges })} />
      <Switch label="Include bots" checked={filters.bots} onChange={(bots) => onChange({ bots })} />
    </div>
  );
}
