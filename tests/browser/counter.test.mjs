// The counter's money (issue 20), on a phone: an operator files a walk-in's renovation charges,
// the municipality bills them, and the operator takes the charge in cash; the operator pays the
// same walk-in's water bill (refused the second time, with when it was paid), hands over the
// receipt, and closes the till at the end of the day — first refused for an unexplained
// difference, then closed with the count that matches. The centre's manager closes the day; the
// water company's clerk sees the bill paid. 360 px, Persian, without JavaScript; axe-core on
// each new page.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, launchBrowser, signInCitizen, startServer, textedCode } from './harness.mjs';

let server;
let browser;
let scans;

before(async () => {
  server = await startServer(['demo']);
  browser = await launchBrowser();
  scans = fs.mkdtempSync(path.join(server.dataDir, '..', 'scans-'));
  fs.writeFileSync(path.join(scans, 'scan.pdf'), '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The demo's sample bills (printed in its banner): water, 845,000 rials, Tehran's water company;
// gas, paid online by a citizen below.
const WATER = { bill: '302145501110', payment: '84550823' };
const GAS = { bill: '880012303130', payment: '175050847' };

async function shot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function staff(username, width = 360) {
  const context = await browser.newContext({ viewport: { width, height: 800 }, javaScriptEnabled: false });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('نام کاربری').fill(username);
  await page.getByLabel('گذرواژه').fill('pishkhan-demo-1404-tehran');
  await page.getByRole('button', { name: 'ورود' }).click();
  await page.waitForURL(/\/account$/);
  return { context, page };
}

/** Accessibility, checked in a JavaScript-enabled twin of the signed-in context (axe needs
 * JavaScript; the page does not). */
async function accessible(context, url, what) {
  const twin = await browser.newContext({ viewport: { width: 360, height: 800 }, storageState: await context.storageState() });
  const page = await twin.newPage();
  await page.goto(url);
  assert.deepEqual(await axeViolations(page), [], what);
  await twin.close();
}

async function fitsAt360(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

describe('the counter takes money and closes its day', () => {
  test('an operator takes a charge in cash and a water bill for a walk-in, then closes the till; the manager closes the day', async () => {
    const { context, page } = await staff('operator.1001');
    // File the walk-in's renovation charges, with their consent by a texted code.
    await page.goto(`${server.url}/counter`);
    await page.getByLabel('کد ملی').fill('0082451291');
    await page.getByLabel('درخواست', { exact: true }).selectOption({ label: 'پرداخت عوارض نوسازی' });
    const sent = server.messages().length;
    await page.getByRole('button', { name: 'فرستادن کد رضایت' }).click();
    await page.getByLabel('کدی که مراجع می‌گوید').fill(await textedCode(server, sent));
    await page.getByRole('button', { name: 'ثبت رضایت' }).click();
    await page.getByRole('button', { name: 'شروع ثبت درخواست' }).click();
    await page.waitForURL(/\/counter\/drafts\/[0-9a-f]+$/);
    await page.getByLabel(/^نام \(/).fill('علی');
    await page.getByLabel('نام خانوادگی').fill('محمدی');
    await page.getByLabel('شمارهٔ همراه').fill('09121234567');
    await page.getByLabel('کد نوسازی').fill('۱۲-۳۴۵-۶۷');
    await page.getByLabel('سند مالکیت', { exact: true }).setInputFiles(path.join(scans, 'scan.pdf'));
    await page.getByRole('button', { name: 'ادامه و بازبینی' }).click();
    await page.waitForURL(/\/review$/);
    await page.getByRole('button', { name: 'ثبت درخواست' }).click();
    await page.waitForURL(/\/counter\/applications\/\d{11}\?filed=1$/);
    const code = page.url().match(/applications\/(\d{11})/)[1];

    // The municipality's clerk assesses the charge: 3,200,000 rials.
    const desk = await staff('clerk.municipality', 1280);
    await desk.page.goto(`${server.url}/desk/applications/${code}`);
    const take = async (action, fields = {}) => {
      await desk.page.getByLabel(action, { exact: true }).check();
      for (const [label, value] of Object.entries(fields)) {
        await desk.page.getByLabel(label, { exact: true }).fill(value);
      }
      await desk.page.getByRole('button', { name: 'ثبت اقدام' }).click();
      await desk.page.waitForURL(/done=1$/);
    };
    await take('شروع بررسی');
    await take('ثبت قبض', { 'عوارض نوسازی (ریال)': '۳٬۲۰۰٬۰۰۰' });
    assert.match(await desk.page.textContent('main'), /در انتظار پرداخت عوارض/);

    // The walk-in pays the charge in cash at the counter; the application moves on by itself.
    await page.goto(`${server.url}/counter/applications/${code}`);
    // The municipality's charge and the counter's own fee (its share, in the statement below).
    const bill = await page.locator('section.bill').textContent();
    assert.match(bill, /۳٬۲۰۰٬۰۰۰ ریال/);
    assert.match(bill, /کارمزد دفتر پیشخوان/);
    assert.match(bill, /۳٬۳۲۰٬۰۰۰ ریال/);
    await page.getByLabel('نقدی').check();
    await page.getByRole('button', { name: /ثبت دریافت/ }).click();
    await page.waitForURL(/payment=PAY-/);
    assert.match(await page.textContent('main'), /صدور رسید پرداخت/);
    await shot(page, 'counter-fee-paid-360');

    // The same walk-in's water bill: read, paid in cash, the receipt.
    await page.goto(`${server.url}/counter`);
    await page.getByRole('link', { name: 'پرداخت قبض' }).click();
    await page.getByLabel('شناسهٔ قبض').fill(WATER.bill);
    await page.getByLabel('شناسهٔ پرداخت').fill(WATER.payment);
    await page.getByRole('button', { name: 'خواندن قبض' }).click();
    const read = await page.textContent('main');
    assert.match(read, /شرکت آب و فاضلاب استان تهران/);
    assert.match(read, /۸۴۵٬۰۰۰ ریال/);
    assert.ok(await fitsAt360(page), 'the bill fits a phone');
    await shot(page, 'counter-bill-read-360');
    // Without choosing cash or card: told so, nothing taken.
    await page.getByRole('button', { name: /ثبت دریافت/ }).click();
    assert.match(await page.locator('.error-summary').textContent(), /نقدی یا کارت‌خوان/);
    await page.getByLabel('نقدی').check();
    await page.getByRole('button', { name: /ثبت دریافت/ }).click();
    await page.waitForURL(/\/counter\/payments\/PAY-[0-9A-F]{16}$/);
    const receiptUrl = page.url();
    const receipt = await page.textContent('main');
    assert.match(receipt, /رسید پرداخت/);
    assert.match(receipt, /قبض آب — پرونده ۳۰۲۱۴۵۵ — دورهٔ ۰۸/);
    assert.match(receipt, /۸۴۵٬۰۰۰ ریال/);
    await shot(page, 'counter-bill-receipt-360');
    // The receipt to print and hand over, as a PDF: it names the payment.
    const number = receiptUrl.match(/PAY-[0-9A-F]{16}/)[0];
    const pdfHref = await page.getByRole('link', { name: /دریافت رسید برای چاپ/ }).getAttribute('href');
    const pdfReply = await context.request.get(`${server.url}${pdfHref}`);
    assert.equal(pdfReply.status(), 200);
    assert.equal(pdfReply.headers()['content-type'], 'application/pdf');
    const pdfFile = path.join(artifacts, 'counter-bill-receipt.pdf');
    fs.writeFileSync(pdfFile, await pdfReply.body());
    const pdfText = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    assert.ok(pdfText.includes(number), pdfText);
    // The same bill again: refused, saying it is paid.
    await page.goto(`${server.url}/counter/bills?bill_id=${WATER.bill}&payment_id=${WATER.payment}`);
    assert.match(await page.textContent('main'), /پیش‌تر پرداخت شده است/);
    assert.equal(await page.getByRole('button', { name: /ثبت دریافت/ }).count(), 0);
    // A mistyped bill ID: its check digit, in Persian.
    await page.goto(`${server.url}/counter/bills?bill_id=302145501111&payment_id=${WATER.payment}`);
    assert.match(await page.locator('.error-summary').textContent(), /رقم کنترل شناسهٔ قبض/);

    // The till: 3,320,000 + 845,000 in cash by the books.
    await page.goto(`${server.url}/counter`);
    await page.getByRole('link', { name: 'صندوق روز و بستن آن' }).click();
    const till = await page.textContent('main');
    assert.match(till, /۴٬۱۶۵٬۰۰۰ ریال/);
    await page.getByLabel('نقدی شمارش‌شده').fill('۴٬۱۲۰٬۰۰۰');
    await page.getByLabel('جمع رسیدهای کارت‌خوان').fill('۰');
    await page.getByRole('button', { name: 'بستن صندوق' }).click();
    assert.match(await page.locator('.error-summary').textContent(), /کسری ۴۵٬۰۰۰ ریال/);
    await shot(page, 'counter-till-short-360');
    // Recounted: it matches; closed, no difference.
    await page.getByLabel('نقدی شمارش‌شده').fill('4,165,000');
    await page.getByRole('button', { name: 'بستن صندوق' }).click();
    await page.waitForURL(/done=closed/);
    assert.match(await page.textContent('main'), /بسته، بدون اختلاف/);
    assert.ok(await fitsAt360(page), 'the till fits a phone');
    await shot(page, 'counter-till-closed-360');
    // A closed till takes no more money today.
    await page.goto(`${server.url}/counter/bills?bill_id=551123402126&payment_id=61250856`);
    await page.getByLabel('نقدی').check();
    await page.getByRole('button', { name: /ثبت دریافت/ }).click();
    assert.match(await page.locator('.error-summary').textContent(), /صندوق شما برای امروز بسته شده است/);
    await accessible(context, `${server.url}/counter/bills?bill_id=${WATER.bill}&payment_id=${WATER.payment}`, 'the bill page');
    await accessible(context, receiptUrl, 'the receipt');
    await accessible(context, `${server.url}/counter/till`, 'the till');
    await context.close();

    // The manager sees the till closed and closes the centre's day.
    const manager = await staff('manager.1001');
    await manager.page.goto(`${server.url}/counter/till`);
    assert.match(await manager.page.textContent('main'), /زهرا کریمی/);
    await manager.page.getByRole('button', { name: 'بستن روز دفتر' }).click();
    await manager.page.waitForURL(/done=day/);
    assert.match(await manager.page.textContent('main'), /روز دفتر بسته شد/);
    assert.ok(await fitsAt360(manager.page), 'the centre\'s day fits a phone');
    await shot(manager.page, 'counter-day-closed-360');
    await accessible(manager.context, `${server.url}/counter/till`, 'the centre\'s day');
    // The month's statement: the counter's fee on the renovation charge is the centre's share,
    // the same on the page, in the PDF and in the spreadsheet.
    await manager.page.getByRole('link', { name: 'صورت‌حساب ماهانهٔ سهم دفتر' }).click();
    await manager.page.waitForURL(/\/counter\/statement/);
    const statement = await manager.page.textContent('main');
    assert.match(statement, /جمع سهم این ماه: ۱۲۰٬۰۰۰ ریال/);
    const persianCode = code.replace(/\d/g, (d) => '۰۱۲۳۴۵۶۷۸۹'[d]);
    assert.match(statement, new RegExp(`پروندهٔ ${persianCode}`));
    assert.ok(await fitsAt360(manager.page), 'the statement fits a phone');
    await shot(manager.page, 'counter-statement-360');
    const statementPdf = await manager.page.getByRole('link', { name: /صورت‌حساب \(پی‌دی‌اف\)/ }).getAttribute('href');
    const statementReply = await manager.context.request.get(`${server.url}${statementPdf.replaceAll('&amp;', '&')}`);
    assert.equal(statementReply.status(), 200);
    assert.equal(statementReply.headers()['content-type'], 'application/pdf');
    const statementFile = path.join(artifacts, 'counter-statement.pdf');
    fs.writeFileSync(statementFile, await statementReply.body());
    const statementText = execFileSync('pdftotext', ['-layout', statementFile, '-'], { encoding: 'utf8' });
    assert.ok(statementText.includes('۱۲۰٬۰۰۰'), statementText);
    const xlsxHref = await manager.page.getByRole('link', { name: /صورت‌حساب \(اکسل\)/ }).getAttribute('href');
    const xlsxReply = await manager.context.request.get(`${server.url}${xlsxHref.replaceAll('&amp;', '&')}`);
    assert.equal(xlsxReply.status(), 200);
    assert.match(xlsxReply.headers()['content-disposition'], /\.xlsx/);
    await accessible(manager.context, manager.page.url(), 'the statement');
    await manager.context.close();

    // The water company's clerk sees the bill paid.
    const water = await staff('clerk.water', 1280);
    await water.page.goto(`${server.url}/desk/applications`);
    await water.page.getByRole('link', { name: 'قبض‌های پرداخت‌شده' }).click();
    const seen = await water.page.textContent('main');
    assert.match(seen, /شرکت آب و فاضلاب استان تهران/);
    assert.match(seen, /۸۴۵٬۰۰۰ ریال/);
    await shot(water.page, 'desk-bills-1280');
    await accessible(water.context, `${server.url}/desk/bills`, 'the bills paid');
    // The payment's own page: taken at a counter, so not refunded through the bank.
    await water.page.getByRole('link', { name: number }).click();
    await water.page.waitForURL(/\/desk\/payments\/PAY-/);
    const paymentPage = await water.page.textContent('main');
    assert.match(paymentPage, /۸۴۵٬۰۰۰ ریال/);
    assert.match(paymentPage, /از راه درگاه بانک برنمی‌گردد/);
    assert.equal(await water.page.getByLabel('علت بازپرداخت').count(), 0);
    await shot(water.page, 'desk-payment-1280');
    await accessible(water.context, water.page.url(), 'a payment to the agency');
    await water.context.close();
    await desk.context.close();
  });
});

describe('a citizen pays a bill online', () => {
  test('reads the bill, pays it at the sandbox bank, gets the receipt and cannot pay it twice', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    await page.goto(`${server.url}/signin/citizen`);
    await signInCitizen(page, server, '0082451291', '09121234567');
    await page.goto(`${server.url}/me`);
    await page.getByRole('link', { name: 'پرداخت قبض' }).first().click();
    await page.waitForURL(/\/me\/bills$/);
    // A mistyped payment ID: told in Persian, nothing asked of the bank.
    await page.getByLabel('شناسهٔ قبض').fill(GAS.bill);
    await page.getByLabel('شناسهٔ پرداخت').fill('175050848');
    await page.getByRole('button', { name: 'خواندن قبض' }).click();
    assert.ok(await page.locator('.error-summary').count() > 0);
    // Read as printed, in Persian digits.
    await page.getByLabel('شناسهٔ قبض').fill('۸۸۰۰۱۲۳۰۳۱۳۰');
    await page.getByLabel('شناسهٔ پرداخت').fill(GAS.payment);
    await page.getByRole('button', { name: 'خواندن قبض' }).click();
    const read = await page.textContent('main');
    assert.match(read, /گاز/);
    assert.match(read, /۱٬۷۵۰٬۰۰۰ ریال/);
    assert.ok(await fitsAt360(page), 'the bill fits a phone');
    await shot(page, 'me-bill-read-360');
    await page.getByRole('button', { name: /پرداخت اینترنتی/ }).click();
    await page.waitForURL(/\/pay\/SBX/);
    await page.getByRole('button', { name: 'پرداخت', exact: true }).click();
    await page.getByRole('button', { name: 'بازگشت به پیشخوان' }).click();
    await page.waitForURL(/\/me\/bills\/PAY-[0-9A-F]{16}$/);
    const receipt = await page.textContent('main');
    assert.match(receipt, /قبض پرداخت شد/);
    assert.match(receipt, /۱٬۷۵۰٬۰۰۰ ریال/);
    assert.match(receipt, /پرداخت اینترنتی/);
    assert.ok(await fitsAt360(page), 'the receipt fits a phone');
    await shot(page, 'me-bill-receipt-360');
    const number = page.url().match(/PAY-[0-9A-F]{16}/)[0];
    const pdfHref = await page.getByRole('link', { name: /دریافت رسید برای چاپ/ }).getAttribute('href');
    const pdfReply = await context.request.get(`${server.url}${pdfHref}`);
    assert.equal(pdfReply.status(), 200);
    const pdfFile = path.join(artifacts, 'me-bill-receipt.pdf');
    fs.writeFileSync(pdfFile, await pdfReply.body());
    const pdfText = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    assert.ok(pdfText.includes(number), pdfText);
    // Listed as paid; the same bill again is refused before the bank is asked.
    await page.goto(`${server.url}/me/bills?bill_id=${GAS.bill}&payment_id=${GAS.payment}`);
    const again = await page.textContent('main');
    assert.match(again, /پیش‌تر پرداخت شده است/);
    assert.equal(await page.getByRole('button', { name: /پرداخت اینترنتی/ }).count(), 0);
    assert.ok(again.includes(number));
    await accessible(context, `${server.url}/me/bills`, 'the bills page');
    await accessible(context, `${server.url}/me/bills/${number}`, 'the online receipt');
    // Someone else's receipt is not found.
    const stranger = await browser.newContext({ viewport: { width: 360, height: 800 }, javaScriptEnabled: false });
    const other = await stranger.newPage();
    await other.goto(`${server.url}/signin/citizen`);
    await signInCitizen(other, server, '0076229645', '09131234567');
    const reply = await other.goto(`${server.url}/me/bills/${number}`);
    assert.equal(reply.status(), 404);
    await stranger.close();
    await context.close();
  });
});
