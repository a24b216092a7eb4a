import { Parser } from '@asyncapi/parser';
import { getMetadataStorage } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../src/common/error-code';
import { Api, registerUser, TestUser } from './support/api';
import { createWorkspace } from './support/fixtures';
import { startServer, TestServer } from './support/server';

/*
 * Holds the API description to what clients need from it. A new endpoint fails here until it has
 * @ApiOperation({summary, description}), a typed success answer, @ApiErrorResponses(...) with the
 * statuses below and @ApiIdParams(...) for its path ids (docs/ARCHITECTURE.md, "Documenting an endpoint").
 */

type Schema = Record<string, any>; // JSON documents walked by hand
interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: unknown;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
  security?: Record<string, unknown>[];
}
interface OpenApi {
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Path parameters that are not ids (an invite code, an emoji); every other one is a UUID. */
const NON_ID_PATH_PARAMS = new Set(['code', 'emoji']);
/** The only operations without bearer auth. */
const PUBLIC_OPERATIONS = new Set([
  'post /api/auth/register',
  'post /api/auth/login',
  'post /api/auth/refresh',
  'post /api/auth/logout',
  'get /api/push/vapid-public-key',
  'get /api/voice/{voiceId}/audio',
  'get /health/live',
  'get /health/ready',
]);
/** Every write to messages, reactions and voice counts against the per-user send rate limit (PROTOCOL.md v2). */
const isRateLimitedWrite = (method: string, path: string) =>
  method !== 'get' && /\/channels\/\{cid\}\/(messages|voice)(\/|$)/.test(path);

const SRC = join(process.cwd(), 'src');
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('API description (OpenAPI /docs-json, AsyncAPI /docs/asyncapi.json)', () => {
  let server: TestServer;
  let api: Api;
  let openapi: OpenApi;
  let asyncapi: Schema;
  const operations: { method: string; path: string; id: string; op: Operation }[] = [];

  beforeAll(async () => {
    // A burst of 2 lets the test see a real 429 quickly.
    server = await startServer({ SEND_RATE_BURST: '2', SEND_RATE_PER_SECOND: '1' });
    api = new Api(server.url);
    const rest = await api.get('/docs-json');
    expect(rest.status).toBe(200);
    openapi = rest.body;
    const socket = await api.get('/docs/asyncapi.json');
    expect(socket.status).toBe(200);
    asyncapi = socket.body;
    for (const [path, item] of Object.entries(openapi.paths)) {
      for (const method of METHODS) {
        if (item[method]) operations.push({ method, path, id: `${method} ${path}`, op: item[method] });
      }
    }
  });
  afterAll(async () => {
    await server.stop();
  });

  /** Follows $refs; fails on a ref to nothing. */
  function resolve(schema: Schema): Schema {
    if (!schema.$ref) return schema;
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    const target = openapi.components.schemas[name];
    if (!target) throw new Error(`dangling $ref ${schema.$ref}`);
    return target;
  }

  /** Paths (like `MessagePageDto.messages[]`) of objects and arrays that say nothing about their contents. */
  function untyped(schema: Schema, where: string, seen = new Set<Schema>()): string[] {
    const target = resolve(schema);
    if (seen.has(target)) return [];
    seen.add(target);
    const here = schema.$ref ? String(schema.$ref).split('/').pop()! : where;
    const problems: string[] = [];
    for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
      for (const part of target[key] ?? []) problems.push(...untyped(part, `${here}.${key}`, seen));
    }
    if (target.type === 'array') {
      if (!target.items || (Object.keys(target.items).length === 1 && target.items.type === 'object')) {
        problems.push(`${here}[]`);
      } else problems.push(...untyped(target.items, `${here}[]`, seen));
    }
    if (target.type === 'object' || target.properties) {
      const open = target.additionalProperties;
      if (!target.properties && !open && !target.allOf && !target.oneOf) problems.push(here);
      for (const [name, property] of Object.entries<Schema>(target.properties ?? {})) {
        problems.push(...untyped(property, `${here}.${name}`, seen));
      }
      if (open && typeof open === 'object') problems.push(...untyped(open, `${here}{}`, seen));
    }
    return problems;
  }

  it('describes every operation with a summary and a description', () => {
    expect(operations.length).toBeGreaterThan(25);
    const missing = operations.filter(({ op }) => !op.summary?.trim() || !op.description?.trim()).map(({ id }) => id);
    expect(missing).toEqual([]);
  });

  it('gives every success answer a schema whose nested objects and items are typed', () => {
    const problems: string[] = [];
    for (const { id, op } of operations) {
      const successes = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
      if (successes.length === 0) problems.push(`${id}: no 2xx answer`);
      for (const [status, response] of successes) {
        if (status === '204') continue;
        const schemas = Object.values(response.content ?? {}).map((media) => media.schema);
        if (schemas.length === 0 || schemas.some((schema) => !schema)) {
          problems.push(`${id} ${status}: no schema`);
          continue;
        }
        for (const schema of schemas) {
          if (schema!.type === 'string' && schema!.format === 'binary') continue;
          problems.push(...untyped(schema!, 'body').map((where) => `${id} ${status}: untyped ${where}`));
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('lists the error answers each operation can give, each with the error body', () => {
    const problems: string[] = [];
    for (const { method, path, id, op } of operations) {
      const required = new Set<number>();
      const bearer = (op.security ?? []).some((requirement) => 'bearer' in requirement);
      if (bearer) required.add(401);
      if (!bearer && !PUBLIC_OPERATIONS.has(id))
        problems.push(`${id}: no bearer auth and not a known public operation`);
      if (op.requestBody || (op.parameters ?? []).some((p) => p.in === 'query')) required.add(400);
      if ((op.parameters ?? []).some((p) => p.in === 'path')) required.add(404);
      if (isRateLimitedWrite(method, path)) required.add(429);
      for (const status of required) {
        if (!op.responses[String(status)]) problems.push(`${id}: ${status} not documented`);
      }
      for (const [status, response] of Object.entries(op.responses)) {
        // 416 answers without a body; health checks answer terminus' own 503 body.
        if (!/^4\d\d$/.test(status) || status === '416') continue;
        const schema = response.content?.['application/json']?.schema;
        if (schema?.$ref !== '#/components/schemas/ErrorResponseDto')
          problems.push(`${id} ${status}: not ErrorResponseDto`);
        if (!response.description?.trim()) problems.push(`${id} ${status}: no description`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('marks every path id as a UUID', () => {
    const problems = operations.flatMap(({ id, op }) =>
      (op.parameters ?? [])
        .filter((p) => p.in === 'path' && !NON_ID_PATH_PARAMS.has(p.name) && p.schema?.format !== 'uuid')
        .map((p) => `${id}: {${p.name}}`),
    );
    expect(problems).toEqual([]);
  });

  it('describes the error body of the contract with every error code', () => {
    const body = openapi.components.schemas.ErrorResponseDto;
    expect(body.required).toEqual(expect.arrayContaining(['statusCode', 'code', 'message']));
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining(['statusCode', 'code', 'message', 'details', 'retryAfterMs']),
    );
    const code = body.properties.code.allOf?.[0] ?? body.properties.code;
    expect([...resolve(code).enum].sort()).toEqual(Object.values(ErrorCode).sort());
    const detail = resolve(body.properties.details.items);
    expect(Object.keys(detail.properties).sort()).toEqual(['field', 'message']);
  });

  it('documents the fields of every validated DTO as class-validator checks them (required and optional)', async () => {
    // Every DTO module, so every validated class is known; the Swagger schema has the class's name.
    const classes = new Map<string, new (...args: never[]) => unknown>();
    for (const file of sourceFiles(SRC).filter((path) => /\/dto\/[\w.-]+\.dto\.ts$/.test(path))) {
      const module = (await import(file)) as Record<string, unknown>;
      for (const value of Object.values(module)) {
        if (typeof value === 'function') classes.set(value.name, value as new (...args: never[]) => unknown);
      }
    }
    const storage = getMetadataStorage();
    const problems: string[] = [];
    let checked = 0;
    for (const [name, target] of classes) {
      const rules = storage.getTargetValidationMetadatas(target, '', true, false);
      const schema = openapi.components.schemas[name];
      if (rules.length === 0 || !schema) continue;
      checked++;
      const fields = new Set(rules.map((rule) => rule.propertyName));
      const optional = new Set(rules.filter((rule) => rule.name === 'isOptional').map((rule) => rule.propertyName));
      const required = [...fields].filter((field) => !optional.has(field)).sort();
      expect({ name, required: [...(schema.required ?? [])].sort() }).toEqual({ name, required });
      for (const field of fields) if (!schema.properties?.[field]) problems.push(`${name}.${field} not documented`);
    }
    expect(checked).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });

  it('has examples on request bodies and the main response properties', () => {
    const schemas = openapi.components.schemas;
    const withExample = (name: string) =>
      Object.entries<Schema>(schemas[name].properties)
        .filter(([, property]) => property.example !== undefined)
        .map(([property]) => property);
    expect(withExample('PostMessageDto')).toEqual(expect.arrayContaining(['clientMsgId', 'body']));
    expect(withExample('RegisterDto')).toEqual(['email', 'password', 'displayName']);
    expect(withExample('MessageDto')).toEqual(expect.arrayContaining(['seq', 'kind', 'body']));
    expect(withExample('ChannelDto')).toEqual(expect.arrayContaining(['name', 'kind', 'headSeq']));
  });

  it('answers what it documents: 401 without a token, documented statuses for unknown ids, a real 429', async () => {
    const user: TestUser = await registerUser(api, 'docs');
    const problems: string[] = [];
    for (const { method, path, id, op } of operations) {
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
        NON_ID_PATH_PARAMS.has(name) ? 'nothing' : randomUUID(),
      );
      const bearer = (op.security ?? []).some((requirement) => 'bearer' in requirement);
      if (bearer) {
        const anonymous = await api.request(method.toUpperCase(), url, { body: op.requestBody ? {} : undefined });
        if (anonymous.status !== 401 || anonymous.body?.code !== 'UNAUTHORIZED') {
          problems.push(`${id} without a token: ${anonymous.status}`);
        }
      }
      if (!url.includes('{') && path.includes('{') && bearer) {
        const unknown = await api.request(method.toUpperCase(), url, {
          token: user.accessToken,
          body: op.requestBody ? {} : undefined,
        });
        if (!op.responses[String(unknown.status)])
          problems.push(`${id} with unknown ids: undocumented ${unknown.status}`);
      }
    }
    expect(problems).toEqual([]);

    const workspace = await createWorkspace(api, user);
    const messages = `/api/workspaces/${workspace.id}/channels/${workspace.generalId}/messages`;
    const statuses: number[] = [];
    let limited: { status: number; body: Record<string, unknown> } | undefined;
    for (let i = 0; i < 4 && !limited; i++) {
      const answer = await api.post(messages, { clientMsgId: `docs-${i}`, body: 'hello' }, user.accessToken);
      statuses.push(answer.status);
      if (answer.status === 429) limited = answer;
    }
    expect(statuses).toContain(429);
    const documented = openapi.paths['/api/workspaces/{wid}/channels/{cid}/messages'].post.responses['429'];
    expect(documented).toBeDefined();
    const schema = openapi.components.schemas.ErrorResponseDto;
    expect(Object.keys(limited!.body).every((key) => key in schema.properties)).toBe(true);
    expect(limited!.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
  });

  describe('AsyncAPI', () => {
    it('is a valid AsyncAPI 3.0 document (no parser errors)', async () => {
      expect(asyncapi.asyncapi).toBe('3.0.0');
      const diagnostics = await new Parser().validate(JSON.stringify(asyncapi));
      // Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
      const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0);
      expect(errors.map((error) => `${error.code}: ${error.message} at ${error.path.join('.')}`)).toEqual([]);
      const warnings = diagnostics.filter((diagnostic) => diagnostic.severity === 1);
      expect(warnings.map((warning) => `${warning.code}: ${warning.message} at ${warning.path.join('.')}`)).toEqual([]);
    });

    it('is linked from the Swagger UI description', () => {
      expect(openapi.info.description).toContain('/docs/asyncapi.json');
    });

    it('documents every event the gateways handle and every event the server emits', () => {
      const handled = new Set<string>();
      const emitted = new Set<string>();
      for (const file of sourceFiles(SRC)) {
        const text = readFileSync(file, 'utf8');
        for (const match of text.matchAll(/@SubscribeMessage\(\s*'([^']+)'/g)) handled.add(match[1]);
        // `.emit('x'` or `.emit(room(...), 'x'`; serverSideEmit (between nodes) does not match.
        for (const match of text.matchAll(/\.emit\(\s*(?:[\w.]+(?:\([^()]*\))?\s*,\s*)?'([a-z][\w:.-]*)'/g)) {
          emitted.add(match[1]);
        }
      }
      expect(handled.size).toBeGreaterThan(10);
      expect(emitted.size).toBeGreaterThan(5);
      const documented = (action: 'receive' | 'send') =>
        Object.values<Schema>(asyncapi.operations)
          .filter((operation) => operation.action === action)
          .flatMap((operation) => operation.messages as Schema[])
          .map((ref) => asyncapi.components.messages[String(ref.$ref).split('/').pop()!].name as string);
      expect([...handled].filter((event) => !documented('receive').includes(event))).toEqual([]);
      expect([...emitted].filter((event) => !documented('send').includes(event))).toEqual([]);
      expect(documented('send')).toEqual(
        expect.arrayContaining(['event', 'presence', 'typing', 'read', 'auth:expiring', 'voice:chunk']),
      );
    });

    it('gives every client event an ack whose data is typed, and takes its schemas from the REST ones', () => {
      const receive = Object.entries<Schema>(asyncapi.operations).filter(
        ([, operation]) => operation.action === 'receive',
      );
      expect(receive.length).toBeGreaterThan(10);
      for (const [id, operation] of receive) {
        expect({ id, reply: operation.reply?.messages?.length }).toEqual({ id, reply: 1 });
        expect(operation.description).toEqual(expect.any(String));
        const ack = asyncapi.components.messages[String(operation.reply.messages[0].$ref).split('/').pop()!];
        expect(ack.payload.oneOf[0].properties.data.$ref).toMatch(/^#\/components\/schemas\/\w+$/);
        expect(ack.payload.oneOf[1].$ref).toBe('#/components/schemas/AckFailure');
      }
      for (const name of ['MessageDto', 'SendMessageDto', 'EventDto', 'VoiceChunkDto']) {
        expect(Object.keys(asyncapi.components.schemas[name].properties)).toEqual(
          Object.keys(openapi.components.schemas[name].properties),
        );
      }
      // OpenAPI 3.0 `nullable` becomes JSON Schema null types.
      expect(asyncapi.components.schemas.MessageDto.properties.topicId.type).toEqual(['string', 'null']);
      expect(asyncapi.components.schemas.MessageDto.properties.voice.oneOf).toEqual([
        { $ref: '#/components/schemas/MessageVoiceDto' },
        { type: 'null' },
      ]);
    });
  });
});
