/**
 * JSON text for a `jsonb` parameter. JSON.stringify writes a lone surrogate (a string cut inside an
 * emoji, or fuzz) as a `\udXXX` escape, which Postgres refuses; a text parameter would have stored
 * U+FFFD instead (node-postgres encodes it as UTF-8). This keeps the two the same: every such
 * escape (only lone surrogates are escaped that way) becomes `\ufffd`.
 */
export function toPgJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!json.includes('\\ud')) return json;
  // An escape is one preceded by an even number of backslashes (`\\ud800` is a backslash and text).
  return json.replace(/(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g, '$1\\ufffd');
}

/** `text` as a Postgres text column stores it: each lone surrogate becomes U+FFFD (toWellFormed, ES2024). */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
