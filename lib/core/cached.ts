/**
 * A value read from storage and kept for `ttlMs`, so that a worker handling many tasks reads the
 * registry and the statistics a few times a minute instead of once per task. Concurrent readers
 * share one load; a failed load is not kept.
 */
export class Cached<T> {
  readonly #load: () => Promise<T>;
  readonly #ttlMs: number;
  readonly #now: () => Date;
  #value: { value: T; loadedAt: number } | undefined;
  #loading: Promise<T> | undefined;

  constructor(load: () => Promise<T>, options: { ttlMs: number; now: () => Date }) {
    this.#load = load;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now;
  }

  /** The cached value while it is fresh, else a new load. */
  get(): Promise<T> {
    const value = this.#value;
    if (value && this.#now().getTime() - value.loadedAt < this.#ttlMs) return Promise.resolve(value.value);
    return this.refresh();
  }

  /** Loads now, whatever the age of the cached value (one load at a time). */
  refresh(): Promise<T> {
    this.#loading ??= this.#load().then(
      (value) => {
        this.#value = { value, loadedAt: this.#now().getTime() };
        this.#loading = undefined;
        return value;
      },
      (error: unknown) => {
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading;
  }
}
