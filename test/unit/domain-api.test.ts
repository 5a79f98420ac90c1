import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** Every TypeScript file of the domain (`lib/core`), relative to the repository root. */
function domainFiles(dir = 'lib/core'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? domainFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const exported = (node: ts.Node) =>
  ts.canHaveModifiers(node) &&
  (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** Exported functions and public methods of exported classes that leave their return type to inference. */
function untypedReturns(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const where = (node: ts.Node, name: string) =>
    `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${name}`;
  const found: string[] = [];
  for (const statement of source.statements) {
    if (!exported(statement)) continue;
    if (ts.isFunctionDeclaration(statement) && !statement.type) {
      found.push(where(statement, statement.name?.text ?? 'default'));
    }
    if (ts.isClassDeclaration(statement)) {
      for (const member of statement.members) {
        if (!ts.isMethodDeclaration(member) || member.type) continue;
        if (ts.isPrivateIdentifier(member.name)) continue;
        const modifiers = ts.getModifiers(member) ?? [];
        if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) continue;
        found.push(where(member, `${statement.name?.text}.${member.name.getText(source)}`));
      }
    }
  }
  return found;
}

describe('the domain API', () => {
  it('declares the return type of every exported function and public method', () => {
    const files = domainFiles();
    expect(files.length).toBeGreaterThan(30);
    expect(files.flatMap(untypedReturns)).toEqual([]);
  });
});
