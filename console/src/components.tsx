import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiDownReason, describeError, onApiDown } from './api.ts';
import { formatBytes, statusWords } from './format.ts';
import { findMedia, type MediaItem, readableJson } from './media.ts';

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export type Tone = 'good' | 'bad' | 'active' | 'warn' | 'muted';

const TONES: Readonly<Record<string, Tone>> = {
  SUCCEEDED: 'good',
  healthy: 'good',
  enabled: 'good',
  accepted: 'good',
  implemented: 'good',
  FAILED: 'bad',
  TIMED_OUT: 'bad',
  CANCELLED: 'bad',
  unhealthy: 'bad',
  rejected: 'bad',
  critical: 'bad',
  RUNNING: 'active',
  CALLBACK: 'active',
  pending: 'active',
  high: 'warn',
  PAUSED: 'warn',
  WAITING: 'warn',
  degraded: 'warn',
};

/** Symbols beside the words, never instead of them: colour and shape both say the status. */
const SYMBOLS: Readonly<Record<Tone, string>> = {
  good: '✓',
  bad: '✗',
  active: '▶',
  warn: '!',
  muted: '·',
};

export function toneOf(status: string): Tone {
  return TONES[status] ?? 'muted';
}

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  const tone = toneOf(status);
  return (
    <span class={`badge tone-${tone}`}>
      <span aria-hidden="true">{SYMBOLS[tone]} </span>
      {label ?? statusWords(status)}
    </span>
  );
}

/**
 * The page's title: focused after each navigation (it is `tabIndex=-1`), so a screen reader
 * announces where the person now is, and the document title follows it.
 */
export function PageTitle({ children, title }: { children: ComponentChildren; title: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · VoBee console`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** An error said in words, announced when it appears. */
export function ErrorNote({ error, prefix }: { error: unknown; prefix?: string }) {
  if (error === undefined || error === null) return null;
  return (
    <p class="note note-error" role="alert">
      {prefix ? `${prefix}: ` : ''}
      {describeError(error)}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="note note-empty">{children}</p>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="note" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** The banner every page shows while the API does not answer, instead of a blank page. */
export function ApiDownBanner() {
  const [reason, setReason] = useState(apiDownReason);
  useEffect(() => onApiDown(setReason), []);
  if (!reason) return null;
  return (
    <div class="banner" role="alert">
      <strong>The API is not answering.</strong> {reason}. The console keeps trying and shows what it last
      knew.
    </div>
  );
}

/** JSON, folded: a summary line that opens to the text (base64 and long strings shortened). */
export function JsonView({
  value,
  label = 'JSON',
  open = false,
}: {
  value: unknown;
  label?: string;
  open?: boolean;
}) {
  if (value === undefined) return null;
  const text = JSON.stringify(readableJson(value), null, 2) ?? 'undefined';
  const size = JSON.stringify(value)?.length ?? 0;
  const keys =
    typeof value === 'object' && value !== null
      ? Array.isArray(value)
        ? plural(value.length, 'item')
        : plural(Object.keys(value).length, 'field')
      : typeof value;
  return (
    <details class="json" open={open}>
      <summary>
        {label} ({keys}, {formatBytes(size)})
      </summary>
      <pre>{text}</pre>
    </details>
  );
}

function MediaView({ item }: { item: MediaItem }) {
  const caption = [item.label, item.mimeType, item.bytes === undefined ? undefined : formatBytes(item.bytes)]
    .filter(Boolean)
    .join(' · ');
  const alt = item.label ?? `${item.kind} ${item.path || 'output'}`;
  return (
    <figure class={`media media-${item.kind}`}>
      {item.kind === 'image' ? <img src={item.src} alt={alt} loading="lazy" decoding="async" /> : null}
      {item.kind === 'audio' ? (
        // biome-ignore lint/a11y/useMediaCaption: factory outputs come without captions; the caption below says what it is
        <audio controls preload="none" src={item.src} aria-label={alt}>
          <a href={item.src}>Download the audio</a>
        </audio>
      ) : null}
      {item.kind === 'video' ? (
        // biome-ignore lint/a11y/useMediaCaption: factory outputs come without captions; the caption below says what it is
        <video controls preload="none" src={item.src} aria-label={alt}>
          <a href={item.src}>Download the video</a>
        </video>
      ) : null}
      {item.kind === 'file' ? (
        <a href={item.src} target="_blank" rel="noopener">
          Open artifact {item.artifactId}
        </a>
      ) : null}
      <figcaption>
        {item.path ? <code>{item.path}</code> : null} {caption}
      </figcaption>
    </figure>
  );
}

/** An output: its images, sounds, videos and artifacts shown, then the JSON folded. */
export function OutputView({ output }: { output: unknown }) {
  if (output === undefined) return <Empty>No output.</Empty>;
  const media = findMedia(output);
  return (
    <div class="output">
      {media.length > 0 ? (
        <div class="media-list">
          {media.map((item) => (
            <MediaView key={`${item.path}:${item.src.slice(0, 64)}`} item={item} />
          ))}
        </div>
      ) : null}
      <JsonView value={output} label="Output JSON" />
    </div>
  );
}

/** A term and its value, for `<dl class="facts">`. */
export function Fact({
  term,
  children,
  wide,
}: {
  term: string;
  children: ComponentChildren;
  wide?: boolean;
}) {
  return (
    <div class={wide ? 'fact fact-wide' : 'fact'}>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** A button that runs an action, shows it is busy, and says in place how it went. */
export function ActionButton({
  label,
  hiddenContext,
  busyLabel,
  run,
  variant,
  describedBy,
}: {
  label: string;
  /** Words a screen reader hears after the label (`Start` + ` Product Launch Campaign`), not shown. */
  hiddenContext?: string;
  busyLabel?: string;
  run: () => Promise<unknown>;
  variant?: 'danger' | 'primary';
  describedBy?: string;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class={variant ? `button-${variant}` : undefined}
      disabled={busy}
      aria-busy={busy}
      aria-describedby={describedBy}
      onClick={async () => {
        setBusy(true);
        try {
          await run();
        } finally {
          setBusy(false);
        }
      }}
    >
      {busy ? (busyLabel ?? `${label}…`) : label}
      {hiddenContext ? <span class="visually-hidden"> {hiddenContext}</span> : null}
    </button>
  );
}
