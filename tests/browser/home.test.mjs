// The home page, the language switch and the error pages, as a visitor meets them.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, launchBrowser, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer(['serve']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function newPage(options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  return { context, page };
}

describe('home page', () => {
  test('renders right to left in Persian, in the self-hosted Vazirmatn font', async () => {
    const { context, page } = await newPage();
    const fontResponses = [];
    page.on('response', (r) => {
      if (r.url().endsWith('.woff2')) fontResponses.push(r.status());
    });
    await page.goto(server.url);
    assert.equal(await page.getAttribute('html', 'lang'), 'fa');
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    assert.equal(await page.textContent('h1'), 'خدمات دستگاه‌های اجرایی استان، در یک جا');

    const font = await page.evaluate(async () => {
      await document.fonts.ready;
      const faces = [...document.fonts].filter((f) => f.family.replaceAll('"', '') === 'Vazirmatn');
      return {
        loaded: faces.filter((f) => f.status === 'loaded').map((f) => f.weight),
        bodyFamily: getComputedStyle(document.body).fontFamily,
        direction: getComputedStyle(document.body).direction,
      };
    });
    assert.ok(font.loaded.includes('400'), `regular weight loaded: ${JSON.stringify(font)}`);
    assert.match(font.bodyFamily, /^"?Vazirmatn"?,/);
    assert.equal(font.direction, 'rtl');
    assert.ok(fontResponses.length > 0 && fontResponses.every((s) => s === 200), `font fetched: ${fontResponses}`);

    // The heading's text starts at the right edge of the content column.
    const box = await page.locator('h1').boundingBox();
    const main = await page.locator('main').boundingBox();
    assert.ok(box.x + box.width > main.x + main.width - 80, 'heading sits on the right');

    await page.screenshot({ path: path.join(artifacts, 'home-fa.png'), fullPage: true });
    await context.close();
  });

  test('switches to English and back with the language link', async () => {
    const { context, page } = await newPage();
    await page.goto(server.url);
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(`${server.url}/`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.getAttribute('html', 'dir'), 'ltr');
    assert.equal(await page.textContent('h1'), "Every agency's services in the province, in one place");
    await page.screenshot({ path: path.join(artifacts, 'home-en.png'), fullPage: true });

    // The choice is remembered on the next visit.
    await page.goto(server.url);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');

    await page.getByRole('link', { name: 'فارسی' }).click();
    await page.waitForURL(`${server.url}/`);
    assert.equal(await page.getAttribute('html', 'lang'), 'fa');
    await context.close();
  });

  test('works with JavaScript turned off', async () => {
    const { context, page } = await newPage({ javaScriptEnabled: false });
    await page.goto(server.url);
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(`${server.url}/`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await context.close();
  });

  test('fits a 360-pixel-wide phone screen without sideways scrolling', async () => {
    const { context, page } = await newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(server.url);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `page is ${width}px wide`);
    const target = await page.getByRole('link', { name: 'English' }).boundingBox();
    assert.ok(target.height >= 44, `language link is ${target.height}px tall: a large target`);
    await page.screenshot({ path: path.join(artifacts, 'home-360.png'), fullPage: true });
    await context.close();
  });

  test('offers a skip link first, which moves focus to the content', async () => {
    const { context, page } = await newPage();
    await page.goto(server.url);
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({
      text: document.activeElement.textContent,
      visible: document.activeElement.getBoundingClientRect().width > 0,
      left: document.activeElement.getBoundingClientRect().left,
    }));
    assert.equal(focused.text, 'پرش به محتوای اصلی');
    assert.ok(focused.visible && focused.left >= 0, `skip link shows when focused: ${JSON.stringify(focused)}`);
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
    await context.close();
  });
});

describe('error pages', () => {
  test('a missing page says so in the site layout and the visitor language', async () => {
    const { context, page } = await newPage();
    const response = await page.goto(`${server.url}/no/such/page`);
    assert.equal(response.status(), 404);
    assert.equal(await page.textContent('h1'), 'این صفحه پیدا نشد');
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(`${server.url}/no/such/page`);
    assert.equal(await page.textContent('h1'), 'Page not found');
    await context.close();
  });
});

describe('accessibility (axe-core)', () => {
  for (const [name, pathname, cookie] of [
    ['home, Persian', '/', null],
    ['home, English', '/', 'en'],
    ['not found, Persian', '/no/such/page', null],
    ['not found, English', '/no/such/page', 'en'],
  ]) {
    test(`no violations: ${name}`, async () => {
      const { context, page } = await newPage();
      if (cookie) {
        await context.addCookies([{ name: 'lang', value: cookie, url: server.url }]);
      }
      await page.goto(`${server.url}${pathname}`);
      await page.evaluate(() => document.fonts.ready);
      const violations = await axeViolations(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
      await context.close();
    });
  }
});
