// The exchange with agencies' systems as the registry's admin meets it: the demo's agency
// simulator receives a filing's event as a signed webhook; the admin sees the webhook at
// /admin/exchange (360 px and desktop), is refused a bad URL in Persian, and rotates the signing
// secret, shown once, without the agency's system missing an event. An operator asks the
// registry's identity inquiry for a walk-in citizen under their consent, files a birth
// certificate for them, and the registry's clerk sees that round trip on the application. Once
// only: a citizen lets Pishkhan fetch a parent's birth record from the registry instead of
// uploading a scan; the clerk reads where it came from and what it says.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, launchBrowser, signInCitizen, startServer, textedCode } from './harness.mjs';

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

const pishkhan = (...args) => server.cli(...args);

/** The simulator's address, from the demo's banner. */
async function simulator() {
  for (let i = 0; i < 50; i += 1) {
    const line = server.printed.find((l) => l.includes('agency systems: a simulator'));
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
    assert.match(await page.textContent('main'), /استعلام هویت با کد ملی و تاریخ تولد/, 'its inquiries listed');
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

/** Fills the birth certificate's forms for the demo's citizen, born `born` (a Jalali date). */
async function fillBirthCertificate(page, born) {
  await page.getByLabel(/^نام \(/).fill('مریم');
  await page.getByLabel('نام خانوادگی').fill('احمدی');
  await page.getByLabel('شمارهٔ همراه').fill('09121234567');
  await page.getByLabel('نام نوزاد').fill('سارا');
  await page.getByLabel('جنس').selectOption('girl');
  await page.getByLabel(/^تاریخ تولد \(/).fill(born);
  await page.getByLabel('محل تولد (شهر)').fill('تهران');
  await page.getByLabel('کد ملی مادر').fill('0082451291');
  await page.getByRole('radio', { name: 'بله' }).first().check();
}

/** Attaches `pdf` for each of `labels`, reviews and files; answers the tracking code. */
async function attachReviewAndFile(page, pdf, labels, filed) {
  for (const label of labels) {
    await page.getByLabel(label, { exact: true }).setInputFiles(pdf);
  }
  await page.getByRole('button', { name: 'ادامه و بازبینی' }).click();
  try {
    await page.waitForURL(/\/review$/, { timeout: 10000 });
  } catch {
    throw new Error(`not reviewed: ${(await page.locator('.error-summary').allTextContents()).join(' | ')}`);
  }
  await page.getByRole('button', { name: 'ثبت درخواست' }).click();
  await page.waitForURL(filed);
  return page.url().match(/applications\/(\d{11})/)[1];
}

async function signIn(context, username) {
  const page = await context.newPage();
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('نام کاربری').fill(username);
  await page.getByLabel('گذرواژه').fill(PASSWORD);
  await page.getByRole('button', { name: 'ورود' }).click();
  await page.waitForURL(/\/account$/);
  return page;
}

describe('inquiries', () => {
  test('an operator asks the registry for a walk-in citizen while filing; the clerk sees the round trip', async () => {
    const scans = fs.mkdtempSync(path.join(server.dataDir, '..', 'scans-'));
    const pdf = path.join(scans, 'scan.pdf');
    fs.writeFileSync(pdf, '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const sim = await simulator();
    const before = (await (await fetch(`${sim}/records`)).json()).inquiries;

    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    context.setDefaultTimeout(15000);
    const page = await signIn(context, 'operator.1001');
    await page.goto(`${server.url}/counter`);
    await page.getByLabel('کد ملی').first().fill('0082451291');
    await page.getByLabel('درخواست', { exact: true }).selectOption({ label: 'ثبت ولادت و صدور شناسنامهٔ نوزاد' });
    const sent = server.messages().length;
    await page.getByRole('button', { name: 'فرستادن کد رضایت' }).click();
    await page.getByLabel('کدی که مراجع می‌گوید').fill(await textedCode(server, sent));
    await page.getByRole('button', { name: 'ثبت رضایت' }).click();
    assert.match(await page.textContent('main'), /رضایت ثبت شد/);

    // The inquiry, under the consent: a wrong date first (nothing found), then the right one.
    const card = page.locator('li.card', { hasText: '۰۰۸۲۴۵۱۲۹۱' }).first();
    // The registry answers two inquiries to operators (identity, and the birth record); this one.
    const identity = card.locator('details', { hasText: 'استعلام هویت با کد ملی و تاریخ تولد' });
    await identity.locator('summary').click();
    assert.equal(await identity.getByLabel('کد ملی').inputValue(), '0082451291', 'the consent\'s person');
    await identity.getByLabel('تاریخ تولد').fill('۱۳۶۸/۰۴/۱۲');
    await identity.getByRole('button', { name: /استعلام/ }).click();
    const answer = await page.textContent('#inquiry-answer');
    assert.match(answer, /مریم/);
    assert.match(answer, /احمدی/);
    assert.deepEqual(await axeViolations(page), [], 'the counter with an answer');
    await page.screenshot({ path: path.join(artifacts, 'counter-inquiry-360.png'), fullPage: true });
    const after = (await (await fetch(`${sim}/records`)).json()).inquiries;
    assert.equal(after, before + 1, 'the simulator answered once');

    // Filing under the same consent, from its card.
    await card.getByLabel('خدمت').selectOption({ label: 'ثبت ولادت و صدور شناسنامهٔ نوزاد' })
      .catch(() => card.locator('select[name=service]').selectOption('tehran.birth-certificate'));
    await card.getByRole('button', { name: 'ادامهٔ ثبت' }).click();
    await page.waitForURL(/\/counter\/drafts\/[0-9a-f]+$/);
    await fillBirthCertificate(page, '۱۴۰۵/۰۹/۰۱');
    const code = await attachReviewAndFile(page, pdf,
      ['اصل شناسنامه و کارت ملی پدر و مادر', 'گواهی ولادت صادرشده از بیمارستان', 'کارت ترخیص مادر از بیمارستان', 'نشانی و کد پستی محل سکونت'],
      /\/counter\/applications\/\d{11}\?filed=1$/);
    await context.close();

    // The registry's clerk sees the round trip on the application, and asks again themself.
    const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const clerk = await signIn(desk, 'clerk.registry');
    await clerk.goto(`${server.url}/desk/applications/${code}`);
    const log = await clerk.textContent('#inquiry-log');
    assert.match(log, /استعلام هویت با کد ملی و تاریخ تولد/);
    assert.match(log, /پاسخ داد/);
    assert.match(log, /کاربر پیشخوان/, 'asked at the counter');
    const ask = clerk.locator('form.inquiry', { hasText: 'استعلام هویت با کد ملی و تاریخ تولد' });
    await ask.getByLabel('تاریخ تولد').fill('۱۳۶۸/۰۴/۱۲');
    await ask.getByRole('button', { name: /استعلام/ }).click();
    assert.match(await clerk.textContent('#inquiry-answer'), /مریم/);
    assert.equal(await clerk.locator('#inquiry-log tbody tr').count(), 2);
    assert.deepEqual(await axeViolations(clerk), [], 'the desk with inquiries');
    await clerk.locator('#inquiries-heading').scrollIntoViewIfNeeded();
    await clerk.screenshot({ path: path.join(artifacts, 'desk-inquiry-desktop.png'), fullPage: true });
    await desk.close();
  });
});

describe('once only', () => {
  test('a citizen lets Pishkhan fetch the birth record instead of a scan; the clerk sees where it came from', async () => {
    const scans = fs.mkdtempSync(path.join(server.dataDir, '..', 'once-'));
    const pdf = path.join(scans, 'scan.pdf');
    fs.writeFileSync(pdf, '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const sim = await simulator();
    const asked = async () => (await (await fetch(`${sim}/records`)).json()).inquiries;

    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    await page.goto(`${server.url}/signin/citizen`);
    await signInCitizen(page, server, '0082451291', '09121234567');
    await page.goto(`${server.url}/me/apply/tehran.birth-certificate`);
    await fillBirthCertificate(page, '۱۴۰۵/۰۸/۰۱');

    const offer = page.locator('details.fetch');
    assert.equal(await offer.count(), 1, 'only the document the registry can supply');
    await offer.locator('summary').click();
    assert.match(await offer.textContent(), /ثبت احوال/);
    const birthDate = page.getByLabel(/^تاریخ تولد برای گرفتن مدرک/);
    const fetchIt = page.getByRole('button', { name: 'گرفتن مدرک' });

    // Without the consent box: nothing is asked, and the page says why, in place.
    const before = await asked();
    await birthDate.fill('۱۳۶۸/۰۴/۱۲');
    await fetchIt.click();
    assert.match(await page.textContent('.error-summary'), /رضایت/);
    assert.equal(await asked(), before, 'nothing asked without consent');
    assert.equal(await page.getByLabel('نام نوزاد').inputValue(), 'سارا', 'nothing typed is lost');

    // A wrong date: the registry finds nothing; said so, with the way out (upload a scan).
    await page.getByLabel(/^تاریخ تولد برای گرفتن مدرک/).fill('۱۳۶۸/۰۴/۱۳');
    await page.getByLabel(/رضایت می‌دهم/).check();
    await page.getByRole('button', { name: 'گرفتن مدرک' }).click();
    const notFound = await page.textContent('.error-summary');
    assert.match(notFound, /سابقه‌ای نیافت/);
    assert.match(notFound, /بارگذاری/);
    assert.equal(await page.getByLabel(/^تاریخ تولد برای گرفتن مدرک/).inputValue(), '۱۳۶۸/۰۴/۱۳', 'what was typed stays');
    assert.deepEqual(await axeViolations(page), [], 'the form with a failed fetch');

    // The right date: fetched, and shown in place of a file.
    await page.getByLabel(/^تاریخ تولد برای گرفتن مدرک/).fill('۱۳۶۸/۰۴/۱۲');
    await page.getByLabel(/رضایت می‌دهم/).check();
    await page.getByRole('button', { name: 'گرفتن مدرک' }).click();
    await page.waitForURL(/fetched=0/);
    assert.match(await page.textContent('main'), /از سامانهٔ دستگاه گرفته شد/);
    assert.equal(await asked(), before + 2);
    assert.deepEqual(await axeViolations(page), [], 'the form with a fetched document');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'fits 360 px');
    await page.locator('#doc-0').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(artifacts, 'once-only-360.png'), fullPage: true });

    const code = await attachReviewAndFile(page, pdf,
      ['گواهی ولادت صادرشده از بیمارستان', 'کارت ترخیص مادر از بیمارستان', 'نشانی و کد پستی محل سکونت'],
      /\/me\/applications\/\d{11}\?filed=1$/);
    await context.close();

    // The registry's clerk reads the fetched record, where it came from, and the call in the log.
    const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const clerk = await signIn(desk, 'clerk.registry');
    await clerk.goto(`${server.url}/desk/applications/${code}`);
    const fetched = await clerk.textContent('.fetched-document');
    assert.match(fetched, /با رضایت شخص از سامانهٔ دستگاه گرفته شد/);
    assert.match(fetched, /استعلام ثبت ولادت/);
    assert.match(fetched, /ردیف گزارش تبادل/);
    for (const value of ['مریم', 'احمدی', 'حسن', 'تهران', '۴۵۸۲۱۷']) {
      assert.ok(fetched.includes(value), `the record shows ${value}: ${fetched}`);
    }
    const log = await clerk.textContent('#inquiry-log');
    assert.match(log, /استعلام ثبت ولادت/);
    assert.match(log, /شهروند/, 'asked by the citizen, for their draft');
    assert.deepEqual(await axeViolations(clerk), [], 'the desk with a fetched document');
    await clerk.locator('#documents-heading').scrollIntoViewIfNeeded();
    await clerk.screenshot({ path: path.join(artifacts, 'once-only-desk-desktop.png'), fullPage: true });
    await desk.close();

    // The exchange log verifies, and the fetched document is the answer its call logged.
    const verified = pishkhan('exchange', 'verify');
    assert.match(verified, /Documents fetched from inquiries: [1-9]\d*, each the answer its call logged\./);
  });
});
