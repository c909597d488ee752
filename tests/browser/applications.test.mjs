// Applications as people meet them so far: an agency system files one through the API, the
// applicant tracks it at /track (360 px, JavaScript off), sees what the agency asked for, and the
// page has no accessibility violations.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, launchBrowser, startServer, signInCitizen } from './harness.mjs';

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

const pishkhan = (...args) => server.cli(...args);

const api = (...call) => server.api(...call);

const persian = (text) => text.replace(/[0-9]/g, (d) => '۰۱۲۳۴۵۶۷۸۹'[d]);

describe('tracking an application', () => {
  test('filed by an agency system, tracked by the applicant with the code read from the receipt', async () => {
    const token = pishkhan('token', 'create', '--username', 'system.registry', '--label', 'browser').split('(shown only now): ')[1].trim();
    const example = JSON.parse(pishkhan('applications', 'example', 'tehran.birth-certificate'));
    const filed = await api('POST', '/api/v1/applications', token, example);
    assert.equal(filed.status, 201, JSON.stringify(filed.json));
    const code = filed.json.code;
    const shown = await api('GET', `/api/v1/applications/${code}`, token);
    const asked = await api('POST', `/api/v1/applications/${code}/actions`, token, {
      action: 'request-documents',
      revision: shown.json.revision,
      comment: 'تصویر صفحهٔ اول شناسنامهٔ مادر خوانا نیست.',
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.json));
    // The text message about it links straight to the application.
    let linked = false;
    for (let i = 0; i < 100 && !linked; i += 1) {
      linked = server.messages().some((m) => m.text.includes(`/me/applications/${code}`));
      if (!linked) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(linked, JSON.stringify(server.messages().slice(-2)));

    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByRole('navigation', { name: 'ورود و پیگیری' }).getByRole('link', { name: 'پیگیری درخواست' }).click();
    await page.waitForURL(/\/track$/);
    // A wrong national ID: the same answer as a wrong code.
    await page.getByLabel('کد رهگیری').fill(persian(filed.json.code_grouped));
    await page.getByLabel('کد ملی').fill('0082451291');
    await page.getByRole('button', { name: 'پیگیری' }).click();
    assert.match(await page.textContent('main'), /درخواستی با این کد رهگیری و کد ملی پیدا نشد/);
    // A code with one digit wrong: the check digit catches it.
    const wrong = code.slice(0, 10) + ((Number(code[10]) + 1) % 10);
    await page.getByLabel('کد رهگیری').fill(wrong);
    await page.getByLabel('کد ملی').fill('0076229645');
    await page.getByRole('button', { name: 'پیگیری' }).click();
    assert.match(await page.textContent('main'), /کد رهگیری درست نیست/);
    // Right: where it is, what to do now, and the history with the agency's words.
    await page.getByLabel('کد رهگیری').fill(persian(filed.json.code_grouped));
    await page.getByRole('button', { name: 'پیگیری' }).click();
    const text = await page.textContent('main');
    for (const expected of ['نیاز به مدرک یا اصلاح', 'آنچه اکنون باید بکنید', 'تصویر صفحهٔ اول شناسنامهٔ مادر خوانا نیست.', 'ثبت شد؛ در نوبت بررسی', 'ثبت ولادت']) {
      assert.ok(text.includes(expected), `the page shows ${expected}: ${text}`);
    }
    await page.screenshot({ path: path.join(artifacts, 'track-360.png'), fullPage: true });
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    assert.ok(fits, 'no sideways scrolling at 360 px');
    await context.close();

    const checked = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const axePage = await checked.newPage();
    await axePage.goto(`${server.url}/track`);
    assert.deepEqual(await axeViolations(axePage), [], 'the tracking form');
    await axePage.getByLabel('کد رهگیری').fill(code);
    await axePage.getByLabel('کد ملی').fill('0076229645');
    await axePage.getByRole('button', { name: 'پیگیری' }).click();
    await axePage.waitForSelector('#status');
    assert.deepEqual(await axeViolations(axePage), [], 'the tracking result');
    await checked.close();
  });

  test('a clerk finds it in the inbox, is refused without a reason, then asks for a document', async () => {
    const token = pishkhan('token', 'create', '--username', 'system.registry', '--label', 'desk').split('(shown only now): ')[1].trim();
    const example = JSON.parse(pishkhan('applications', 'example', 'tehran.birth-certificate'));
    example.national_id = '0082451291'; // the demo citizen, who will sign in
    const filed = await api('POST', '/api/v1/applications', token, example);
    assert.equal(filed.status, 201, JSON.stringify(filed.json));
    const code = filed.json.code;

    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('نام کاربری').fill('clerk.registry');
    await page.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(/\/account$/);
    await page.getByRole('link', { name: 'درخواست‌ها' }).click();
    await page.waitForURL(/\/desk\/applications$/);
    await page.getByRole('link', { name: persian(filed.json.code_grouped) }).click();
    await page.waitForURL(new RegExp(`/desk/applications/${code}$`));
    const text = await page.textContent('main');
    for (const expected of ['ثبت ولادت', 'سامانهٔ دستگاه', 'مدارک پیوست', 'سابقه']) {
      assert.ok(text.includes(expected), `the application shows ${expected}`);
    }
    // The first document opens as what it is.
    const href = await page.locator('a[href*="/documents/"]').first().getAttribute('href');
    const document = await context.request.get(`${server.url}${href}`);
    assert.equal(document.status(), 200);
    assert.equal(document.headers()['content-type'], 'application/pdf');

    // No action is chosen for the clerk: submitting without one says what to do.
    assert.equal(await page.locator('input[name=action]:checked').count(), 0);
    await page.getByRole('button', { name: 'ثبت اقدام' }).click();
    assert.match(await page.textContent('.error-summary'), /«اقدام» را انتخاب کنید/);
    await page.getByLabel('درخواست مدرک یا اصلاح').check();
    await page.getByRole('button', { name: 'ثبت اقدام' }).click();
    assert.match(await page.textContent('.error-summary'), /توضیح بنویسید/);
    await page.getByLabel('درخواست مدرک یا اصلاح').check();
    await page.getByLabel('توضیح', { exact: true }).fill('تصویر کارت ملی پدر پیوست نشده است.');
    await page.getByRole('button', { name: 'ثبت اقدام' }).click();
    await page.waitForURL(/done=1$/);
    const after = await page.textContent('main');
    assert.ok(after.includes('نیاز به مدرک یا اصلاح'), after);
    assert.ok(after.includes('تصویر کارت ملی پدر پیوست نشده است.'), after);
    await page.screenshot({ path: path.join(artifacts, 'desk-application-360.png'), fullPage: true });
    await context.close();

    const checked = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const axePage = await checked.newPage();
    await axePage.goto(`${server.url}/signin`);
    await axePage.getByLabel('نام کاربری').fill('clerk.registry');
    await axePage.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await axePage.getByRole('button', { name: 'ورود' }).click();
    await axePage.waitForURL(/\/account$/);
    for (const address of ['/desk/applications', `/desk/applications/${code}`]) {
      await axePage.goto(`${server.url}${address}`);
      assert.deepEqual(await axeViolations(axePage), [], address);
    }
    await checked.close();

    // The citizen signs in by SMS, finds it on their page, and sends it back with a note.
    const mine = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const me = await mine.newPage();
    await me.goto(`${server.url}/me`);
    await me.waitForURL(/\/signin\/citizen/);
    await signInCitizen(me, server, '0082451291', '09121234567');
    await me.getByRole('link', { name: persian(filed.json.code_grouped) }).click();
    // What the agency asked for is at the top, with a button to do it.
    assert.match(await me.textContent('.notice.request'), /تصویر کارت ملی پدر پیوست نشده است/);
    assert.equal(await me.locator('input[name=action]:checked').count(), 0, 'nothing pre-selected');
    assert.equal(await me.getByLabel('انصراف').count(), 0, 'withdrawal is not an option of the form');
    await me.screenshot({ path: path.join(artifacts, 'me-request-360.png'), fullPage: true });
    // Withdrawal is its own page that says what will happen; going back changes nothing.
    await me.getByRole('link', { name: 'انصراف از این درخواست' }).click();
    await me.waitForURL(/\/withdraw$/);
    assert.match(await me.textContent('main'), /برگشت‌پذیر نیست/);
    await me.screenshot({ path: path.join(artifacts, 'me-withdraw-360.png'), fullPage: true });
    await me.getByRole('link', { name: 'نه، برگرد' }).click();
    await me.waitForURL(new RegExp(`/me/applications/${code}$`));
    assert.match(await me.textContent('main'), /نیاز به مدرک یا اصلاح/);
    await me.getByRole('link', { name: 'آنچه را خواسته شده بفرستید' }).click();
    await me.getByLabel('ارسال دوباره').check();
    await me.getByLabel('توضیح برای دستگاه').fill('تصویر کارت ملی پدر پیوست است.');
    const scan = path.join(server.dataDir, '..', 'father-card.pdf');
    fs.writeFileSync(scan, '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    await me.getByLabel('پیوست (اختیاری)').setInputFiles(scan);
    await me.getByRole('button', { name: 'ثبت اقدام' }).click();
    await me.waitForURL(/done=1$/);
    assert.match(await me.textContent('main'), /مدارک دوباره فرستاده شد/);
    await me.screenshot({ path: path.join(artifacts, 'me-application-360.png'), fullPage: true });
    await mine.close();

    // The clerk takes it on through the registry's own stages; the citizen's tracking shows it.
    const again = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const desk = await again.newPage();
    await desk.goto(`${server.url}/signin`);
    await desk.getByLabel('نام کاربری').fill('clerk.registry');
    await desk.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await desk.getByRole('button', { name: 'ورود' }).click();
    await desk.waitForURL(/\/account$/);
    await desk.goto(`${server.url}/desk/applications/${code}`);
    // The file the citizen sent is among the documents.
    assert.match(await desk.textContent('main'), /father-card\.pdf/);
    await desk.getByRole('button', { name: 'برداشتن این درخواست برای خودم' }).click();
    await desk.waitForURL(/done=1$/);
    await desk.getByLabel('شروع بررسی').check();
    await desk.getByRole('button', { name: 'ثبت اقدام' }).click();
    await desk.waitForURL(/done=1$/);
    assert.match(await desk.textContent('main'), /تطبیق مدارک با پایگاه اطلاعات جمعیت/);
    await desk.getByLabel('تأیید مدارک', { exact: true }).check();
    await desk.getByRole('button', { name: 'ثبت اقدام' }).click();
    await desk.waitForURL(/done=1$/);
    assert.match(await desk.textContent('main'), /امضای سند ولادت به دست اعلام‌کننده/);
    // Found again by the person's national ID, with who reviewed it.
    await desk.goto(`${server.url}/desk/applications`);
    await desk.getByLabel('کد رهگیری یا کد ملی').fill('۰۰۸۲۴۵۱۲۹۱');
    await desk.getByLabel('کدام درخواست‌ها').selectOption('all');
    await desk.getByRole('button', { name: 'نمایش' }).click();
    const found = await desk.textContent('table');
    assert.match(found, new RegExp(persian(filed.json.code_grouped)));
    assert.match(found, /مریم احمدی/, 'the reviewer is named');
    await desk.getByLabel('کد رهگیری یا کد ملی').fill('12345');
    await desk.getByRole('button', { name: 'نمایش' }).click();
    assert.match(await desk.textContent('main'), /کد رهگیری ۱۱ رقم و کد ملی ۱۰ رقم است/);
    await again.close();
    const shown = await api('GET', `/api/v1/applications/${code}`, token);
    assert.deepEqual(shown.json.history.map((h) => h.action), ['submit', 'request-documents', 'resubmit', 'start-review', 'records-check-done']);
  });
});
