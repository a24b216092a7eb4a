import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The same ffmpeg the worker uses, so the suite needs no system ffmpeg.
const ffmpegPath = process.env.FFMPEG_PATH ?? (createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const SHOTS = join(process.cwd(), 'docs', 'screenshots');
const PASSWORD = 'correct-horse-battery';
const axeSource = readFileSync(createRequire(join(process.cwd(), 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');

/** Step timings and figures, printed at the end and written for docs/BENCHMARKS.md. */
const timings: Record<string, number> = {};
async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    timings[name] = Date.now() - started;
  }
}

async function axeCheck(page: Page, screen: string): Promise<void> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect({ screen, serious }).toEqual({ screen, serious: [] });
}

async function signUp(page: Page, url: string, name: string, email: string): Promise<void> {
  await page.goto(url);
  const signUpTab = page.getByRole('tab', { name: 'Sign up' });
  if ((await signUpTab.getAttribute('aria-selected')) !== 'true') await signUpTab.click();
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
}

const messageTexts = (page: Page) => page.locator('.message-list [data-message] .body').allTextContents();

async function send(page: Page, text: string): Promise<void> {
  await page.locator('#composer-input').fill(text);
  await page.locator('#composer-input').press('Enter');
}

async function session(page: Page): Promise<{ accessToken: string }> {
  return JSON.parse((await page.evaluate(() => localStorage.getItem('pigeon.session'))) ?? '{}') as { accessToken: string };
}

describe('Pigeon Web in a real browser', () => {
  let server: TestServer;
  let worker: TestServer;
  let browser: Browser;
  let alice: BrowserContext;
  let bob: BrowserContext;
  let a: Page;
  let b: Page;
  const errors: string[] = [];
  const storageDir = mkdtempSync(join(tmpdir(), 'pigeon-e2e-voice-'));
  const wav = join(storageDir, 'speech.wav');
  const suffix = Date.now().toString(36);

  beforeAll(async () => {
    // A 440 Hz tone with a pause, as the fake microphone (Chromium loops the file).
    execFileSync(ffmpegPath, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=20', '-ar', '48000', '-ac', '1', wav]);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
    // The web app calls the API on its own origin; '*' because the test port is random.
    const env = { VOICE_STORAGE_DIR: storageDir, CORS_ORIGINS: '*', SEND_RATE_BURST: '100000', SEND_RATE_PER_SECOND: '100000' };
    [server, worker] = await Promise.all([startServer(env), startServer(env, 'worker.js')]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    alice = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    bob = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    a = await alice.newPage();
    b = await bob.newPage();
    for (const [who, page] of [['alice', a], ['bob', b]] as const) {
      page.on('console', (message) => {
        if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) errors.push(`${who}: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`${who}: ${error.message}`));
    }
  }, 120_000);

  afterAll(async () => {
    const figures = Object.entries(timings)
      .map(([name, value]) => `${name}: ${value}${/\(ms\)|nodes/.test(name) ? '' : ' ms'}`)
      .join('\n');
    process.stdout.write(`\nE2E timings\n${figures}\n`);
    writeFileSync(join(tmpdir(), 'pigeon-e2e-timings.json'), JSON.stringify(timings, null, 2));
    await browser?.close();
    await Promise.all([server?.stop(), worker?.stop()]);
    rmSync(storageDir, { recursive: true, force: true });
  });

  it('serves the app shell with its CSP at / and leaves the API paths alone', async () => {
    const shell = await fetch(`${server.url}/`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(shell.headers.get('cache-control')).toBe('no-cache');
    const api = await fetch(`${server.url}/api/nothing-here`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/json');
  });

  it('two users: sign up, invite and join, messages both ways in order', async () => {
    await step('alice signs up and creates a workspace', async () => {
      await a.goto(server.url);
      await a.getByRole('tab', { name: 'Sign up' }).click();
      await axeCheck(a, 'sign up');
      await a.screenshot({ path: join(SHOTS, 'sign-up.png') });
      await signUp(a, server.url, 'Alice', `alice-${suffix}@example.com`);
      await a.getByLabel('Workspace name').fill('Pigeon Crew');
      await a.getByRole('button', { name: 'Create workspace' }).click();
      await a.locator('.channel-header h1', { hasText: '#general' }).waitFor();
    });
    const link = await step('alice makes an invite link', async () => {
      await a.getByRole('button', { name: /Members/ }).click();
      await a.getByRole('button', { name: 'Create invite link' }).click();
      return a.locator('#invite-link').inputValue();
    });
    expect(link).toMatch(/\/#\/invite\/[A-Za-z0-9_-]+$/);
    await step('bob opens the link, signs up and joins', async () => {
      await signUp(b, link, 'Bob', `bob-${suffix}@example.com`);
      await b.locator('.channel-header h1', { hasText: '#general' }).waitFor();
    });
    await a.locator('.member-list li', { hasText: 'Bob' }).waitFor({ timeout: 10_000 }).catch(async () => {
      // The members panel was opened before Bob joined: reopen it to re-read.
      await a.getByRole('button', { name: /Members/ }).click();
      await a.getByRole('button', { name: /Members/ }).click();
    });
    await axeCheck(a, 'members panel');
    await a.screenshot({ path: join(SHOTS, 'members.png') });
    await a.getByRole('button', { name: 'Close panel' }).click();

    await step('messages both ways', async () => {
      await send(a, 'Hello Bob, this is Alice');
      await b.locator('.message-list .body', { hasText: 'Hello Bob, this is Alice' }).waitFor();
      await send(b, 'Hi Alice!');
      await a.locator('.message-list .body', { hasText: 'Hi Alice!' }).waitFor();
      for (let i = 1; i <= 3; i++) await send(a, `ordered ${i}`);
      await b.locator('.message-list .body', { hasText: 'ordered 3' }).waitFor();
    });
    for (const page of [a, b]) {
      const texts = await messageTexts(page);
      expect(texts.filter((t) => /^(Hello Bob|Hi Alice|ordered)/.test(t))).toEqual(['Hello Bob, this is Alice', 'Hi Alice!', 'ordered 1', 'ordered 2', 'ordered 3']);
      const seqs = await page.locator('.message-list [data-message]').evaluateAll((nodes) => nodes.map((n) => Number((n as HTMLElement).dataset.seq)));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
  });

  it('a tab that was offline catches up without a reload and without duplicates', async () => {
    await step('offline catch-up', async () => {
      await bob.setOffline(true);
      for (let i = 1; i <= 3; i++) await send(a, `while you were away ${i}`);
      await a.locator('.message-list .body', { hasText: 'while you were away 3' }).waitFor();
      await bob.setOffline(false);
      await b.locator('.message-list .body', { hasText: 'while you were away 3' }).waitFor({ timeout: 60_000 });
    });
    const texts = await messageTexts(b);
    const away = texts.filter((t) => t.startsWith('while you were away'));
    expect(away).toEqual(['while you were away 1', 'while you were away 2', 'while you were away 3']);
    const ids = await b.locator('.message-list [data-message]').evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.message));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('edits and reactions are seen live', async () => {
    await step('edit and reaction seen live', async () => {
      const mine = a.locator('.message', { hasText: 'ordered 1' });
      await mine.getByRole('button', { name: 'Edit' }).click();
      await a.getByLabel('Edit message').fill('ordered 1 (fixed)');
      await a.getByRole('button', { name: 'Save' }).click();
      await b.locator('.message .body', { hasText: 'ordered 1 (fixed)' }).waitFor();
      await b.locator('.message', { hasText: 'Hello Bob, this is Alice' }).getByRole('button', { name: 'React 👍' }).click();
      await a.locator('.message', { hasText: 'Hello Bob, this is Alice' }).getByRole('button', { name: '👍 1' }).waitFor();
    });
    await expect(b.locator('.message', { hasText: 'ordered 1 (fixed)' }).locator('text=(edited)').count()).resolves.toBe(1);
    await axeCheck(b, 'conversation');
  });

  it('a voice message is heard live while it is spoken, then ready with its duration, then replayed', async () => {
    const talk = a.getByRole('button', { name: /Hold to talk/ });
    const box = (await talk.boundingBox())!;
    await a.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const pressedAt = Date.now();
    await a.mouse.down();
    // Bob hears it while Alice is still holding the button.
    const heardLive = await step('press to first audio played at the listener', () =>
      b.waitForFunction(() => {
        const audio = document.querySelector<HTMLAudioElement>('audio[data-live-voice]');
        return audio !== null && audio.currentTime > 0 ? audio.currentTime : false;
      }, undefined, { timeout: 15_000 }),
    );
    expect(await heardLive.jsonValue()).toBeGreaterThan(0);
    expect(await a.locator('.talk').getAttribute('aria-pressed')).toBe('true');
    await b.locator('.voice-status.live').waitFor();
    await b.screenshot({ path: join(SHOTS, 'live-voice.png') });
    // Hold for 3 s in all.
    await a.waitForTimeout(Math.max(0, 3000 - (Date.now() - pressedAt)));
    await a.mouse.up();
    const heldMs = Date.now() - pressedAt;

    const ready = await step('release to ready at the listener', async () => {
      const node = b.locator('[data-voice-ready]').last();
      await node.waitFor({ timeout: 60_000 });
      return Number(await node.getAttribute('data-duration-ms'));
    });
    expect(ready).toBeGreaterThan(heldMs - 1200);
    expect(ready).toBeLessThan(heldMs + 1200);

    const recordedAt = await a.evaluate(() => (window as unknown as { pigeonMetrics: { firstChunkRecordedAt: number[] } }).pigeonMetrics.firstChunkRecordedAt[0]);
    const listener = await b.evaluate(() => (window as unknown as { pigeonMetrics: { firstChunkReceivedAt: number[]; firstPlayedAt: number[] } }).pigeonMetrics);
    timings['first chunk recorded to first audio played (ms)'] = listener.firstPlayedAt[0] - recordedAt;
    timings['first chunk recorded to first chunk received (ms)'] = listener.firstChunkReceivedAt[0] - recordedAt;
    expect(listener.firstPlayedAt[0]).toBeGreaterThan(recordedAt);

    await step('replay at 2x', async () => {
      await b.getByRole('group', { name: 'Playback speed' }).getByRole('button', { name: '2×' }).click();
      await b.locator('[data-voice-ready]').last().getByRole('button', { name: /Play voice message/ }).click();
      await b.waitForFunction(() => {
        const audio = document.querySelector<HTMLAudioElement>('audio[data-playback]');
        return audio !== null && audio.currentTime > 0.3 && audio.playbackRate === 2;
      }, undefined, { timeout: 15_000 });
    });
    await b.screenshot({ path: join(SHOTS, 'conversation.png') });
    await axeCheck(b, 'conversation with voice');
  });

  it('keeps fewer than 200 message nodes in the DOM with 5,000 messages loaded', async () => {
    const { accessToken } = await session(a);
    const headers = { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' };
    const workspaces = (await (await fetch(`${server.url}/api/workspaces`, { headers })).json()) as { id: string }[];
    const wid = workspaces[0].id;
    const channel = (await (await fetch(`${server.url}/api/workspaces/${wid}/channels`, { method: 'POST', headers, body: JSON.stringify({ name: 'big', kind: 'public' }) })).json()) as { id: string };
    await step('post 5,000 messages over REST (250 at a time)', async () => {
      for (let start = 0; start < 5000; start += 250) {
        await Promise.all(
          Array.from({ length: 250 }, (_, i) =>
            fetch(`${server.url}/api/workspaces/${wid}/channels/${channel.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ clientMsgId: `big-${start + i}`, body: `message number ${start + i}` }) }).then((r) => {
              if (r.status !== 201) throw new Error(`post answered ${r.status}`);
            }),
          ),
        );
      }
    });
    await a.reload();
    await a.locator('[data-channel="big"]').click();
    await a.locator('.message-list .body', { hasText: 'message number 4999' }).waitFor();
    await step('page back through 5,000 messages by scrolling up', async () => {
      for (let i = 0; i < 200; i++) {
        const done = await a.locator('.message-list').evaluate((list) => {
          list.scrollTop = 0;
          list.dispatchEvent(new Event('scroll'));
          return list.getAttribute('data-has-more') === 'false';
        });
        if (done) break;
        await a.waitForTimeout(150);
      }
    });
    expect(Number(await a.locator('.message-list').getAttribute('data-loaded-count'))).toBe(5000);
    const nodes = await a.locator('[data-message]').count();
    timings['message nodes in the DOM with 5,000 loaded'] = nodes;
    expect(nodes).toBeLessThan(200);
    expect(nodes).toBeGreaterThan(0);
    await a.locator('.message-list .body', { hasText: 'message number 0' }).waitFor();
    await a.screenshot({ path: join(SHOTS, 'history.png') });
  });

  it('ran without CSP refusals or page errors', () => {
    expect(errors).toEqual([]);
  });
});
