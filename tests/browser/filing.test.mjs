// Filing from the pages, as people do it: a citizen applies online for a birth certificate
// (mistakes caught field by field, a file refused by its content, a draft saved and taken up
// again from /me) and for a driving-licence renewal; an operator at a service centre files a
// building permit for a walk-in citizen with their consent and prints the receipt; the
// citizen tracks each one. 360 px; one journey with JavaScript off; axe-core on the filing pages.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, launchBrowser, startServer, signInCitizen, textedCode } from './harness.mjs';

let server;
let browser;
let scans;

const CITIZEN = { nationalId: '0082451291', mobile: '09121234567' };

before(async () => {
  server = await startServer(['demo']);
  browser = await launchBrowser();
  scans = fs.mkdtempSync(path.join(server.dataDir, '..', 'scans-'));
  // A real (tiny) PDF and a real PNG, named as a scanner would; and a text file named .pdf.
  fs.writeFileSync(path.join(scans, 'scan.pdf'), '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
  fs.writeFileSync(
    path.join(scans, 'photo.png'),
    Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
  );
  fs.writeFileSync(path.join(scans, 'not-really.pdf'), 'this is a letter, not a scan');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const persian = (text) => text.replace(/[0-9]/g, (d) => '۰۱۲۳۴۵۶۷۸۹'[d]);
const scan = (name) => path.join(scans, name);

async function smsCode(since) {
  return textedCode(server, since);
}

async function citizenPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false, ...options });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  await page.goto(`${server.url}/signin/citizen`);
  await signInCitizen(page, server, CITIZEN.nationalId, CITIZEN.mobile);
  return { context, page };
}

/** Waits for the address; if it does not come, fails with what the page says instead. */
async function reached(page, pattern) {
  try {
    await page.waitForURL(pattern, { timeout: 10000 });
  } catch {
    const summary = await page.locator('.error-summary').allTextContents();
    throw new Error(`stayed at ${page.url()}: [${summary.join(' | ')}] ${(await page.textContent('main')).replace(/\s+/g, ' ').slice(0, 1500)}`);
  }
}

