import pg from 'pg';
import { inlineParameters } from './inline-parameters';

describe(inlineParameters.name, () => {
  it('replaces each placeholder with its value quoted as pg would send it, and casts stay', () => {
    expect(inlineParameters('SELECT * FROM t WHERE id = ANY($1::uuid[]) AND n > $2 LIMIT $3', [['a', 'b'], 5, 10])).toBe(
      `SELECT * FROM t WHERE id = ANY('{"a","b"}'::uuid[]) AND n > '5' LIMIT '10'`,
    );
    expect(inlineParameters('SELECT $1, $1, $2', [null, true])).toBe(`SELECT NULL, NULL, 'true'`);
    expect(inlineParameters('SELECT $1::jsonb', [{ q: "it's" }])).toBe(`SELECT '{"q":"it''s"}'::jsonb`);
    // pg writes E'' (with a space before it) when the value has a backslash.
    expect(inlineParameters('SELECT $1', ['back\\slash'])).toBe("SELECT  E'back\\\\slash'");
  });

  it('leaves placeholders alone inside literals, identifiers and comments', () => {
    const text = `SELECT '$1', "col$1", E'it\\'s $1', a$1 -- $1\n, /* $1 */ $1`;
    expect(inlineParameters(text, ['x'])).toBe(`SELECT '$1', "col$1", E'it\\'s $1', a$1 -- $1\n, /* $1 */ 'x'`);
  });

  it('answers null where a rewrite could not be exact', () => {
    expect(inlineParameters('SELECT $1', [Buffer.from('x')])).toBeNull();
    expect(inlineParameters('SELECT $1', ['nul\u0000byte'])).toBeNull();
    expect(inlineParameters('SELECT $$ $1 $$', ['x'])).toBeNull();
    expect(inlineParameters('SELECT $2', ['x'])).toBeNull();
    expect(inlineParameters("SELECT 'open", [])).toBeNull();
  });

  it('gives Postgres the same values as the parameters would', async () => {
    const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    try {
      const text = 'SELECT $1::text AS t, $2::int[] AS a, $3::jsonb AS j, $4::timestamptz AS at, $5::boolean AS b, $6::text AS n, $7::bigint AS big';
      const values = ["quote ' and \\ and 🐦 and \ud83d", [1, 2, 3], { nested: ['x', { y: null }] }, new Date('2026-12-06T12:34:56.789Z'), false, null, '9007199254740993'];
      const viaParameters = (await client.query(text, values)).rows[0];
      const viaLiterals = (await client.query(inlineParameters(text, values)!)).rows[0];
      expect(viaLiterals).toEqual(viaParameters);
      expect(viaLiterals.t).toBe("quote ' and \\ and 🐦 and \ufffd");
    } finally {
      await client.end();
    }
  });
});
