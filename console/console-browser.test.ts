import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readStatuses } from '../cli/inspect-commands.js';
import { keyFingerprint } from '../core/credentials/key-pair.js';
import { freePort } from '../core/db/embedded.js';
import { redisKeys } from '../core/redis-contract.js';
import { spawnAts, type AtsProcess } from '../testing/processes.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { tempDir } from '../testing/temp.js';
import { until } from '../testing/until.js';

/** Debian's chromium (`apt-get install chromium`; `.ci/run` installs it), or CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** ATS_SCREENSHOTS=1 writes the README's screenshots (docs/screenshots/) from this run. */
const SHOTS = process.env.ATS_SCREENSHOTS ? 'docs/screenshots' : undefined;

const NEW_KEY = 'console-browser-test-api-key-0123456789';
const NEW_SECRET = 'console-browser-test-api-secret-9876543210';

describe('the web console in a real browser, against ats up', () => {
  let r: TestRedis;
  let d: TestDatabase;
  let up: AtsProcess;
  let browser: Browser;
  let url: string;
  const passwords: Record<string, string> = {};

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
    r = createTestRedis();
    d = await createTestDatabase({ migrate: false });
    const state = tempDir('console-browser');
    cpSync('examples', join(state, 'accounts'), { recursive: true });
    const port = await freePort();
    up = spawnAts(['up', '--accounts', join(state, 'accounts'), '--sim-port', String(await freePort()), '--console-port', String(port)], {
      ...r.env,
      DATABASE_URL: d.url,
      ATS_STATE_DIR: state,
    });
    url = `http://127.0.0.1:${port}`;
    await until(() => Promise.resolve(/demo users/.test(up.output.join(''))), 120_000, 200);
    const out = up.output.join('');
    passwords['admin'] = /password shown once: (\S+)\)/.exec(out)![1]!;
    for (const [, name, password] of out.matchAll(/(alice|bob|carol) \/ ([^,\s]+)/g)) passwords[name!] = password!;
    await until(async () => (await readStatuses(r.redis)).filter((s) => s.phase === 'Running').length === 3, 120_000, 500);
    await until(
      () =>
        fetch(`${url}/api/session`)
          .then((res) => res.ok)
          .catch(() => false),
      60_000,
      200,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  }, 300_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(up?.output.join('').slice(-3000));
  });
  afterAll(async () => {
    await browser?.close();
    up?.child.kill('SIGKILL');
    await r?.cleanup();
    await d?.drop();
  });

  async function logIn(name: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(url);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=password]', passwords[name]!);
    await page.click('button[type=submit]');
    await page.waitForSelector('#accounts tbody tr[data-id]');
    return page;
  }

  const shot = async (page: Page, name: string) => {
    if (!SHOTS) return;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
  };

  it(
    "lets a user see and run only their own account: config, close a position, pause, enter a key; another user's account is unreachable",
    { timeout: 300_000 },
    async () => {
      const page = await logIn('alice');
      expect(await page.$$eval('#accounts tbody tr[data-id]', (rows) => rows.map((row) => row.getAttribute('data-id')))).toEqual(['alice']);
      await shot(page, 'overview');

      await page.click('a[href="#/accounts/alice"]');
      await page.waitForSelector('#config input[name=maxOpenPositions]');
      await page.waitForFunction(() => document.querySelector('#phase')?.textContent === 'Running');

      // Config: the form is built from the API's schema; the operator and the trader apply it.
      await page.fill('#config input[name=maxOpenPositions]', '2');
      await page.click('#config button[type=submit]');
      await page.waitForFunction(() => document.querySelector('#config-result')?.textContent?.includes('Config saved'));
      await until(async () => (await r.redis.hget(redisKeys.config('alice'), 'maxOpenPositions')) === '2', 30_000, 200);
      // The page hears of it (the config channel) and says the change is live.
      await page.waitForFunction(() => document.querySelector('#applied')?.textContent === '· applied', undefined, { timeout: 30_000 });

      // A position opens within moments (the simulator runs 1800× market time); close it from the page.
      await page.waitForSelector('#positions button.close-one', { timeout: 120_000 });
      const symbol = (await page.getAttribute('#positions button.close-one', 'data-symbol'))!;
      await page.click(`#positions button.close-one[data-symbol="${symbol}"]`);
      await page.waitForFunction(() => document.querySelector('#action-result')?.textContent?.includes('carried out'), undefined, { timeout: 30_000 });
      await until(
        async () =>
          (await d.db.selectFrom('orders').select('id').where('account_id', '=', 'alice').where('purpose', '=', 'close').where('symbol', '=', symbol).execute())
            .length > 0,
        30_000,
        500,
      );

      // Pause: the phase on the page follows the operator's status.
      await page.click('#pause');
      await page.waitForFunction(() => document.querySelector('#phase')?.textContent === 'Paused', undefined, { timeout: 30_000 });

      // A new key, write-only: its fingerprint comes back, the trader restarts with it and the simulator takes it.
      await page.fill('#key input[name=apiKey]', NEW_KEY);
      await page.fill('#key input[name=apiSecret]', NEW_SECRET);
      await page.click('#key button[type=submit]');
      await page.waitForFunction((fp) => document.querySelector('#fingerprint')?.textContent === fp, keyFingerprint(NEW_KEY));
      expect(await page.inputValue('#key input[name=apiSecret]')).toBe('');
      expect(await page.content()).not.toContain(NEW_SECRET);
      let seen: unknown;
      await until(async () => {
        const alice = (await readStatuses(r.redis)).find((s) => s.name === 'alice');
        const row = await d.db.selectFrom('accounts').select('key_fingerprint').where('id', '=', 'alice').executeTakeFirst();
        seen = { phase: alice?.phase, lastError: alice?.lastError, fingerprint: row?.key_fingerprint };
        return alice?.phase === 'Paused' && !alice.lastError && row?.key_fingerprint === keyFingerprint(NEW_KEY);
      }, 60_000).catch((err) => {
        throw new Error(`alice after the new key: ${JSON.stringify(seen)}`, { cause: err });
      });

      // Bob's account is not hers: not by URL, not by the API.
      await page.goto(`${url}/#/accounts/bob`);
      await page.waitForSelector('.notice.error');
      expect(await page.textContent('.notice.error')).toContain('No account bob');
      const statuses = await page.evaluate(async () =>
        Promise.all(['/api/accounts/bob', '/api/accounts/bob/orders', '/api/accounts/bob/key'].map(async (p) => (await fetch(p)).status)),
      );
      expect(statuses).toEqual([404, 404, 404]);
    },
  );

  it('shows an admin every account, the system page and the audit log of what the user did', { timeout: 120_000 }, async () => {
    const page = await logIn('admin');
    expect(await page.$$eval('#accounts tbody tr[data-id]', (rows) => rows.map((row) => row.getAttribute('data-id')))).toEqual(['alice', 'bob', 'carol']);
    await page.click('a[href="#/system"]');
    await page.waitForSelector('#audit tbody tr');
    const audit = await page.textContent('#audit');
    for (const action of ['account.config', 'account.close', 'account.pause', 'account.key']) expect(audit).toContain(action);
    expect(await page.content()).not.toContain(NEW_SECRET);
    await shot(page, 'system');
    await page.click('a[href="#/logs"]');
    await page.waitForSelector('#logs tbody tr');
    await page.click('a[href="#/recommendations"]');
    await page.waitForSelector('#recommendations');
    if (SHOTS) {
      await page.goto(`${url}/#/accounts/bob`);
      await page.waitForSelector('#equity');
      await page.waitForTimeout(1_000);
      await shot(page, 'account');
      await page.click('a[href="#/logs"]');
      await page.waitForSelector('#logs tbody tr');
      await shot(page, 'logs');
    }
  });
});
