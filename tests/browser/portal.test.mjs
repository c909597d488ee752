// The public portal's catalogue pages, as a visitor reads them: a service card, its category, its
// agency and its form — on a 360-px screen, without JavaScript, with no accessibility violations.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, launchBrowser, startServer, totp } from './harness.mjs';

const PASSWORD = 'pishkhan-demo-1404-tehran';

/// What pdftotext reads from a downloaded PDF, compared the way `pishkhan_render::comparable`
/// does: no spaces, bidi controls or hamza above (extractors move them around joined letters),
/// and the lam-alef ligature in one order (extractors write it back to front).
function pdfText(file) {
  const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
  return fold(text);
}

function fold(text) {
  return text.replace(/[\s\u200c\u200e\u200f\u202a-\u202e\u0654]/g, '').replace(/ي/g, 'ی').replace(/ك/g, 'ک').replace(/ۀ/g, 'ه').replace(/لا/g, 'ال');
}

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
    for (const expected of ['مدارک لازم', 'گواهینامهٔ پیشین', 'مراحل', 'معاینه', 'جمع هزینه‌ها', '۱۵ روز کاری', 'آخرین به‌روزرسانی', 'شهروندان', 'دفتر پیشخوان دولت ۱۰۰۱']) {
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

    // By life event: "renewing documents".
    await page.goto(server.url);
    await page.getByRole('link', { name: 'تمدید مدارک' }).click();
    await page.waitForURL(/\/events\/renewing-documents$/);
    await page.getByRole('link', { name: 'تمدید گواهینامهٔ رانندگی' }).first().click();
    assert.match(await page.textContent('h1'), /تمدید گواهینامهٔ رانندگی/);
    await context.close();

    const checked = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const axePage = await checked.newPage();
    for (const address of ['/', '/?province=tehran', '/search?q=%D8%AA%D9%85%D8%AF%DB%8C%D8%AF', '/events/renewing-documents']) {
      await axePage.goto(`${server.url}${address}`);
      await noViolations(axePage, address);
    }
    await checked.close();
  });

  test('with JavaScript off on a 360-px screen: search in Tehran, read the documents, download the form as a PDF', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false, acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByLabel('جست‌وجوی خدمت').fill('تمدید گواهی‌نامه');
    await page.getByLabel('استان').selectOption('tehran');
    await page.getByRole('button', { name: 'جست‌وجو' }).click();
    await page.waitForURL(/\/search\?.*province=tehran/);
    // Ranked: the renewal comes first, and only Tehran's services (and national ones) are listed.
    const first = page.locator('ol.results li').first();
    assert.match(await first.textContent(), /تمدید گواهینامهٔ رانندگی/);
    const results = await page.locator('ol.results').textContent();
    assert.ok(results.includes('تهران') && !results.includes('اصفهان'), 'scoped to Tehran');
    await first.getByRole('link').click();
    await page.waitForURL(/\/services\/tehran\.driving-licence-renewal$/);
    const documents = await page.locator('#documents + ul').textContent();
    assert.match(documents, /گواهینامهٔ پیشین/);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'دریافت پی‌دی‌اف برای چاپ' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'tehran.driving-licence-renewal-v1.pdf');
    const file = path.join(artifacts, 'tehran.driving-licence-renewal.pdf');
    await download.saveAs(file);
    assert.equal(readFileSync(file).subarray(0, 5).toString(), '%PDF-');
    const text = pdfText(file);
    for (const expected of ['فرم درخواست تمدید گواهینامه', 'کد ملی', 'tehran.driving-licence-renewal', 'سال', 'ماه', 'روز']) {
      assert.ok(text.includes(fold(expected)), `the PDF says ${expected}`);
    }
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', file, path.join(artifacts, 'form-pdf-page')]);

    // The card as a PDF too.
    const [card] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'دریافت شناسنامهٔ خدمت (پی‌دی‌اف)' }).click(),
    ]);
    const cardFile = path.join(artifacts, 'tehran.driving-licence-renewal-card.pdf');
    await card.saveAs(cardFile);
    assert.ok(pdfText(cardFile).includes(fold('مدارک لازم')));
    await context.close();
  });

  test('"did you mean" when nothing matches, and suggestions as you type with JavaScript on', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/search?q=${encodeURIComponent('مفاصاحصاپ')}`);
    assert.match(await page.textContent('[role=status]'), /۰/);
    await page.getByRole('link', { name: 'مفاصاحساب' }).click();
    await page.waitForURL(/q=/);
    assert.match(await page.locator('ol.results li').first().textContent(), /گواهی مفاصاحساب مالیاتی/);
    await noViolations(page, 'search results');

    await page.goto(server.url);
    await page.getByLabel('جست‌وجوی خدمت').pressSequentially('تمدید گواهین', { delay: 30 });
    await page.waitForFunction(() => document.querySelectorAll('#q-suggestions option').length > 0);
    const options = await page.locator('#q-suggestions option').evaluateAll((els) => els.map((e) => e.value));
    assert.equal(options[0], 'تمدید گواهینامهٔ رانندگی');
    await context.close();
  });

  test('the national administrator teaches search a colloquial name', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/search?q=${encodeURIComponent('پیکان قراضه')}&province=tehran`);
    assert.ok(!(await page.textContent('main')).includes('تعویض پلاک و نقل‌وانتقال خودرو'));

    await page.goto(`${server.url}/signin`);
    await page.getByLabel('نام کاربری').fill('admin.national');
    await page.getByLabel('گذرواژه').fill(PASSWORD);
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(/second-factor$/);
    await page.getByLabel('کد شش‌رقمی').fill(totp('PISHKHANDEMONATIONAL2345'));
    await page.getByRole('button', { name: 'تأیید' }).click();
    await page.waitForURL(/\/account$/);
    await page.goto(`${server.url}/admin`);
    await page.getByRole('link', { name: 'واژه‌های هم‌معنی در جست‌وجو' }).click();
    await noViolations(page, 'synonyms page');
    const box = page.getByLabel('فهرست واژه‌ها');
    const list = await box.inputValue();
    // A bad line is refused with its number, and nothing changes.
    await box.fill(`${list}\nپیکان قراضه`);
    await page.getByRole('button', { name: 'ذخیره' }).click();
    assert.match(await page.textContent('.error-summary'), /سطر/);
    await box.fill(`${list}\nپیکان قراضه = تعویض پلاک خودرو`);
    await page.getByRole('button', { name: 'ذخیره' }).click();
    assert.match(await page.textContent('[role=status]'), /ذخیره شد/);

    await page.goto(`${server.url}/search?q=${encodeURIComponent('پیکان قراضه')}&province=tehran`);
    assert.match(await page.locator('ol.results li').first().textContent(), /تعویض پلاک و نقل‌وانتقال خودرو/);
    await context.close();
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
