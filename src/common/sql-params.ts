/**
 * The parameters of one statement built from fragments of several repositories: each fragment binds
 * its values here and gets their placeholders, so the fragments compose without renumbering.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** `$n::cast` for `value`. */
  bind(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

/** Top-level CTEs (`name AS (...)`, comma-separated) that one statement runs with its own. */
export type SqlCtes = string;
