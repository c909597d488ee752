// The public portal's catalogue pages, as a visitor reads them: a service card, its category, its
// agency and its form — on a 360-px screen, without JavaScript, with no accessibility violations.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, launchBrowser, startServer } from './harness.mjs';

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

async function noViolations(page, what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

describe('catalogue pages', () => {
  test('a visitor reads the driving-licence renewal card, its category, agency and form', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.url}/services/tehran.driving-licence-renewal`);
    assert.equal(await page.textContent('h1'), 'تمدید گواهینامهٔ رانندگی');
    const text = await page.textContent('main');
    for (const expected of ['مدارک لازم', 'گواهینامهٔ پیشین', 'مراحل', 'معاینه', 'جمع هزینه‌ها', '۱۵ روز کاری', 'آخرین به‌روزرسانی']) {
      assert.ok(text.includes(expected), `the card shows ${expected}`);
    }
    await page.screenshot({ path: path.join(artifacts, 'portal-service-360.png'), fullPage: true });

    await page.getByRole('link', { name: 'پلیس و راهور' }).click();
    await page.waitForURL(/\/categories\/police-traffic$/);
    assert.match(await page.textContent('main'), /تمدید گواهینامهٔ رانندگی/);

    await page.goto(`${server.url}/services/tehran.driving-licence-renewal`);
    await page.getByRole('link', { name: 'پلیس راهور استان تهران' }).click();
    await page.waitForURL(/\/agencies\/tehran-traffic-police$/);
    assert.match(await page.textContent('main'), /استعلام و پرداخت خلافی خودرو/);

    await page.goto(`${server.url}/services/tehran.driving-licence-renewal`);
    await page.getByRole('link', { name: /دیدن و چاپ فرم/ }).click();
    await page.waitForURL(/\/forms\/tehran\.driving-licence-renewal$/);
    const form = await page.textContent('main');
    assert.match(form, /فرم درخواست تمدید گواهینامهٔ رانندگی/);
    assert.match(form, /تاریخ پایان اعتبار/);
    await page.screenshot({ path: path.join(artifacts, 'portal-form-360.png'), fullPage: true });
    await context.close();

    // axe-core runs in the page, so these checks use a context with JavaScript on.
    const checked = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const axePage = await checked.newPage();
    for (const address of ['/services/tehran.driving-licence-renewal', '/categories/police-traffic', '/agencies/tehran-traffic-police', '/forms/tehran.driving-licence-renewal']) {
      await axePage.goto(`${server.url}${address}`);
      await noViolations(axePage, address);
      const fits = await axePage.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
      assert.ok(fits, `${address}: no sideways scrolling at 360 px`);
    }
    await checked.close();
  });

  test('from the home page: find "renew driving licence" by search (typed with Arabic letters) and by browsing', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByLabel('جست‌وجوی خدمت').fill('تمديد گواهينامه');
    await page.getByRole('button', { name: 'جست‌وجو' }).click();
    await page.waitForURL(/\/search\?q=/);
    await page.getByRole('link', { name: 'تمدید گواهینامهٔ رانندگی' }).first().click();
    await page.waitForURL(/\/services\/[a-z-]+\.driving-licence-renewal$/);
    assert.match(await page.textContent('main'), /مدارک لازم/);

    await page.goto(server.url);
    await page.getByRole('link', { name: 'پلیس و راهور' }).click();
    await page.waitForURL(/\/categories\/police-traffic$/);
    await page.getByRole('link', { name: 'تمدید گواهینامهٔ رانندگی' }).first().click();
    assert.match(await page.textContent('h1'), /تمدید گواهینامهٔ رانندگی/);
    await context.close();

    const checked = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const axePage = await checked.newPage();
    for (const address of ['/', '/search?q=%D8%AA%D9%85%D8%AF%DB%8C%D8%AF']) {
      await axePage.goto(`${server.url}${address}`);
      await noViolations(axePage, address);
    }
    await checked.close();
  });

  test('a missing service, category or form is a 404 page in Persian', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const address of ['/services/nothing', '/categories/space', '/forms/nothing', '/agencies/nothing']) {
      const response = await page.goto(`${server.url}${address}`);
      assert.equal(response.status(), 404, address);
      assert.equal(await page.textContent('h1'), 'این صفحه پیدا نشد');
    }
    await context.close();
  });
});
