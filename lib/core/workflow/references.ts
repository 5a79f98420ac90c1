/**
 * `{{...}}` references in parameter strings, whatever they name (`{{steps.x.output.a}}`,
 * `{{input.a}}`, `{{item.a}}`): one scanner, each kind giving the snippets it claims and how
 * they parse. Other `{{...}}` text is left alone, since factories may use braces themselves.
 */

/** A reference as found: its text (braces included), the name it refers to, and the path after it. */
export interface FoundReference {
  text: string;
  name: string;
  /** Dotted segments after the name; empty for the whole value. Numeric segments index arrays. */
  path: string[];
}

const CANDIDATE = /\{\{([^{}]*)\}\}/g;

/**
 * The references of one kind in `text`: each `{{...}}` whose content `claims` matches is parsed
 * with `pattern` (first group: the name, second: the dotted path, e.g. `.a.b`); a claimed
 * snippet that does not parse is `malformed`.
 */
export function scanReferences(
  text: string,
  claims: RegExp,
  pattern: RegExp,
): { references: FoundReference[]; malformed: string[] } {
  const references: FoundReference[] = [];
  const malformed: string[] = [];
  for (const match of text.matchAll(CANDIDATE)) {
    const inner = match[1] as string;
    if (!claims.test(inner)) continue;
    const parsed = pattern.exec(inner);
    if (!parsed) {
      malformed.push(match[0]);
      continue;
    }
    const tail = parsed[2] ?? '';
    references.push({
      text: match[0],
      name: parsed[1] as string,
      path: tail ? tail.slice(1).split('.') : [],
    });
  }
  return { references, malformed };
}
