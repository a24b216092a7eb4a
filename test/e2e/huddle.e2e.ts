import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Api } from '../support/api';
import { addMember, createWorkspace } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(process.cwd(), 'docs', 'screenshots');
const axeSource = readFileSync(createRequire(join(process.cwd(), 'package.json')).resolve('axe-core/axe.min.js'), 'utf8');

async function seriousAxeViolations(page: Page): Promise<{ id: string; impact: string }[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id, impact: v.impact }));
  });
}

type HuddleMetrics = { peers: Record<string, { state: string; audioBytesReceived: number }> };
const peerMetrics = (page: Page) => page.evaluate(() => (window as unknown as { pigeonHuddle: HuddleMetrics }).pigeonHuddle.peers);

/** The huddle button of the web client, two real Chromium tabs with fake microphones, one real server. */
describe('Pigeon Web: huddle', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
    server = await startServer({ CORS_ORIGINS: '*' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A tab signed in as the user (the session the app keeps in localStorage), on the workspace. */
  async function tab(user: { accessToken: string; refreshToken: string }): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    contexts.push(context);
    await context.addInitScript((session) => localStorage.setItem('pigeon.session', session), JSON.stringify({ accessToken: user.accessToken, refreshToken: user.refreshToken }));
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url);
    await page.locator('.channel-header h1', { hasText: '#general' }).waitFor();
    return page;
  }

  it('join, see each other, hear each other (audio bytes over WebRTC), mute shows on the other side, leave', async () => {
    const api = new Api(server.url);
    const team = await createWorkspace(api);
    const bob = await addMember(api, team, 'Bob');
    const a = await tab(team.owner);
    const b = await tab(bob);

    await a.getByRole('button', { name: 'Start huddle' }).click();
    await a.getByRole('button', { name: 'Leave huddle' }).waitFor();
    // Bob sees the running huddle without joining, then joins it.
    await b.getByRole('button', { name: 'Join huddle (1)' }).click();
    for (const page of [a, b]) await page.locator('.huddle-participant').nth(1).waitFor();

    // Each tab has a connected peer connection to the other and receives its (fake) microphone.
    for (const page of [a, b]) {
      await page.waitForFunction(
        () => Object.values((window as unknown as { pigeonHuddle: HuddleMetrics }).pigeonHuddle.peers).some((p) => p.state === 'connected' && p.audioBytesReceived > 2000),
        undefined,
        { timeout: 30_000 },
      );
    }
    expect(Object.values(await peerMetrics(a))).toHaveLength(1);

    await b.getByRole('button', { name: 'Mute' }).click();
    await a.locator('.huddle-participant.muted', { hasText: 'Bob' }).waitFor();
    await expect(a.locator('.huddle-participant', { hasText: 'Bob' }).getAttribute('aria-label')).resolves.toBe('Bob, muted');
    await expect(b.getByRole('button', { name: 'Mute' }).getAttribute('aria-pressed')).resolves.toBe('true');
    await expect(seriousAxeViolations(a)).resolves.toEqual([]);
    await a.screenshot({ path: join(SHOTS, 'huddle.png') });

    await b.getByRole('button', { name: 'Leave huddle' }).click();
    await a.locator('.huddle-participant').nth(1).waitFor({ state: 'detached' });
    await expect(peerMetrics(a)).resolves.toEqual({});
    await a.getByRole('button', { name: 'Leave huddle' }).click();
    await b.getByRole('button', { name: 'Start huddle' }).waitFor();
    expect(errors).toEqual([]);
  });
});
