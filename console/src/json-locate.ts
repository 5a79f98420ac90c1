/**
 * Where a field named by the API (`steps.0.dependencies.1`) is in the JSON text a person typed,
 * so the console can select it in the text box. A small scanner over the text: it follows the
 * path and reports the character range of the value found, or of the deepest part of the path
 * that exists (a missing field points at the object that lacks it).
 */

export interface TextRange {
  start: number;
  end: number;
  /** How much of the path was found: all of it, or only its first `depth` parts. */
  depth: number;
}

/** The API's field name as path parts: `body.steps.0.name` -> `['steps', '0', 'name']`. */
export function fieldPath(field: string): string[] {
  const parts = field.split('.').filter((p) => p !== '');
  return parts[0] === 'body' ? parts.slice(1) : parts;
}

/** The range of the value at `path` in `text`, or undefined when the text is not JSON. */
export function locateJsonPath(text: string, path: readonly string[]): TextRange | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.skipSpace();
    const found = scanner.find(path, 0);
    return found;
  } catch {
    return undefined;
  }
}

class Scanner {
  #at = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (/\s/.test(this.text[this.#at] ?? '')) this.#at++;
  }

  /** Scans the value at the cursor; returns the range of the value at `path` inside it, if any. */
  find(path: readonly string[], depth: number): TextRange {
    const start = this.#at;
    const char = this.text[this.#at];
    let inner: TextRange | undefined;
    if (char === '{') {
      this.#at++;
      this.skipSpace();
      if (this.text[this.#at] === '}') this.#at++;
      else {
        for (;;) {
          this.skipSpace();
          const key = this.string();
          this.skipSpace();
          this.expect(':');
          this.skipSpace();
          const wanted = path.length > 0 && key === path[0];
          const found = this.find(wanted ? path.slice(1) : [], depth + 1);
          if (wanted) inner = found;
          this.skipSpace();
          if (this.text[this.#at] === ',') {
            this.#at++;
            continue;
          }
          this.expect('}');
          break;
        }
      }
    } else if (char === '[') {
      this.#at++;
      this.skipSpace();
      if (this.text[this.#at] === ']') this.#at++;
      else {
        for (let index = 0; ; index++) {
          this.skipSpace();
          const wanted = path.length > 0 && String(index) === path[0];
          const found = this.find(wanted ? path.slice(1) : [], depth + 1);
          if (wanted) inner = found;
          this.skipSpace();
          if (this.text[this.#at] === ',') {
            this.#at++;
            continue;
          }
          this.expect(']');
          break;
        }
      }
    } else if (char === '"') {
      this.string();
    } else {
      const literal = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.#at));
      if (!literal) throw new SyntaxError(`unexpected ${char ?? 'end'} at ${this.#at}`);
      this.#at += literal[0].length;
    }
    if (path.length === 0) return { start, end: this.#at, depth };
    return inner ?? { start, end: this.#at, depth };
  }

  string(): string {
    this.expect('"');
    let out = '';
    while (this.#at < this.text.length && this.text[this.#at] !== '"') {
      if (this.text[this.#at] === '\\') {
        out += this.text.slice(this.#at, this.#at + 2);
        this.#at += 2;
      } else out += this.text[this.#at++];
    }
    this.expect('"');
    // Keys with escapes are compared as written; field names in templates have none.
    return out;
  }

  expect(char: string): void {
    if (this.text[this.#at] !== char) throw new SyntaxError(`expected ${char} at ${this.#at}`);
    this.#at++;
  }
}