async function fitsAt360(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

async function attachAll(page, names) {
  for (const [label, file] of names) {
    await page.getByLabel(label, { exact: true }).setInputFiles(scan(file));
  }
}

async function track(code, nationalId) {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/track`);
  await page.getByLabel('کد رهگیری').fill(code);
  await page.getByLabel('کد ملی').fill(nationalId);
  await page.getByRole('button', { name: 'پیگیری' }).click();
  const text = await page.textContent('main');
  await context.close();
  return text;
}

describe('filing online and at the counter', () => {
  test('a citizen applies online for a birth certificate: mistakes shown in place, a draft kept, filed and tracked', async () => {
    // JavaScript on here, so axe-core can check each page; the renewal below runs with it off.
    const { context, page } = await citizenPage({ javaScriptEnabled: true });
    await page.goto(`${server.url}/services/tehran.birth-certificate`);
    await page.getByRole('link', { name: 'درخواست برخط' }).click();
    await page.waitForURL(/\/me\/apply\/tehran\.birth-certificate$/);
    // The applicant's own national ID is already there.
    assert.equal(await page.getByLabel('کد ملی', { exact: false }).first().inputValue(), CITIZEN.nationalId);
    await page.getByLabel(/^نام \(/).fill('سارا');
    await page.getByLabel('نام خانوادگی').fill('رضایی');
    await page.getByLabel('شمارهٔ همراه').fill('۰۹۱۲۱۲۳۴۵۶۷');
    await page.getByLabel('نام نوزاد').fill('آوا');
    await page.getByLabel('جنس').selectOption('girl');
    await page.getByLabel(/^تاریخ تولد \(/).fill('۱۴۰۴/۱۳/۰۱');
    await page.getByLabel('محل تولد (شهر)').fill('تهران');
    await page.getByLabel('کد ملی مادر').fill('0076229646');
    await page.getByLabel('بله').check();
    await attachAll(page, [
      ['اصل شناسنامه و کارت ملی پدر و مادر', 'scan.pdf'],
      ['گواهی ولادت صادرشده از بیمارستان', 'not-really.pdf'],
      ['کارت ترخیص مادر از بیمارستان', 'photo.png'],
    ]);
    await page.getByRole('button', { name: 'ادامه و بازبینی' }).click();
    // The file named .pdf that is not one is refused, by content, and said why; nothing typed is lost.
    let summary = await page.textContent('.error-summary');
    assert.match(summary, /not-really\.pdf/);
    assert.match(summary, /نام پرونده ملاک نیست/);
    assert.equal(await page.getByLabel('نام نوزاد').inputValue(), 'آوا');
    assert.deepEqual(await axeViolations(page), [], 'the form with a refused file');
    // Next round: the wrong month, the mother's national ID, the missing documents — each in place.
    await page.getByRole('button', { name: 'ادامه و بازبینی' }).click();
    summary = await page.textContent('.error-summary');
    for (const expected of ['کد ملی مادر', 'تاریخ تولد', 'گواهی ولادت صادرشده از بیمارستان', 'نشانی و کد پستی محل سکونت']) {
      assert.ok(summary.includes(expected), `the summary names ${expected}: ${summary}`);
    }
    const motherError = await page.locator('#f-tehran\\.birth-certificate-mother_national_id-error').textContent();
    assert.match(motherError, /کد ملی/);
    assert.equal(await page.getByLabel('کد ملی مادر').getAttribute('aria-invalid'), 'true');
    await page.screenshot({ path: path.join(artifacts, 'apply-errors-360.png'), fullPage: true });
    assert.ok(await fitsAt360(page), 'no sideways scrolling at 360 px');
    // Save the draft, leave, and come back from /me.
    await page.getByLabel('کد ملی مادر').fill('0076229645');
    await page.getByRole('button', { name: 'ذخیرهٔ پیش‌نویس' }).click();
    await page.waitForURL(/saved=1$/);
    assert.match(await page.textContent('main'), /پیش‌نویس ذخیره شد/);
    await page.goto(`${server.url}/me`);
    await page.getByRole('link', { name: 'ثبت ولادت و صدور شناسنامهٔ نوزاد' }).click();
    assert.equal(await page.getByLabel('کد ملی مادر').inputValue(), '0076229645');
    assert.match(await page.textContent('main'), /scan\.pdf/);
    await page.getByLabel(/^تاریخ تولد \(/).fill('۱۴۰۴/۰۸/۰۱');
    await attachAll(page, [
      ['گواهی ولادت صادرشده از بیمارستان', 'scan.pdf'],
      ['نشانی و کد پستی محل سکونت', 'photo.png'],
    ]);
    await page.getByRole('button', { name: 'ادامه و بازبینی' }).click();
    await reached(page, /\/review$/);
    const review = await page.textContent('main');
    for (const expected of ['آوا', 'دختر', '۱۴۰۴/۰۸/۰۱', 'بله', 'photo.png', 'ریال']) {
      assert.ok(review.includes(expected), `the review shows ${expected}: ${review}`);
    }
    assert.deepEqual(await axeViolations(page), [], 'the review');
    await page.getByRole('button', { name: 'ثبت درخواست' }).click();
    await page.waitForURL(/\/me\/applications\/\d{11}\?filed=1$/);
    const code = page.url().match(/applications\/(\d{11})/)[1];
    const filed = await page.textContent('main');
    assert.match(filed, /درخواست شما ثبت شد/);
    assert.match(filed, /ثبت شد؛ در نوبت بررسی/);
    const receipt = await context.request.get(`${server.url}/applications/${code}/receipt.pdf`);
    assert.equal(receipt.status(), 200);
    assert.equal(receipt.headers()['content-type'], 'application/pdf');
    // The draft is gone from /me; the application is listed.
    await page.goto(`${server.url}/me`);
    const me = await page.textContent('main');
    assert.match(me, /پیش‌نویسی ندارید/);
    assert.ok(me.includes(persian(`${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`)), me);
    await context.close();
    // The texted code, and tracking without signing in.
    // The outbox delivers within seconds.
    const grouped = persian(`${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`);
    let texted = false;
    for (let i = 0; i < 100 && !texted; i += 1) {
      texted = server.messages().some((m) => m.text?.includes(grouped) && m.text?.includes('ثبت ولادت'));
      if (!texted) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(texted, `an SMS gave the tracking code: ${JSON.stringify(server.messages().slice(-3))}`);
    assert.match(await track(code, CITIZEN.nationalId), /ثبت شد؛ در نوبت بررسی/);
  });

  test('a citizen renews a driving licence online, with the medical result as the form\'s file field', async () => {
    const { context, page } = await citizenPage();
    await page.goto(`${server.url}/me/apply/tehran.driving-licence-renewal`);
    await page.getByLabel(/^نام \(/).fill('سارا');
    await page.getByLabel('نام خانوادگی').fill('رضایی');
    await page.getByLabel('شمارهٔ همراه').fill('09121234567');
    await page.getByLabel('شمارهٔ گواهینامهٔ پیشین').fill('9512345678');
    await page.getByLabel('تاریخ پایان اعتبار').fill('1404/06/30');
    await page.getByLabel('خیر').check();
    await page.getByLabel('کد پستی برای ارسال').fill('1345678913');
    await page.getByLabel(/^نتیجهٔ معاینهٔ پزشکی \(الزامی/).setInputFiles(scan('scan.pdf'));
    await attachAll(page, [
      ['اصل شناسنامه و رونوشت آن', 'scan.pdf'],
      ['کارت ملی', 'photo.png'],
      ['گواهینامهٔ پیشین', 'scan.pdf'],
      ['عکس ۳×۴ رنگی', 'photo.png'],
      ['نتیجهٔ معاینهٔ پزشکی (کمتر از ۶ ماه)', 'scan.pdf'],
    ]);
    await page.getByRole('button', { name: 'ادامه و بازبینی' }).click();
    await reached(page, /\/review$/);
    assert.match(await page.textContent('main'), /تمدید گواهینامهٔ رانندگی/);
    await page.getByRole('button', { name: 'ثبت درخواست' }).click();
    await page.waitForURL(/\?filed=1$/);
    const code = page.url().match(/applications\/(\d{11})/)[1];
    await context.close();
    assert.match(await track(code, CITIZEN.nationalId), /تمدید گواهینامهٔ رانندگی/);
  });

  test('an operator files a building permit for a walk-in citizen with consent and prints the receipt', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('نام کاربری').fill('operator.1001');
    await page.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(/\/account$/);
    await page.goto(`${server.url}/counter`);
    await page.getByLabel('کد ملی').fill(CITIZEN.nationalId);
    await page.getByLabel('درخواست', { exact: true }).selectOption({ label: 'صدور پروانهٔ ساختمان' });
    const sent = server.messages().length;
    await page.getByRole('button', { name: 'فرستادن کد رضایت' }).click();
    await page.getByLabel('کدی که مراجع می‌گوید').fill(await smsCode(sent));
    await page.getByRole('button', { name: 'ثبت رضایت' }).click();
    assert.match(await page.textContent('main'), /رضایت ثبت شد/);
    // The service the consent was given for is the one offered.
    assert.equal(await page.locator('#service').inputValue(), 'tehran.building-permit');
    await page.getByRole('button', { name: 'شروع ثبت درخواست' }).click();
    await page.waitForURL(/\/counter\/drafts\/[0-9a-f]+$/);
    assert.match(await page.textContent('main'), /صدور پروانهٔ ساختمان/);
    assert.deepEqual(await axeViolations(page), [], 'the counter filing page');
    await page.getByLabel(/^نام \(/).fill('علی');
    await page.getByLabel('نام خانوادگی').fill('محمدی');
    await page.getByLabel('شمارهٔ همراه').fill('09121234567');
    await page.getByLabel('مساحت زمین (متر مربع)').fill('۲۴۰');
    await page.getByLabel('تعداد طبقات').fill('۳');
    await page.getByLabel('کاربری').selectOption('home');
    await attachAll(page, [
      ['سند مالکیت', 'scan.pdf'],
      ['رونوشت سند', 'scan.pdf'],
      ['کارت ملی یا وکالت‌نامهٔ محضری', 'photo.png'],
      ['رسید عوارض نوسازی سال جاری', 'scan.pdf'],
      ['نقشهٔ UTM (زمین خالی)', 'scan.pdf'],
    ]);
    await page.getByRole('button', { name: 'ادامه و بازبینی' }).click();
    await reached(page, /\/review$/);
    assert.match(await page.textContent('main'), new RegExp(persian(CITIZEN.nationalId)));
    await page.getByRole('button', { name: 'ثبت درخواست' }).click();
    await page.waitForURL(/\/counter\/applications\/\d{11}\?filed=1$/);
    const code = page.url().match(/applications\/(\d{11})/)[1];
    const shown = await page.textContent('main');
    assert.match(shown, /درخواست ثبت شد/);
    assert.match(shown, /صدور پروانهٔ ساختمان/);
    await page.screenshot({ path: path.join(artifacts, 'counter-filed-360.png'), fullPage: true });
    assert.deepEqual(await axeViolations(page), [], 'the filed page');
    const receiptHref = await page.getByRole('link', { name: 'چاپ رسید' }).getAttribute('href');
    const receipt = await context.request.get(`${server.url}${receiptHref}`);
    assert.equal(receipt.status(), 200);
    const pdf = path.join(artifacts, 'counter-receipt.pdf');
    fs.writeFileSync(pdf, await receipt.body());
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    assert.ok(text.includes(code.slice(0, 4)) || text.includes(persian(code.slice(0, 4))), text);
    await context.close();
    // The citizen tracks it with the code from the receipt.
    const tracked = await track(code, CITIZEN.nationalId);
    assert.match(tracked, /صدور پروانهٔ ساختمان/);
    assert.match(tracked, /ثبت شد؛ در نوبت بررسی/);
  });
});
