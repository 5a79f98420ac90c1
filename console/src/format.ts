/** Words and numbers as the console shows them. Pure: the clock comes in as an argument. */

/** A duration: `0.8 s`, `12.3 s`, `2 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 1_000) return `${Math.round(safe)} ms`;
  if (safe < 59_950) return `${(safe / 1000).toFixed(1)} s`;
  const seconds = Math.round(safe / 1000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** Milliseconds since the epoch, or undefined for a missing or malformed time. */
export function timeOf(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** `3 s ago`, `5 min ago`, `2 h ago`, else the local date and time. */
export function formatAgo(iso: string | undefined, now: number): string {
  const t = timeOf(iso);
  if (t === undefined) return '—';
  const ago = now - t;
  if (ago < 0) return formatTime(iso);
  if (ago < 60_000) return `${Math.max(1, Math.round(ago / 1000))} s ago`;
  if (ago < 3_600_000) return `${Math.round(ago / 60_000)} min ago`;
  if (ago < 86_400_000) return `${Math.round(ago / 3_600_000)} h ago`;
  return formatTime(iso);
}

/** A local date and time to the second. */
export function formatTime(iso: string | undefined): string {
  const t = timeOf(iso);
  if (t === undefined) return '—';
  return new Date(t).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** A byte count: `512 B`, `66.1 KB`, `15.6 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1_000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1_000).toFixed(1)} KB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
}

/** A share as a percentage: `97 %`, `99.5 %`. */
export function formatPercent(share: number): string {
  const percent = share * 100;
  return `${percent >= 10 || Number.isInteger(percent) ? Math.round(percent) : percent.toFixed(1)} %`;
}

/** `SUCCEEDED` -> `succeeded`, `TIMED_OUT` -> `timed out`. */
export function statusWords(status: string): string {
  return status.toLowerCase().replace(/_/g, ' ');
}

/** A value for `<input type="datetime-local">` from an ISO time, in local time. */
export function toLocalInput(iso: string | undefined): string {
  const t = timeOf(iso);
  if (t === undefined) return '';
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An ISO time from an `<input type="datetime-local">` value (local time), or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Named time windows a person picks more often than typing two dates. */
export type WindowPreset = 'hour' | 'day' | 'yesterday' | 'week';

export const WINDOW_PRESETS: ReadonlyArray<{ id: WindowPreset; label: string }> = [
  { id: 'hour', label: 'Last hour' },
  { id: 'day', label: 'Last 24 hours' },
  { id: 'yesterday', label: 'Yesterday' },
  { id: 'week', label: 'Last 7 days' },
];

/**
 * The `since` and `until` of a preset, as ISO times. Yesterday is the local calendar day before
 * today, midnight to midnight; the others end now (no `until`).
 */
export function presetWindow(preset: WindowPreset, now: number): { since: string; until?: string } {
  switch (preset) {
    case 'hour':
      return { since: new Date(now - 3_600_000).toISOString() };
    case 'day':
      return { since: new Date(now - 86_400_000).toISOString() };
    case 'week':
      return { since: new Date(now - 7 * 86_400_000).toISOString() };
    case 'yesterday': {
      const today = new Date(now);
      today.setHours(0, 0, 0, 0);
      const yesterday = new Date(today);
      yesterday.setDate(today.getDate() - 1);
      return { since: yesterday.toISOString(), until: today.toISOString() };
    }
  }
}
