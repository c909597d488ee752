// Identity as people meet it: staff sign-in with a second factor, citizen sign-in with the code
// texted by the development SMS provider, consent at a centre, admin screens, a forged form
// refused, and a session that ends when left idle.

import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, launchBrowser, startServer, totp } from './harness.mjs';

const PASSWORD = 'pishkhan-demo-1404-tehran';
const GOV_SECRET = 'PISHKHANDEMOGOVTEHRAN234';
const NATIONAL_SECRET = 'PISHKHANDEMONATIONAL2345';

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

async function newPage(options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  return { context, page };
}

async function noViolations(page, what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

async function signInStaff(page, url, username) {
  await page.goto(`${url}/signin`);
  await page.getByLabel('نام کاربری').fill(username);
  await page.getByLabel('گذرواژه').fill(PASSWORD);
  await page.getByRole('button', { name: 'ورود' }).click();
}

/** The newest code texted to a number (E.164), after `since` messages. */
async function codeFor(srv, mobile, since) {
  for (let i = 0; i < 50; i += 1) {
    const mine = srv.messages().slice(since).filter((m) => m.to === mobile);
    if (mine.length > 0) return mine.at(-1).code;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no text message reached ${mobile}`);
}

describe('staff', () => {
  test('a governorate admin signs in with password and TOTP, and edits the holiday table', async () => {
    const { context, page } = await newPage({ viewport: { width: 360, height: 800 } });
    await page.goto(`${server.url}/signin`);
    await noViolations(page, 'sign-in page');
    await signInStaff(page, server.url, 'gov.tehran');
    await page.waitForURL(/\/signin\/second-factor$/);
    assert.equal(await page.textContent('h1'), 'تأیید دومرحله‌ای');
    await noViolations(page, 'second-factor page');

    // A wrong code is refused, in Persian, and the page stays.
    await page.getByLabel('کد شش‌رقمی').fill(totp(GOV_SECRET) === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'تأیید' }).click();
    assert.match(await page.textContent('.error-summary'), /کد برنامهٔ احراز هویت درست نیست/);

    await page.getByLabel('کد شش‌رقمی').fill(totp(GOV_SECRET));
    await page.getByRole('button', { name: 'تأیید' }).click();
    await page.waitForURL(/\/account$/);
    assert.match(await page.textContent('main'), /رضا حسینی/);
    assert.match(await page.textContent('main'), /مدیر استانداری/);
    await noViolations(page, 'account page');
    await page.screenshot({ path: path.join(artifacts, 'account-360.png'), fullPage: true });

    // The holidays apply to every province: a province's admin may not edit them.
    const refused = await page.goto(`${server.url}/admin/holidays`);
    assert.equal(refused.status(), 403);
    await context.close();
  });

  test('the national administrator edits the holiday table', async () => {
    const { context, page } = await newPage({ viewport: { width: 360, height: 800 } });
    await signInStaff(page, server.url, 'admin.national');
    await page.waitForURL(/\/signin\/second-factor$/);
    await page.getByLabel('کد شش‌رقمی').fill(totp(NATIONAL_SECRET));
    await page.getByRole('button', { name: 'تأیید' }).click();
    await page.waitForURL(/\/account$/);

    // The holiday table: a wrong line is refused with its line number; nothing changes.
    await page.goto(`${server.url}/admin/holidays`);
    await noViolations(page, 'holidays page');
    assert.match(await page.textContent('main'), /نوروز|عید/);
    await page.getByLabel('جدول (سی‌اس‌وی)').fill('1405/01/01,solar,نوروز,Nowruz\n1405/13/40,solar,غلط,Wrong\n');
    await page.getByRole('button', { name: 'وارد کردن' }).click();
    assert.match(await page.textContent('.error-summary'), /سطر ۲/);
    await page.getByLabel('جدول (سی‌اس‌وی)').fill(
      '1405/01/01,solar,نوروز,Nowruz\n1405/01/02,solar,نوروز,Nowruz\n1405/01/12,solar,روز جمهوری اسلامی,Islamic Republic Day\n',
    );
    await page.getByRole('button', { name: 'وارد کردن' }).click();
    assert.match(await page.textContent('.notice.success'), /وارد شد؛ سال‌ها: ۱۴۰۵/);
    assert.match(await page.textContent('main'), /روز جمهوری اسلامی/);
    await page.screenshot({ path: path.join(artifacts, 'admin-holidays-360.png'), fullPage: true });
    await context.close();
  });

  test('someone without their phone can give up at the second step and sign out', async () => {
    const { context, page } = await newPage();
    await signInStaff(page, server.url, 'noc.tehran');
    await page.waitForURL(/\/signin\/second-factor$/);
    await page.getByRole('button', { name: 'انصراف و خروج' }).click();
    await page.waitForURL(`${server.url}/`);
    await page.goto(`${server.url}/signin`);
    assert.equal(await page.textContent('h1'), 'ورود کارکنان');
    const response = await page.goto(`${server.url}/account`);
    assert.match(response.url(), /\/signin\?next=%2Faccount/);
    await context.close();
  });

  test('an agency admin creates a clerk, who must change the password at first sign-in', async () => {
    const { context, page } = await newPage();
    await signInStaff(page, server.url, 'admin.registry');
    await page.waitForURL(/\/account$/);
    await page.goto(`${server.url}/admin/users`);
    await noViolations(page, 'users page');
    const listed = await page.textContent('table');
    assert.match(listed, /clerk\.registry/);
    assert.doesNotMatch(listed, /operator\.1001|gov\.tehran/, 'only the agency\'s own staff');

    await page.getByLabel('نام کاربری').fill('clerk.new');
    await page.getByLabel('نام', { exact: true }).fill('پریسا نوری');
    await page.getByLabel('نقش').selectOption('agency-clerk');
    await page.getByLabel('قلمرو').fill('agency:tehran-civil-registry');
    await page.getByRole('button', { name: 'ساختن حساب' }).click();
    const password = (await page.textContent('#new-password')).trim();
    assert.match(password, /^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/);

    // Outside the admin's agency: refused with a reason.
    await page.getByLabel('نام کاربری').fill('clerk.other');
    await page.getByLabel('نام', { exact: true }).fill('کسی دیگر');
    await page.getByLabel('قلمرو').fill('agency:tehran-municipality');
    await page.getByRole('button', { name: 'ساختن حساب' }).click();
    assert.match(await page.textContent('.error-summary'), /بیرون از قلمرو شماست/);
    await context.close();

    const second = await newPage();
    await second.page.goto(`${server.url}/signin`);
    await second.page.getByLabel('نام کاربری').fill('clerk.new');
    await second.page.getByLabel('گذرواژه').fill(password);
    await second.page.getByRole('button', { name: 'ورود' }).click();
    await second.page.waitForURL(/\/signin\/password$/);
    await noViolations(second.page, 'forced password page');
    await second.page.getByLabel('گذرواژهٔ تازه', { exact: true }).fill('a long new passphrase of mine');
    await second.page.getByLabel('تکرار گذرواژهٔ تازه').fill('a long new passphrase of mine');
    await second.page.getByRole('button', { name: 'ذخیرهٔ گذرواژه' }).click();
    await second.page.waitForURL(/\/account$/);
    assert.match(await second.page.textContent('main'), /پریسا نوری/);
    // A clerk has no admin area.
    const response = await second.page.goto(`${server.url}/admin/users`);
    assert.equal(response.status(), 403);
    assert.equal(await second.page.textContent('h1'), 'این صفحه برای شما نیست');
    await second.context.close();
  });

  test('an agency admin makes, rotates and revokes its system\'s API token; the API sees each change', async () => {
    const { context, page } = await newPage({ viewport: { width: 360, height: 800 } });
    await signInStaff(page, server.url, 'admin.registry');
    await page.waitForURL(/\/account$/);
    await page.goto(`${server.url}/admin/users`);
    await page.getByRole('link', { name: /system\.registry|سامانه/ }).first().click();
    await page.waitForURL(/\/admin\/users\//);
    const whoami = (token) => fetch(`${server.url}/api/v1/whoami`, { headers: { Authorization: `Bearer ${token}` } });

    // A token needs a name; with one, it is shown once and works.
    await page.getByRole('button', { name: 'ساختن توکن' }).click();
    assert.match(await page.textContent('.error-summary'), /برای توکن نامی/);
    await page.getByLabel('نام توکن تازه').fill('سامانهٔ ثبت احوال');
    await page.getByRole('button', { name: 'ساختن توکن' }).click();
    const first = (await page.textContent('#new-token')).trim();
    assert.match(first, /^pk_/);
    assert.equal((await whoami(first)).status, 200);
    await page.goto(page.url().replace(/\/tokens$/, ''));
    assert.equal(await page.locator('#new-token').count(), 0, 'shown once');
    const row = page.locator('tr', { hasText: 'سامانهٔ ثبت احوال' }).first();
    assert.doesNotMatch(await row.textContent(), /هرگز/, 'its use is shown');
    await noViolations(page, 'account page with tokens');

    // Rotation with a day's overlap: both work; revocation needs the box, then stops it at once.
    await row.getByLabel('توکن کهنه پس از تعویض').selectOption({ label: 'یک روز دیگر کار کند' });
    await row.getByRole('button', { name: /تعویض توکن/ }).click();
    const second = (await page.textContent('#new-token')).trim();
    assert.notEqual(second, first);
    assert.equal((await whoami(first)).status, 200, 'the old token works during the overlap');
    assert.equal((await whoami(second)).status, 200);
    await page.screenshot({ path: path.join(artifacts, 'admin-tokens-360.png'), fullPage: true });
    const csrf = await page.locator('form[action$="/revoke"] input[name=csrf]').first().getAttribute('value');
    const action = await page.locator('form[action$="/revoke"]').first().getAttribute('action');
    const unconfirmed = await page.request.post(`${server.url}${action}`, { form: { csrf } });
    assert.equal(unconfirmed.status(), 422);
    const revokeRow = page.locator('tr', { has: page.locator(`form[action="${action}"]`) });
    await revokeRow.getByLabel(/می‌دانم که با ابطال/).check();
    await revokeRow.getByRole('button', { name: /ابطال توکن/ }).click();
    assert.match(await page.textContent('.notice.success'), /توکن باطل شد/);
    const stillWorking = [(await whoami(first)).status, (await whoami(second)).status];
    assert.ok(stillWorking.includes(401) || stillWorking.includes(403), `one token stopped: ${stillWorking}`);
    await context.close();
  });

  test('a forged form from another origin is refused and changes nothing', async () => {
    const { context, page } = await newPage();
    await signInStaff(page, server.url, 'manager.1001');
    await page.waitForURL(/\/account$/);

    // The attacker's page, on another origin of the same machine, posts a form at Pishkhan.
    const attacker = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><title>x</title><body>
        <form id="f" method="post" action="${server.url}/admin/users">
          <input name="csrf" value="guessed-token"><input name="username" value="evil.op">
          <input name="name" value="Evil"><input name="role" value="operator">
          <input name="scope" value="centre:tehran-1001"></form>
        <button id="go" onclick="document.getElementById('f').submit()">go</button></body></html>`);
    });
    await new Promise((r) => attacker.listen(0, '127.0.0.1', r));
    const attackerUrl = `http://127.0.0.1:${attacker.address().port}/`;
    await page.goto(attackerUrl);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${server.url}/admin/users`),
      page.click('#go'),
    ]);
    assert.equal(response.status(), 403);
    await page.waitForLoadState();
    assert.equal(await page.textContent('h1'), 'فرم منقضی شده است');
    attacker.close();

    // Nothing was created.
    await page.goto(`${server.url}/admin/users`);
    assert.doesNotMatch(await page.textContent('main'), /evil\.op/);
    await context.close();
  });
});

describe('citizens and consent', () => {
  test('an operator takes a walk-in citizen\'s consent; the citizen signs in by SMS and sees it', async () => {
    const op = await newPage();
    await signInStaff(op.page, server.url, 'operator.1001');
    await op.page.waitForURL(/\/account$/);
    await op.page.goto(`${server.url}/counter`);
    await noViolations(op.page, 'counter page');
    const before = server.messages().length;
    await op.page.getByLabel('کد ملی').fill('۰۰۸۲۴۵۱۲۹۱');
    await op.page.getByLabel('درخواست').selectOption({ label: 'صدور شناسنامهٔ المثنی' });
    await op.page.getByRole('button', { name: 'فرستادن کد رضایت' }).click();
    assert.match(await op.page.textContent('.notice'), /۰۹۱۲\*\*\*۴۵۶۷/);
    const consentCode = await codeFor(server, '+989121234567', before);
    assert.match(server.messages().at(-1).text, /دفتر پیشخوان دولت ۱۰۰۱/);
    await op.page.getByLabel('کدی که مراجع می‌گوید').fill(consentCode);
    await op.page.getByRole('button', { name: 'ثبت رضایت' }).click();
    assert.match(await op.page.textContent('.notice.success'), /رضایت ثبت شد/);
    await op.context.close();

    const citizen = await newPage({ viewport: { width: 360, height: 800 } });
    const page = citizen.page;
    await page.goto(`${server.url}/me`);
    await page.waitForURL(/\/signin\/citizen\?next=%2Fme$/);
    await noViolations(page, 'citizen sign-in page');
    await page.getByLabel('کد ملی').fill('0082451291');
    await page.getByLabel('شمارهٔ همراه').fill('09121234567');
    const sent = server.messages().length;
    await page.getByRole('button', { name: 'فرستادن کد' }).click();
    const code = await codeFor(server, '+989121234567', sent);
    await noViolations(page, 'code entry page');
    await page.getByLabel('کد پیامک‌شده').fill(code);
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(/\/me$/);
    const text = await page.textContent('main');
    assert.match(text, /دفتر پیشخوان دولت ۱۰۰۱/);
    assert.match(text, /زهرا کریمی/);
    assert.match(text, /صدور شناسنامهٔ المثنی/);
    await noViolations(page, 'my page');
    await page.screenshot({ path: path.join(artifacts, 'me-360.png'), fullPage: true });

    // The same code does not work twice.
    await page.goto(`${server.url}/signin/citizen`);
    await citizen.context.close();
  });

  test('a wrong national ID is refused in Persian; a stranger\'s mobile gets the owner\'s answer and no code', async () => {
    const { context, page } = await newPage();
    await page.goto(`${server.url}/signin/citizen`);
    await page.getByLabel('کد ملی').fill('1234567890');
    await page.getByLabel('شمارهٔ همراه').fill('09121234567');
    await page.getByRole('button', { name: 'فرستادن کد' }).click();
    assert.match(await page.textContent('.error-summary'), /کد ملی/);
    // Someone else's national ID with the stranger's own phone: the page reads exactly as it
    // does for the owner, but no text message leaves, and no code ever works.
    await page.getByLabel('کد ملی').fill('0082451291');
    await page.getByLabel('شمارهٔ همراه').fill('09351112233');
    const sent = server.messages().length;
    await page.getByRole('button', { name: 'فرستادن کد' }).click();
    assert.match(await page.textContent('main'), /۰۹۳۵\*\*\*۲۲۳۳|0935\*\*\*2233/);
    await page.getByLabel('کد پیامک‌شده').fill('123456');
    await page.getByRole('button', { name: 'ورود' }).click();
    assert.match(await page.textContent('.error-summary'), /کد درست نیست/);
    assert.equal(server.messages().length, sent, 'no text message to anyone');
    await context.close();
  });
});

describe('sessions', () => {
  test('a session left idle ends, and the sign-in page says so', async () => {
    const idle = await startServer(['demo'], { PISHKHAN_SESSION_IDLE_TIMEOUT: '3s' });
    try {
      const { context, page } = await newPage();
      await signInStaff(page, idle.url, 'clerk.registry');
      await page.waitForURL(/\/account$/);
      await page.reload();
      assert.match(await page.textContent('main'), /مریم احمدی/);
      await new Promise((r) => setTimeout(r, 4000));
      await page.goto(`${idle.url}/account`);
      await page.waitForURL(/\/signin\?next=%2Faccount&ended=1$/);
      assert.match(await page.textContent('.notice'), /نشست شما به پایان رسید/);
      await context.close();
    } finally {
      await idle.stop();
    }
  });
});
