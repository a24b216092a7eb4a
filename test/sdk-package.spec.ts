/**
 * The SDK as a user gets it: `npm pack` in client/, the tarball installed into a fresh project
 * (with typescript), a strict TypeScript program compiled against it and run against a real
 * server and worker. The same compile checks every ```ts block of client/README.md and the example
 * bot, which is then run and answers a mention with text and a voice file.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Api } from './support/api';
import { addMember, createWorkspace, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

const ROOT = process.cwd();
const FFMPEG: string = createRequire(join(ROOT, 'package.json'))('@ffmpeg-installer/ffmpeg').path;
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

/** The ```ts blocks of a markdown file, in order. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((match) => match[1]);
}

describe('@pigeon/client as a package', () => {
  let dir: string;
  let server: TestServer;
  let worker: TestServer;
  let storageDir: string;
  let packOutput = '';
  let compileOutput = '';
  const bots: ChildProcess[] = [];
  const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pigeon-sdk-pkg-'));
    storageDir = mkdtempSync(join(tmpdir(), 'pigeon-sdk-voice-'));
    const env = { VOICE_STORAGE_DIR: storageDir, SEND_RATE_BURST: '1000', SEND_RATE_PER_SECOND: '1000' };
    // `npm pack` runs `prepare` (the tsup build), so the tarball always carries fresh code.
    packOutput = execFileSync('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: join(ROOT, 'client'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new Error(`no tarball: ${packOutput}`);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `./${tarball}`,
      `typescript@${rootPackage.devDependencies.typescript}`, `@types/node@${rootPackage.devDependencies['@types/node']}`], dir);

    mkdirSync(join(dir, 'src'));
    copyFileSync(join(ROOT, 'test/sdk-package/scenario.ts'), join(dir, 'src/scenario.ts'));
    copyFileSync(join(ROOT, 'examples/bot/bot.ts'), join(dir, 'src/bot.ts'));
    tsBlocks(readFileSync(join(ROOT, 'client/README.md'), 'utf8')).forEach((block, i) => writeFileSync(join(dir, 'src', `readme-${i + 1}.ts`), `export {};\n${block}`));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, outDir: 'dist', rootDir: 'src', types: ['node'], noUnusedLocals: false, skipLibCheck: false },
        include: ['src'],
      }),
    );
    try {
      compileOutput = run(join(dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], dir);
    } catch (error) {
      compileOutput = String((error as { stdout?: string }).stdout ?? error);
    }
    // Started after the synchronous pack/install/compile, which would starve their start-up timers.
    [server, worker] = await Promise.all([startServer(env), startServer(env, 'worker.js')]);
  }, 120_000);

  afterAll(async () => {
    for (const bot of bots) bot.kill('SIGTERM');
    await Promise.all([server?.stop(), worker?.stop()]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(storageDir, { recursive: true, force: true });
  });

  it('packs ESM, CJS and bundled types with an exports map, and no Node-only import on the browser path', () => {
    // `prepare` (tsup) logs to stdout before npm's JSON.
    const [pack] = JSON.parse(packOutput.slice(packOutput.indexOf('[\n'))) as { size: number; unpackedSize: number; files: { path: string }[] }[];
    const files = pack.files.map((file) => file.path).sort();
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'package.json', 'README.md']));
    expect(files.some((file) => file.startsWith('src/'))).toBe(false);
    process.stdout.write(`@pigeon/client tarball: ${pack.size} bytes packed, ${pack.unpackedSize} unpacked, ${files.length} files\n`);
    const esm = readFileSync(join(dir, 'node_modules/@pigeon/client/dist/index.mjs'), 'utf8');
    const imports = [...esm.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((match) => match[1]);
    expect(imports).toEqual(['socket.io-client']);
    const cjs = run('node', ['-e', "const c = require('@pigeon/client'); console.log(typeof c.PigeonApi, typeof c.PigeonClient, c.ERROR_CODES.length)"], dir);
    expect(cjs.trim()).toBe('function function 10');
  });

  it('compiles every ```ts block of client/README.md against the package (strict)', () => {
    const readmeErrors = compileOutput.split('\n').filter((line) => line.startsWith('src/readme-'));
    expect(readmeErrors).toEqual([]);
    expect(readdirSync(join(dir, 'dist')).filter((name) => name.startsWith('readme-')).length).toBeGreaterThanOrEqual(6);
  });

  it('runs the full scenario over the packed SDK: accounts, invite, 20 ordered messages, catch-up, edits, reactions, deletes, voice', () => {
    expect(compileOutput).toBe('');
    const voiceFile = join(dir, 'tone.wav');
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-ac', '1', '-ar', '16000', voiceFile]);
    const output = execFileSync('node', ['dist/scenario.js'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PIGEON_URL: server.url, VOICE_FILE: voiceFile }, timeout: 80_000 });
    const result = JSON.parse(output.trim().split('\n').pop() ?? '{}') as { ok: boolean; messages: number; events: number; voiceBytes: number };
    expect(result).toMatchObject({ ok: true, messages: 25 });
    expect(result.events).toBeGreaterThanOrEqual(25 + 7);
    expect(result.voiceBytes).toBeGreaterThan(100);
  }, 90_000);

  it('the example bot answers a mention with a reply and a voice file', async () => {
    const api = new Api(server.url);
    const team = await createWorkspace(api);
    const human = await addMember(api, team, 'human');
    const invite = await api.post(`/api/workspaces/${team.id}/invites`, { role: 'member' }, team.owner.accessToken);
    const voiceFile = join(dir, 'bot-voice.wav');
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=330:duration=1', '-ac', '1', '-ar', '16000', voiceFile]);
    const bot = spawn('node', ['dist/bot.js'], {
      cwd: dir,
      env: { ...process.env, PIGEON_URL: server.url, PIGEON_BOT_EMAIL: `bot-${randomUUID()}@example.com`, PIGEON_BOT_PASSWORD: 'correct-horse-battery', PIGEON_BOT_INVITE: invite.body.code, PIGEON_BOT_VOICE_FILE: voiceFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    bots.push(bot);
    let output = '';
    bot.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    bot.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => /bot ready/.test(output), 20_000, `bot ready (output: ${output})`);
    const botId = /bot ready (\S+)/.exec(output)![1];

    const asked = await api.post(`/api/workspaces/${team.id}/channels/${team.generalId}/messages`, { clientMsgId: randomUUID(), body: `<@${botId}> say hi with a voice please` }, human.accessToken);
    expect(asked.status).toBe(201);
    let answers: { authorId: string; kind: string; body: string; replyToId: string | null; voice: { status: string } | null }[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const page = await api.get(`/api/workspaces/${team.id}/channels/${team.generalId}/messages?limit=50`, human.accessToken);
      answers = (page.body.messages as typeof answers).filter((m) => m.authorId === botId);
      if (answers.some((m) => m.kind === 'voice' && m.voice?.status === 'ready')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const text = answers.find((m) => m.kind === 'text');
    expect(text).toMatchObject({ replyToId: asked.body.id, body: 'Hi <@' + human.id + '>, you said: say hi with a voice please' });
    expect(answers.find((m) => m.kind === 'voice')?.voice?.status).toBe('ready');
    expect(output).toMatch(/answered .* with voice/);
  }, 60_000);
});
