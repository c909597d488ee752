// The exchange with agencies' systems as the registry's admin meets it: the demo's agency
// simulator receives a filing's event as a signed webhook; the admin sees the webhook at
// /admin/exchange (360 px and desktop), is refused a bad URL in Persian, and rotates the signing
// secret, shown once, without the agency's system missing an event.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, binary, launchBrowser, startServer } from './harness.mjs';

const PASSWORD = 'pishkhan-demo-1404-tehran';

let server;
let browser;

before(async () => {
  server = await startServer(['demo']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function pishkhan(...args) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('PISHKHAN_')) delete env[name];
  }
  return execFileSync(binary, [...args, '--data-dir', server.dataDir], { encoding: 'utf8', env });
}

/** The simulator's address, from the demo's banner. */
async function simulator() {
  for (let i = 0; i < 50; i += 1) {
    const line = server.printed.find((l) => l.includes('agency system: a simulator'));
    if (line) return line.match(/at (http:\/\/\S+)/)[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the demo did not print its simulator: ${server.printed.join('\n')}`);
}

async function file(token) {
  const example = JSON.parse(pishkhan('applications', 'example', 'tehran.birth-certificate'));
  const response = await fetch(`${server.url}/api/v1/applications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(example),
  });
  assert.equal(response.status, 201);
  return (await response.json()).code;
}

/** Waits until the simulator has applied an event about `code`; answers its records. */
async function appliedFor(sim, code) {
  for (let i = 0; i < 100; i += 1) {
    const records = await (await fetch(`${sim}/records`)).json();
    if (records.applied.some((r) => r.subject === code)) return records;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the simulator never applied ${code}`);
}

describe('exchange', () => {
  test('the registry admin follows its system\'s webhook and rotates the secret without a gap', async () => {
    const sim = await simulator();
    const token = pishkhan('token', 'create', '--username', 'system.registry', '--label', 'browser')
      .split('(shown only now): ')[1].trim();
    const first = await file(token);
    const records = await appliedFor(sim, first);
    assert.equal(records.refused, 0);
    assert.ok(records.applied.find((r) => r.subject === first).type === 'application.filed');

    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('نام کاربری').fill('admin.registry');
    await page.getByLabel('گذرواژه').fill(PASSWORD);
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(/\/account$/);
    await page.goto(`${server.url}/admin`);
    await page.getByRole('link', { name: 'تبادل با سامانه‌های دستگاه‌ها' }).click();
    await page.waitForURL(/\/admin\/exchange$/);
    const row = page.locator('tr', { hasText: 'ثبت احوال' });
    assert.equal(await row.count(), 1, 'an agency admin sees their own agency');
    assert.match(await row.textContent(), new RegExp(sim.replace('http://', '')));
    assert.deepEqual(await axeViolations(page), []);
    await row.getByRole('link').click();
    await page.waitForURL(/\/admin\/exchange\/tehran-civil-registry$/);
    assert.match(await page.textContent('#webhook-url'), /\/webhook$/);
    assert.match(await page.textContent('.figures'), /رویداد تاکنون/);
    assert.match(await page.textContent('main'), /ارسال ناموفقی نیست/);
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: path.join(artifacts, 'exchange-360.png'), fullPage: true });

    // A URL to another machine over plain http is refused in Persian; nothing changes.
    await page.getByLabel('نشانی تازهٔ وب‌هوک').fill('http://10.0.0.7/hook');
    await page.getByRole('button', { name: 'ذخیرهٔ نشانی' }).click();
    assert.match(await page.textContent('.error-summary'), /https:\/\//);
    assert.match(await page.textContent('#webhook-url'), new RegExp(sim.replace('http://', '')));

    // A new secret, with a day's overlap: shown once; the simulator, still on the old secret,
    // keeps accepting, because both sign during the overlap.
    await page.getByLabel('رمز پیشین تا کی امضا کند').selectOption('24');
    await page.getByRole('button', { name: 'ساختن رمز تازه' }).click();
    const secret = (await page.textContent('#webhook-secret')).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    assert.match(await page.textContent('main'), /رمز پیشین نیز امضا می‌کند تا/);
    await page.goto(`${server.url}/admin/exchange/tehran-civil-registry`);
    assert.equal(await page.locator('#webhook-secret').count(), 0, 'shown once');
    const second = await file(token);
    const after = await appliedFor(sim, second);
    assert.equal(after.refused, 0, 'nothing refused across the rotation');
    await context.close();

    const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const wide = await desktop.newPage();
    await wide.goto(`${server.url}/signin`);
    await wide.getByLabel('نام کاربری').fill('admin.registry');
    await wide.getByLabel('گذرواژه').fill(PASSWORD);
    await wide.getByRole('button', { name: 'ورود' }).click();
    await wide.waitForURL(/\/account$/);
    await wide.goto(`${server.url}/admin/exchange/tehran-civil-registry`);
    await wide.screenshot({ path: path.join(artifacts, 'exchange-desktop.png'), fullPage: true });
    // Another agency's exchange is not there for this admin.
    const other = await wide.goto(`${server.url}/admin/exchange/tehran-tax`);
    assert.equal(other.status(), 404);
    await desktop.close();
  });
});
