/** Number and duration formatting shared by cards, tooltips and tables. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return integer.format(value);
}

/** 1234 → "1.2k", 2_500_000 → "2.5M": for axis ticks and compact cards. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  const sign = value < 0 ? '−' : '';
  if (abs >= 1_000_000) return `${sign}${trimZero(abs / 1_000_000)}M`;
  if (abs >= 1_000) return `${sign}${trimZero(abs / 1_000)}k`;
  return `${sign}${integer.format(abs)}`;
}

function trimZero(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '');
}

/** Lines added and removed the way Bitbucket shows diffs: "+12 / −3". */
export function formatDelta(added: number, removed: number): string {
  return `+${integer.format(added)} / −${integer.format(removed)}`;
}

/** Seconds until done, coarse: "under a minute", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Hours as a human duration: "45 min", "5.5 h", "3.2 d". */
export function formatHours(hours: number): string {
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  if (hours < 48) return `${trimZero(hours)} h`;
  return `${trimZero(hours / 24)} d`;
}

export function percent(part: number, whole: number): number {
  if (whole <= 0) return 0;
  return Math.min(100, Math.max(0, (part / whole) * 100));
}
