// What the person takes away (issue 19): the municipality's clerk takes a building permit through
// its own stages at the desk; the permit is issued with the holder's name; the citizen downloads
// it from their application's page; a stranger's phone at /verify confirms it from its code, and
// is told plainly when a code is wrong. At 360 px and at desktop, in Persian, without JavaScript.
// A business licence's stage waits for three other agencies' answers through the exchange.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { verifyOutputCredential } from '../oracles/vc.mjs';
import { artifacts, axeViolations, launchBrowser, signInCitizen, startServer } from './harness.mjs';

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

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

describe('an output anyone can verify', () => {
  test('a building permit goes through its stages, is downloaded by its holder and verified by a stranger', async () => {
    // The municipality's system files the permit for the citizen (a complete example body).
    pishkhan('user', 'create', '--username', 'system.municipality', '--name', 'سامانهٔ شهرداری',
      '--role', 'system', '--scope', 'agency:tehran-municipality');
    const token = pishkhan('token', 'create', '--username', 'system.municipality', '--label', 'browser')
      .split('(shown only now): ')[1].trim();
    const example = JSON.parse(pishkhan('applications', 'example', 'tehran.building-permit'));
    example.national_id = '0082451291';
    example.mobile = '09121234567';
    const filed = await api('POST', '/api/v1/applications', token, example);
    assert.equal(filed.status, 201, JSON.stringify(filed.json));
    const code = filed.json.code;

    // The clerk works it at the desk, stage by stage, writing down what each stage asks.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    const desk = await context.newPage();
    await desk.goto(`${server.url}/signin`);
    await desk.getByLabel('نام کاربری').fill('clerk.municipality');
    await desk.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await desk.getByRole('button', { name: 'ورود' }).click();
    await desk.waitForURL(/\/account$/);
    await desk.goto(`${server.url}/desk/applications/${code}`);
    const take = async (action, fields = {}, expect) => {
      await desk.getByLabel(action, { exact: true }).check();
      for (const [label, value] of Object.entries(fields)) {
        await desk.getByLabel(label, { exact: true }).fill(value);
      }
      await desk.getByRole('button', { name: 'ثبت اقدام' }).click();
      await desk.waitForURL(/done=1$/);
      if (expect) assert.match(await desk.textContent('main'), expect);
    };
    await take('شروع بررسی', {}, /بررسی پرونده/);
    await take('پایان بررسی پرونده', {}, /بازدید محل به دست کارشناس شهرداری/);
    // A stage that asks for a value refuses without it, in Persian, and nothing moves.
    await desk.getByLabel('ثبت نتیجهٔ بازدید', { exact: true }).check();
    await desk.getByRole('button', { name: 'ثبت اقدام' }).click();
    assert.match(await desk.textContent('main'), /«خلاصهٔ گزارش بازدید» را بنویسید/);
    await take('ثبت نتیجهٔ بازدید', { 'خلاصهٔ گزارش بازدید': 'زمین ۲۰۰ متری، بر اصلاحی ندارد.' }, /کنترل ضوابط طرح تفصیلی/);
    await take('صدور دستور نقشه', {}, /تهیهٔ نقشه‌ها و تأیید نظام مهندسی/);
    await take('ثبت تأیید نقشه‌ها', {}, /محاسبهٔ عوارض/);
    await take('ثبت عوارض', { 'عوارض پروانه (ریال)': '۴۵۰٬۰۰۰٬۰۰۰' }, /در انتظار پرداخت عوارض و بیمه/);
    // The citizen pays the permit's fee online at the sandbox bank (the demo starts it), on a
    // phone; the application moves on by itself: the clerk confirms no payment.
    const payer = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const paying = await payer.newPage();
    await paying.goto(`${server.url}/signin/citizen`);
    await signInCitizen(paying, server, '0082451291', '09121234567');
    await paying.goto(`${server.url}/me/applications/${code}`);
    assert.match(await paying.locator('section.bill').textContent(), /۴۵۰٬۰۰۰٬۰۰۰ ریال/);
    await shot(paying, 'pay-bill-360');
    await paying.getByRole('button', { name: /پرداخت اینترنتی/ }).click();
    await paying.waitForURL(/\/pay\/SBX/);
    assert.match(await paying.textContent('body'), /هیچ پولی جابه‌جا نمی‌شود/);
    await shot(paying, 'pay-bank-360');
    await paying.getByRole('button', { name: 'پرداخت', exact: true }).click();
    // Without JavaScript the bank's page waits for a tap to go back.
    await paying.getByRole('button', { name: 'بازگشت به پیشخوان' }).click();
    await paying.waitForURL(/payment=PAY-/);
    const paid = await paying.textContent('main');
    assert.match(paid, /پرداخت ثبت شد/);
    assert.match(paid, /تأیید فنی و تعهدات محضری/);
    assert.doesNotMatch(paid, /پرداخت اینترنتی/);
    await shot(paying, 'pay-done-360');
    await payer.close();
    await desk.goto(`${server.url}/desk/applications/${code}`);
    assert.match(await desk.textContent('main'), /تأیید فنی و تعهدات محضری/);
    await take('تأیید فنی', {}, /تنظیم و امضای پروانه/);
    await shot(desk, 'output-desk-before-issue');
    await take('صدور پروانه', {
      'شمارهٔ پروانه': '۱۴۰۵/۲۳۴۵',
      'تعداد طبقات مجاز': '۴',
      'نام و نام خانوادگی دارنده (چنان‌که در سوابق دستگاه است)': 'مریم احمدی',
    }, /صادر شد؛ آمادهٔ تحویل/);
    const deskText = await desk.textContent('main');
    assert.match(deskText, /پروانهٔ ساختمان/);
    const verification = deskText.match(/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/)[0];
    await shot(desk, 'output-desk-issued');
    await context.close();
    // The same page, checked for accessibility (axe needs JavaScript; the page does not).
    const checked = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const axeDesk = await checked.newPage();
    await axeDesk.goto(`${server.url}/signin`);
    await axeDesk.getByLabel('نام کاربری').fill('clerk.municipality');
    await axeDesk.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await axeDesk.getByRole('button', { name: 'ورود' }).click();
    await axeDesk.waitForURL(/\/account$/);
    await axeDesk.goto(`${server.url}/desk/applications/${code}`);
    assert.deepEqual(await axeViolations(axeDesk), []);
    await checked.close();

    // The citizen downloads it from their application's page.
    const phone = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const me = await phone.newPage();
    await me.goto(`${server.url}/signin/citizen`);
    await signInCitizen(me, server, '0082451291', '09121234567');
    await me.goto(`${server.url}/me/applications/${code}`);
    assert.match(await me.textContent('main'), new RegExp(verification));
    await shot(me, 'output-me-360');
    const link = me.getByRole('link', { name: 'دریافت خروجی (پی‌دی‌اف)' });
    const href = await link.getAttribute('href');
    const pdf = await me.request.get(`${server.url}${href}`);
    assert.equal(pdf.status(), 200);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    const body = await pdf.body();
    assert.equal(body.subarray(0, 4).toString(), '%PDF');
    fs.mkdirSync(artifacts, { recursive: true });
    const file = path.join(artifacts, 'output-building-permit.pdf');
    fs.writeFileSync(file, body);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    assert.ok(text.includes(verification), 'the code is printed');
    assert.ok(text.includes(`${code}-1`), 'the number is printed');
    execFileSync('pdftoppm', ['-png', '-r', '60', '-singlefile', file, path.join(artifacts, 'output-building-permit')]);
    // The same permit as a W3C Verifiable Credential, checked by an implementation nobody here
    // wrote (Digital Bazaar's), with only the contexts Pishkhan ships and its own addresses.
    const vcHref = await me.getByRole('link', { name: 'دریافت اعتبارنامهٔ دیجیتال' }).getAttribute('href');
    const vcResponse = await me.request.get(`${server.url}${vcHref}`);
    assert.equal(vcResponse.status(), 200);
    assert.equal(vcResponse.headers()['content-type'], 'application/vc');
    const credential = await vcResponse.json();
    fs.writeFileSync(path.join(artifacts, 'output-building-permit.vc.json'), JSON.stringify(credential, null, 2));
    assert.equal(credential.credentialSubject.name, 'مریم احمدی');
    assert.equal(credential.credentialSubject.outputNumber, `${code}-1`);
    assert.equal(credential.proof.cryptosuite, 'eddsa-jcs-2022');
    assert.deepEqual(await verifyOutputCredential(server.url, credential), { verified: true, revoked: false, error: null });
    // The agency's system gets the very same credential.
    const viaApi = await api('GET', `/api/v1/outputs/${code}-1/credential`, token);
    assert.equal(viaApi.status, 200);
    assert.deepEqual(viaApi.json, credential);
    // One changed letter, or another issuer's key, and it no longer verifies.
    const forgedCredential = structuredClone(credential);
    forgedCredential.credentialSubject.name = 'مریم احمدي';
    assert.equal((await verifyOutputCredential(server.url, forgedCredential)).verified, false);
    const otherKey = structuredClone(credential);
    otherKey.proof.verificationMethod = 'https://example.org/keys/1';
    assert.equal((await verifyOutputCredential(server.url, otherKey)).verified, false);
    // Someone else's output is not theirs to download.
    const stranger = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const otherPage = await stranger.newPage();
    const refused = await otherPage.request.get(`${server.url}${href}`, { maxRedirects: 0 });
    assert.notEqual(refused.status(), 200);
    const refusedVc = await otherPage.request.get(`${server.url}${vcHref}`, { maxRedirects: 0 });
    assert.notEqual(refusedVc.status(), 200);
    await phone.close();

    // A stranger's phone at /verify: the code as typed, lower case with spaces.
    const verify = await stranger.newPage();
    await verify.goto(`${server.url}/verify`);
    await verify.getByLabel('کد تصدیق').fill(verification.toLowerCase().replaceAll('-', ' '));
    await verify.getByRole('button', { name: 'بسنج' }).click();
    const verified = await verify.textContent('main');
    assert.match(verified, /این سند معتبر است/);
    assert.match(verified, /مریم احمدی/);
    assert.match(verified, /پروانهٔ ساختمان/);
    assert.doesNotMatch(verified, /0082451291|۰۰۸۲۴۵۱۲۹۱/, 'never the full national ID');
    await shot(verify, 'output-verify-360');
    const checkedVerify = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const axeVerify = await checkedVerify.newPage();
    await axeVerify.goto(`${server.url}/verify?code=${verification}`);
    assert.match(await axeVerify.textContent('main'), /این سند معتبر است/);
    assert.deepEqual(await axeViolations(axeVerify), []);
    await checkedVerify.close();
    // A wrong code is told plainly.
    await verify.goto(`${server.url}/verify?code=AAAA-BBBB-CCCC`);
    assert.match(await verify.textContent('main'), /سندی با این کد صادر نشده است/);
    // The QR code's link, as a phone's camera opens it; and with one character changed.
    const detail = await api('GET', `/api/v1/applications/${code}`, token);
    const payload = detail.json.outputs[0].payload;
    await verify.goto(`${server.url}/verify?p=${payload}`);
    assert.match(await verify.textContent('main'), /این سند معتبر است/);
    const at = payload.length - 20;
    const forged = payload.slice(0, at) + (payload[at] === 'A' ? 'B' : 'A') + payload.slice(at + 1);
    await verify.goto(`${server.url}/verify?p=${forged}`);
    assert.match(await verify.textContent('main'), /دست‌کاری شده است/);
    await shot(verify, 'output-verify-tampered-360');
    const shown = await api('GET', `/api/v1/verify/${verification}`, token);
    assert.equal(shown.json.status, 'valid');
    assert.equal(shown.json.output.national_id, '•••••••291');
    const keys = await api('GET', '/api/v1/keys', token);
    assert.equal(keys.json.keys[0].algorithm, 'Ed25519');

    // The municipality finds a mistake and revokes the permit, with the reason: the stranger's
    // check says so, and so does the credential's status list, read by the same independent code.
    const revoking = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    const clerk = await revoking.newPage();
    await clerk.goto(`${server.url}/signin`);
    await clerk.getByLabel('نام کاربری').fill('clerk.municipality');
    await clerk.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await clerk.getByRole('button', { name: 'ورود' }).click();
    await clerk.waitForURL(/\/account$/);
    await clerk.goto(`${server.url}/desk/applications/${code}`);
    await clerk.getByText('ابطال خروجی', { exact: true }).first().click();
    await clerk.getByLabel('دلیل ابطال').fill('شمارهٔ پلاک ثبتی اشتباه نوشته شده است.');
    await clerk.getByRole('button', { name: 'ابطال خروجی' }).click();
    assert.match(await clerk.textContent('main'), /باطل شده/);
    await shot(clerk, 'output-desk-revoked');
    await revoking.close();
    await verify.goto(`${server.url}/verify?code=${verification}`);
    const revokedText = await verify.textContent('main');
    assert.match(revokedText, /باطل شده/);
    assert.match(revokedText, /شمارهٔ پلاک ثبتی اشتباه نوشته شده است/);
    await shot(verify, 'output-verify-revoked-360');
    assert.deepEqual(await verifyOutputCredential(server.url, credential), { verified: true, revoked: true, error: null });
    await stranger.close();
  });

  test('a business licence waits for the union, the public-places police and the health network, asked through the exchange', async () => {
    pishkhan('user', 'create', '--username', 'system.guilds', '--name', 'سامانهٔ اتاق اصناف',
      '--role', 'system', '--scope', 'agency:tehran-guilds');
    const token = pishkhan('token', 'create', '--username', 'system.guilds', '--label', 'browser')
      .split('(shown only now): ')[1].trim();
    const example = JSON.parse(pishkhan('applications', 'example', 'tehran.business-licence'));
    example.national_id = '0082451291';
    example.mobile = '09121234567';
    const filed = await api('POST', '/api/v1/applications', token, example);
    assert.equal(filed.status, 201, JSON.stringify(filed.json));
    const code = filed.json.code;

    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const desk = await context.newPage();
    await desk.goto(`${server.url}/signin`);
    await desk.getByLabel('نام کاربری').fill('clerk.guilds');
    await desk.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await desk.getByRole('button', { name: 'ورود' }).click();
    await desk.waitForURL(/\/account$/);
    await desk.goto(`${server.url}/desk/applications/${code}`);
    const take = async (action, fields = {}) => {
      await desk.getByLabel(action, { exact: true }).check();
      for (const [label, value] of Object.entries(fields)) {
        await desk.getByLabel(label, { exact: true }).fill(value);
      }
      await desk.getByRole('button', { name: 'ثبت اقدام' }).click();
    };
    await take('شروع بررسی');
    await desk.waitForURL(/done=1$/);
    assert.match(await desk.textContent('main'), /استعلام از اتحادیهٔ صنفی، پلیس اماکن و شبکهٔ بهداشت/);
    // Ending the stage before the answers came is refused, naming what is missing; nothing moves.
    await take('ثبت پاسخ استعلام‌ها');
    const refusedText = await desk.textContent('main');
    assert.match(refusedText, /پاسخ این استعلام‌ها لازم است/);
    assert.match(refusedText, /استعلام پلیس اماکن عمومی/);
    assert.match(refusedText, /استعلام بهداشت محیط محل کسب/);
    await shot(desk, 'licence-desk-inquiries-needed-360');
    // The clerk asks each one from the page: the applicant's national ID and the shop's postal
    // code are already filled from the application; the simulator answers as each agency.
    for (const inquiry of ['استعلام عضویت و تأیید اتحادیهٔ صنفی', 'استعلام پلیس اماکن عمومی', 'استعلام بهداشت محیط محل کسب']) {
      await desk.goto(`${server.url}/desk/applications/${code}`);
      await desk.getByRole('button', { name: `استعلام ${inquiry}` }).click();
      const answer = await desk.locator('#inquiry-answer').textContent();
      assert.match(answer, new RegExp(inquiry));
    }
    const log = await desk.locator('#inquiry-log').textContent();
    assert.equal((log.match(/پاسخ داد/g) ?? []).length >= 3, true, log);
    await shot(desk, 'licence-desk-inquiries-answered-360');
    await desk.goto(`${server.url}/desk/applications/${code}`);
    await take('ثبت پاسخ استعلام‌ها');
    await desk.waitForURL(/done=1$/);
    assert.match(await desk.textContent('main'), /بازدید اتحادیه از محل کسب/);
    await take('ثبت نتیجهٔ بازدید');
    await desk.waitForURL(/done=1$/);
    // The union's fee is not announced on the card (a bill of nothing): the clerk moves it on.
    await take('تأیید پرداخت');
    await desk.waitForURL(/done=1$/);
    await take('صدور', {
      'شناسهٔ یکتای پروانه': '۱۴۰۵۰۰۷۷۱۲',
      'نام و نام خانوادگی دارنده (چنان‌که در سوابق دستگاه است)': 'مریم احمدی',
    });
    await desk.waitForURL(/done=1$/);
    const issuedText = await desk.textContent('main');
    assert.match(issuedText, /صادر شد؛ آمادهٔ تحویل/);
    await shot(desk, 'licence-desk-issued-360');
    await context.close();
    const wide = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const look = await wide.newPage();
    await look.goto(`${server.url}/signin`);
    await look.getByLabel('نام کاربری').fill('clerk.guilds');
    await look.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
    await look.getByRole('button', { name: 'ورود' }).click();
    await look.waitForURL(/\/account$/);
    await look.goto(`${server.url}/desk/applications/${code}`);
    await shot(look, 'licence-desk-issued-desktop');
    assert.deepEqual(await axeViolations(look), []);
    await wide.close();
  });
});
