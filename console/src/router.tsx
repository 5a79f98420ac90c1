import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** Every console page lives below this path; the server answers the page for any of them. */
export const BASE = '/console';

export interface Place {
  /** The path below {@link BASE}, without a trailing slash: `''`, `/runs/abc`. */
  path: string;
  query: URLSearchParams;
}

function currentPlace(): Place {
  const below = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
  return { path: below.replace(/\/+$/, ''), query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

/** Goes to a console path (`/runs/abc?x=1`), adding to the history unless `replace`. */
export function navigate(to: string, { replace = false } = {}): void {
  const url = `${BASE}${to}`;
  if (url === `${location.pathname}${location.search}`) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const listener of listeners) listener();
}

/** The current place, re-rendering the caller whenever it changes. */
export function usePlace(): Place {
  const [place, setPlace] = useState(currentPlace);
  useEffect(() => {
    const update = () => setPlace(currentPlace());
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return place;
}

/** Matches `/runs/:id` against a path; answers the decoded parameters, or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const source = pattern.replace(/:(\w+)/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const found = new RegExp(`^${source}$`).exec(path);
  if (!found) return undefined;
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    params[name] = decodeURIComponent(found[i + 1] ?? '');
  });
  return params;
}

/**
 * A link to a console page: a real `<a href>` (so it opens in a new tab, can be copied and is
 * announced as a link), followed in place on a plain click.
 */
export function Link({
  to,
  children,
  class: className,
  'aria-current': current,
}: {
  to: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page' | undefined;
}) {
  return (
    <a
      class={className}
      aria-current={current}
      href={`${BASE}${to}`}
      onClick={(event) => {
        if (event.defaultPrevented || event.button !== 0) return;
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
