import { findNodeAtLocation, type ParseError, parseTree } from 'jsonc-parser';

/**
 * Where a field named by the API (`steps.0.dependencies.1`) is in the JSON text a person typed,
 * so the console can select it in the text box: the character range of the value found, or of
 * the deepest part of the path that exists (a missing field points at the object that lacks it).
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
  const errors: ParseError[] = [];
  let node = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  if (!node || errors.length > 0) return undefined;
  let depth = 0;
  for (const part of path) {
    // Array items are found by their index, object members by their name.
    const next = findNodeAtLocation(node, [node.type === 'array' ? Number(part) : part]);
    if (!next) break;
    node = next;
    depth++;
  }
  return { start: node.offset, end: node.offset + node.length, depth };
}
