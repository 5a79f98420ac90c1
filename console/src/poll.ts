import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** How often live pages ask again: often enough to watch a run, rarely enough for a deployed API. */
export const LIVE_INTERVAL_MS = 2_500;

export interface Polled<T> {
  data: T | undefined;
  /** The last load's error; `data` keeps what the last good load gave. */
  error: unknown;
  loading: boolean;
  /** Loads again now (after an action), and keeps polling from there. */
  refresh: () => void;
}

export interface PollOptions<T> {
  intervalMs?: number;
  /** Keep polling while this holds for the last data (a run that ended changes no more). */
  live?: (data: T) => boolean;
}

/**
 * Loads `load()` now and again every `intervalMs` after each answer (never two at once), while
 * the tab is visible: a hidden tab stops asking and asks at once when it is shown again.
 * A new `key` starts over (another run, other filters).
 */
export function usePoll<T>(key: string, load: () => Promise<T>, options: PollOptions<T> = {}): Polled<T> {
  const intervalMs = options.intervalMs ?? LIVE_INTERVAL_MS;
  const [state, setState] = useState<{ key: string; data?: T; error?: unknown; loading: boolean }>({
    key,
    loading: true,
  });
  const latest = useRef({ load, live: options.live });
  latest.current = { load, live: options.live };
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let lastData: T | undefined;
    setState({ key, loading: true });

    const schedule = () => {
      clearTimeout(timer);
      const live = lastData === undefined || (latest.current.live?.(lastData) ?? true);
      if (!stopped && live && document.visibilityState === 'visible') timer = setTimeout(run, intervalMs);
    };
    const run = async () => {
      if (stopped || inFlight) return;
      inFlight = true;
      try {
        const data = await latest.current.load();
        lastData = data;
        if (!stopped) setState({ key, data, loading: false });
      } catch (error) {
        if (!stopped) setState((previous) => ({ ...previous, key, error, loading: false }));
      } finally {
        inFlight = false;
        schedule();
      }
    };
    const onVisibility = () => {
      if (document.visibilityState === 'visible') void run();
      else clearTimeout(timer);
    };
    kick.current = () => {
      clearTimeout(timer);
      void run();
    };
    document.addEventListener('visibilitychange', onVisibility);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  // A state left from the previous key is not shown for the new one.
  const current = state.key === key ? state : { loading: true };
  return {
    data: 'data' in current ? current.data : undefined,
    error: 'error' in current ? current.error : undefined,
    loading: current.loading,
    refresh,
  };
}
