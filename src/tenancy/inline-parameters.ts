import pg from 'pg';

// pg's own serialization of a parameter (the text it would send) and its literal quoting.
const { prepareValue, escapeLiteral } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown; escapeLiteral(text: string): string } }).utils;

/**
 * `text` with each `$n` replaced by its value as a quoted literal, for a simple-protocol message
 * (one round trip for the tenant context and the statement). A literal is typed exactly like an
 * unspecified-type parameter, and each value is the text pg would have sent for it. Answers null
 * whenever the substitution could be anything but exact: binary values, a NUL character (it would
 * end the message early), dollar-quoted bodies, or a placeholder without its value.
 */
export function inlineParameters(text: string, values: readonly unknown[]): string | null {
  const literals: string[] = [];
  for (const value of values) {
    const prepared = prepareValue(value);
    if (prepared === null) literals.push('NULL');
    else if (typeof prepared !== 'string' || prepared.includes('\u0000')) return null;
    else literals.push(escapeLiteral(prepared));
  }
  let out = '';
  let i = 0;
  const special = /['"$]|--|\/\*/g;
  for (let match = special.exec(text); match; match = special.exec(text)) {
    const at = match.index;
    out += text.slice(i, at);
    const token = match[0];
    let next: number;
    if (token === "'" || token === '"') {
      // A quoted literal or identifier ('' and "" escape the quote; E'' strings also escape with \).
      const escapes = token === "'" && at > 0 && /[eE]/.test(text[at - 1]) && (at < 2 || !/[\w$]/.test(text[at - 2]));
      let j = at + 1;
      while (j < text.length) {
        if (escapes && text[j] === '\\') j += 2;
        else if (text[j] === token && text[j + 1] === token) j += 2;
        else if (text[j] === token) break;
        else j++;
      }
      if (j >= text.length) return null;
      next = j + 1;
      out += text.slice(at, next);
    } else if (token === '--') {
      const end = text.indexOf('\n', at);
      next = end === -1 ? text.length : end;
      out += text.slice(at, next);
    } else if (token === '/*') {
      const end = text.indexOf('*/', at + 2);
      if (end === -1) return null;
      next = end + 2;
      out += text.slice(at, next);
    } else if (at > 0 && /[\w$]/.test(text[at - 1])) {
      next = at + 1; // a $ inside an identifier such as a$1
      out += '$';
    } else {
      const digits = /^\$(\d+)/.exec(text.slice(at, at + 12));
      if (!digits) return null; // a dollar-quoted string: not worth parsing
      const index = Number(digits[1]) - 1;
      if (index < 0 || index >= literals.length) return null;
      out += literals[index];
      next = at + digits[0].length;
    }
    i = next;
    special.lastIndex = next;
  }
  out += text.slice(i);
  return out;
}
