import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type TestServer } from '../support/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ffmpegPath = process.env.FFMPEG_PATH ?? (createRequire(join(process.cwd(), 'package.json'))('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const SHOTS = join(process.cwd(), 'docs', 'screenshots');
const PASSWORD = 'correct-horse-battery';

async function signUp(page: Page, url: string, name: string, email: string): Promise<void> {
  await page.goto(url);
  const signUpTab = page.getByRole('tab', { name: 'Sign up' });
  if ((await signUpTab.getAttribute('aria-selected')) !== 'true') await signUpTab.click();
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
}

async function token(page: Page): Promise<string> {
  return (JSON.parse((await page.evaluate(() => localStorage.getItem('pigeon.session'))) ?? '{}') as { accessToken: string }).accessToken;
}

/** Presses the hold-to-talk button with the page's mouse (and keeps it down). */
async function holdTalk(page: Page): Promise<void> {
  const box = (await page.locator('.talk').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
}

/** Push-to-talk in the browser: the hold-to-talk button follows the floor; unheard badges. */
describe('Pigeon Web: push-to-talk floor and unheard badges', () => {
  let server: TestServer;
  let browser: Browser;
  let a: Page;
  let b: Page;
  const errors: string[] = [];
  const storageDir = mkdtempSync(join(tmpdir(), 'pigeon-e2e-floor-'));
  const wav = join(storageDir, 'tone.wav');
  const suffix = Date.now().toString(36);

  beforeAll(async () => {
    execFileSync(ffmpegPath, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=20', '-ar', '48000', '-ac', '1', wav]);
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
    server = await startServer({ VOICE_STORAGE_DIR: storageDir, CORS_ORIGINS: '*', SEND_RATE_BURST: '100000', SEND_RATE_PER_SECOND: '100000' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}`,
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    a = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    b = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    for (const [who, page] of [['alice', a], ['bob', b]] as const) page.on('pageerror', (error) => errors.push(`${who}: ${error.message}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(storageDir, { recursive: true, force: true });
  });

  it('shows busy, queued with its position and your turn on the hold-to-talk button, and counts unheard voice messages', async () => {
    // Alice makes a workspace and a ptt channel; Bob joins through an invite.
    await signUp(a, server.url, 'Alice', `alice-floor-${suffix}@example.com`);
    await a.getByLabel('Workspace name').fill('Radio Crew');
    await a.getByRole('button', { name: 'Create workspace' }).click();
    await a.locator('.channel-header h1', { hasText: '#general' }).waitFor();
    const aliceToken = await token(a);
    const rest = async (method: string, path: string, bearer: string, body?: unknown) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await response.json().catch(() => ({}))) as Record<string, any>;
    };
    const [workspace] = (await rest('GET', '/api/workspaces', aliceToken)) as unknown as { id: string }[];
    const invite = await rest('POST', `/api/workspaces/${workspace.id}/invites`, aliceToken, {});
    await signUp(b, `${server.url}/#/invite/${invite.code}`, 'Bob', `bob-floor-${suffix}@example.com`);
    await b.locator('.channel-header h1', { hasText: '#general' }).waitFor();
    const bobId = (await rest('GET', '/api/me', await token(b))).id as string;
    const radio = await rest('POST', `/api/workspaces/${workspace.id}/channels`, aliceToken, { name: 'radio', kind: 'public', memberIds: [bobId] });
    expect((await rest('PATCH', `/api/workspaces/${workspace.id}/channels/${radio.id}`, aliceToken, { mode: 'ptt' })).mode).toBe('ptt');
    for (const page of [a, b]) {
      await page.locator('[data-channel="radio"]').waitFor({ timeout: 15_000 });
      await page.locator('[data-channel="radio"]').click();
      await page.locator('.channel-header h1', { hasText: '#radio' }).waitFor();
      await page.locator('[data-channel="radio"] .ptt-tag').waitFor();
    }

    // Alice holds the button: she gets the floor and records; Bob sees "Alice is talking".
    await holdTalk(a);
    await a.locator('.talk[aria-pressed="true"]').waitFor({ timeout: 10_000 });
    await b.locator('.talk[data-floor="busy"]', { hasText: 'Alice is talking' }).waitFor({ timeout: 10_000 });
    await b.screenshot({ path: join(SHOTS, 'ptt-busy.png') });
    // Bob holds too: queued, position 1.
    await holdTalk(b);
    await b.locator('.talk[data-floor="queued"]', { hasText: 'Queued #1' }).waitFor({ timeout: 10_000 });
    await b.screenshot({ path: join(SHOTS, 'ptt-queued.png') });
    await a.waitForTimeout(1500);
    // Alice lets go: the floor passes to Bob, who is still holding, and his recording starts.
    await a.mouse.up();
    await b.locator('.talk[aria-pressed="true"]', { hasText: 'Release to send' }).waitFor({ timeout: 10_000 });
    await a.locator('.talk[data-floor="busy"]', { hasText: 'Bob is talking' }).waitFor({ timeout: 10_000 });
    await b.waitForTimeout(1500);
    await b.mouse.up();
    await a.locator('.talk[data-floor="free"]').waitFor({ timeout: 10_000 });

    // Bob is away while Alice speaks again: back, the sidebar counts what he has not heard (as the server does).
    await b.goto('about:blank');
    await holdTalk(a);
    await a.locator('.talk[aria-pressed="true"]').waitFor({ timeout: 10_000 });
    await a.waitForTimeout(1200);
    await a.mouse.up();
    await a.locator('.talk[data-floor="free"]').waitFor({ timeout: 10_000 });
    const bobToken = (await rest('POST', '/api/auth/login', '', { email: `bob-floor-${suffix}@example.com`, password: PASSWORD })).accessToken as string;
    const listed = (await rest('GET', `/api/workspaces/${workspace.id}/channels`, bobToken)) as unknown as { id: string; unheardCount: number }[];
    const unheard = listed.find((c) => c.id === radio.id)!.unheardCount;
    expect(unheard).toBeGreaterThanOrEqual(1);
    await b.goto(server.url);
    await b.locator(`[data-channel="radio"] .badge.unheard[data-unheard="${unheard}"]`).waitFor({ timeout: 15_000 });
    await b.locator('.connection.online').waitFor({ timeout: 15_000 });
    await b.screenshot({ path: join(SHOTS, 'unheard-badges.png') });
    expect(errors).toEqual([]);
  });
});
