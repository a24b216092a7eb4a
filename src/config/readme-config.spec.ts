import { getMetadataStorage } from 'class-validator';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentVariables } from './env.validation';

// Jest runs from the repository root (package.json), in ESM mode (no __dirname).
const ROOT = process.cwd();
const SCHEMA = 'src/config/env.validation.ts';

/** Every property of EnvironmentVariables (each carries at least one validator). */
function schemaVariables(): Set<string> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(EnvironmentVariables, '', true, false);
  return new Set(metadata.map((m) => m.propertyName));
}

/** The names in the first column of README.md's "## Configuration" table (one or more `NAME`s per row). */
function readmeVariables(): Set<string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Configuration'));
  if (!section) throw new Error('README.md has no "## Configuration" section');
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line) || /^\|\s*variable\s*\|/.test(line)) continue;
    const first = line.split('|')[1];
    for (const match of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(match[1]);
  }
  return names;
}

/** Environment variables the source reads by name (`process.env.X`, `env.X`), specs excluded. */
function sourceVariables(): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        for (const match of readFileSync(full, 'utf8').matchAll(/\b(?:process\.)?env\.([A-Z][A-Z0-9_]{2,})\b/g)) {
          if (!found.has(match[1])) found.set(match[1], full.slice(ROOT.length + 1));
        }
      }
    }
  };
  visit(join(ROOT, 'src'));
  return found;
}

describe('README configuration table', () => {
  const schema = schemaVariables();
  const readme = readmeVariables();

  it('parses both sides', () => {
    expect(schema.size).toBeGreaterThan(30);
    expect(readme.size).toBeGreaterThan(30);
  });

  it('lists every variable of the config schema', () => {
    const missing = [...schema].filter((name) => !readme.has(name)).map((name) => `${name}: defined in ${SCHEMA}, missing from README.md's configuration table`);
    expect(missing).toEqual([]);
  });

  it('lists only variables the config schema defines', () => {
    const extra = [...readme].filter((name) => !schema.has(name)).map((name) => `${name}: in README.md's configuration table, not defined in ${SCHEMA}`);
    expect(extra).toEqual([]);
  });

  it('every variable the source reads by name is in the config schema (so it is validated and documented)', () => {
    const unvalidated = [...sourceVariables()].filter(([name]) => !schema.has(name)).map(([name, file]) => `${name}: read in ${file}, not defined in ${SCHEMA}`);
    expect(unvalidated).toEqual([]);
  });
});
