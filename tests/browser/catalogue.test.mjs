// The catalogue as agency staff edit it at the desk: an editor changes a step and a document,
// the change stays a draft until an admin publishes it, the public API then shows it, the
// version history shows the difference, and an editor of another agency cannot open it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { artifacts, axeViolations, binary, launchBrowser, startServer, totp } from './harness.mjs';

function cleanEnv() {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('PISHKHAN_')) delete env[name];
  }
  return env;
}

const PASSWORD = 'pishkhan-demo-1404-tehran';
const CODE = 'tehran.duplicate-birth-certificate';

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

async function signedIn(username) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('نام کاربری').fill(username);
  await page.getByLabel('گذرواژه').fill(PASSWORD);
  await page.getByRole('button', { name: 'ورود' }).click();
  await page.waitForURL(/\/account$/);
  return { context, page };
}

async function publicCard() {
  const response = await fetch(`${server.url}/api/v1/services/${CODE}`);
  assert.equal(response.status, 200);
  return (await response.json()).card;
}

async function noViolations(page, what) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
}

describe('the desk', () => {
  test('an edit is a draft until published, then the API shows it and the history shows the change', async () => {
    const before = await publicCard();
    const editor = await signedIn('editor.registry');
    await editor.page.goto(`${server.url}/desk`);
    await noViolations(editor.page, 'desk');
    await editor.page.getByRole('link', { name: 'صدور شناسنامهٔ المثنی' }).click();
    await editor.page.waitForURL(new RegExp(`/desk/services/${CODE}$`));
    await noViolations(editor.page, 'service editor');

    // The lists are rows of labelled inputs, in Persian: change a step, add a document.
    const step = editor.page.locator('#f-steps input[value="بررسی سوابق هویتی و صدور شناسنامه با مهر «المثنی»"]');
    assert.equal(await step.count(), 1);
    await step.fill('بررسی سوابق هویتی در سامانهٔ جمعیت و صدور شناسنامهٔ المثنی');
    const newDocument = editor.page.locator('#f-documents fieldset.row-editor', { hasText: 'ردیف تازه' }).first();
    await newDocument.getByLabel('نام مدرک').fill('استشهاد محلی');
    await newDocument.getByLabel('اصل یا رونوشت').selectOption({ label: 'اصل' });
    await newDocument.getByLabel('شمار').fill('۱');
    await newDocument.getByLabel('مرحله').fill('۲');
    await newDocument.getByLabel('توضیح').fill('برای مفقودی دوم به بعد');
    // A separator typed into a box is refused in Persian, and nothing is saved.
    await newDocument.getByLabel('توضیح').fill('برای مفقودی | دوم');
    await editor.page.getByRole('button', { name: 'ذخیره به‌عنوان پیش‌نویس تازه' }).click();
    assert.match(await editor.page.textContent('.error-summary'), /«مدارک لازم»، ردیف [۰-۹]+، «توضیح»: نویسهٔ \| /);
    await editor.page.screenshot({ path: path.join(artifacts, 'desk-rows-360.png'), fullPage: true });
    const again = editor.page.locator('#f-documents fieldset.row-editor', { has: editor.page.locator('input[value="استشهاد محلی"]') });
    await again.getByLabel('توضیح').fill('برای مفقودی دوم به بعد');
    await editor.page.getByRole('button', { name: 'ذخیره به‌عنوان پیش‌نویس تازه' }).click();
    await editor.page.waitForURL(/done=saved$/);
    assert.match(await editor.page.textContent('#state'), /پیش‌نویس/);

    // The public still sees the published version.
    const meanwhile = await publicCard();
    assert.deepEqual(meanwhile.steps, before.steps);

    // A broken edit is refused with the reason, and nothing is saved.
    await editor.page.getByLabel('زمان انجام (روز کاری)').fill('ده');
    await editor.page.getByRole('button', { name: 'ذخیره به‌عنوان پیش‌نویس تازه' }).click();
    const refusal = await editor.page.textContent('.error-summary');
    assert.match(refusal, /زمان انجام/);
    assert.doesNotMatch(refusal, /processing_days/);

    // The workflow: the registry's own (its stages) as tables of states and actions, drawn beside; a broken one
    // (as JSON, the advanced option) is refused with the reason; an adapted one (a shorter review
    // deadline, typed into the states table) is kept through later saves.
    await editor.page.goto(`${server.url}/desk/services/${CODE}`);
    assert.ok((await editor.page.locator('.workflow-diagram rect').count()) >= 8);
    const states = editor.page.locator('#f-states fieldset.row-editor');
    const actions = editor.page.locator('#f-actions fieldset.row-editor');
    assert.equal(await states.nth(0).getByLabel('نام وضعیت').inputValue(), 'ثبت شد؛ در نوبت بررسی');
    assert.match(await actions.nth(0).getByLabel('چه کسی').textContent(), /کارشناس دستگاه/);
    assert.ok(await editor.page.getByLabel(/گردش کار ویژهٔ این خدمت/).isChecked());
    const standard = JSON.parse(
      execFileSync(binary, ['applications', 'workflow', CODE, '--data-dir', server.dataDir], { encoding: 'utf8', env: cleanEnv() }),
    );
    const broken = structuredClone(standard);
    broken.actions = broken.actions.filter((a) => a.from.every((f) => f !== broken.start));
    await editor.page.locator('details.advanced summary').click();
    await editor.page.getByLabel('گردش کار به زبان جی‌سان (برای کاربران آشنا)').fill(JSON.stringify(broken));
    await editor.page.getByLabel('این متن جی‌سان را به‌جای جدول‌ها ذخیره کن').check();
    await editor.page.getByRole('button', { name: 'ذخیره به‌عنوان پیش‌نویس تازه' }).click();
    assert.match(await editor.page.textContent('.error-summary'), /هیچ راهی از وضعیت آغاز/);
    await editor.page.goto(`${server.url}/desk/services/${CODE}`);
    // Typing into the tables chooses the service's own workflow (the script does; without it,
    // the person chooses it).
    await states.nth(0).getByLabel('مهلت (روز کاری)').fill('۳');
    assert.ok(await editor.page.getByLabel(/گردش کار ویژهٔ این خدمت/).isChecked());
    // A new action that names no target state is refused with its row, in Persian.
    const newAction = editor.page.locator('#f-actions fieldset.row-editor[data-blank]').first();
    await newAction.getByLabel('نام اقدام').fill('ارجاع به بایگانی');
    await editor.page.getByRole('button', { name: 'ذخیره به‌عنوان پیش‌نویس تازه' }).click();
    const refusedAction = await editor.page.textContent('.error-summary');
    assert.match(refusedAction, /اقدام‌ها، ردیف \S+: «از وضعیت» را انتخاب کنید/);
    assert.doesNotMatch(refusedAction, /[A-Za-z]/, refusedAction);
    // What was typed is still there; without the half-made action it saves.
    assert.equal(await states.nth(0).getByLabel('مهلت (روز کاری)').inputValue(), '۳');
    await editor.page.locator('#f-actions fieldset.row-editor', { has: editor.page.locator('input[value="ارجاع به بایگانی"]') }).getByLabel('حذف این ردیف').check();
    await editor.page.getByRole('button', { name: 'ذخیره به‌عنوان پیش‌نویس تازه' }).click();
    await editor.page.waitForURL(/done=saved$/);
    assert.equal(await states.nth(0).getByLabel('مهلت (روز کاری)').inputValue(), '۳');
    assert.ok(await editor.page.getByLabel(/گردش کار ویژهٔ این خدمت/).isChecked());
    await editor.page.setViewportSize({ width: 360, height: 800 });
    await editor.page.locator('#workflow').scrollIntoViewIfNeeded();
    await editor.page.screenshot({ path: path.join(artifacts, 'desk-workflow-360.png'), fullPage: true });
    // Whether the applicant pays in a state is a choice of its own in each state's row.
    assert.equal(await states.nth(0).getByLabel('متقاضی اینجا هزینه را می‌پردازد').inputValue(), 'no');
    await states.nth(0).screenshot({ path: path.join(artifacts, 'desk-workflow-state-360.png') });
    await editor.page.setViewportSize({ width: 1280, height: 900 });
    await noViolations(editor.page, 'service page with the workflow tables');
    await editor.page.getByRole('button', { name: 'فرستادن برای بررسی' }).click();
    await editor.page.waitForURL(/done=review$/);
    assert.equal(await editor.page.getByRole('button', { name: 'انتشار این نسخه' }).count(), 0, 'an editor cannot publish');
    await editor.context.close();

    const admin = await signedIn('admin.registry');
    await admin.page.goto(`${server.url}/desk/services/${CODE}`);
    // Sending a card back needs a note; with one, it is a draft again and the note is in its history.
    await admin.page.getByRole('button', { name: 'بازگرداندن به ویرایشگر' }).click();
    assert.match(await admin.page.textContent('.error-summary'), /بنویسید ویرایشگر چه چیزی را باید درست کند/);
    await admin.page.getByLabel('یادداشت برای ویرایشگر').fill('توضیح استشهاد محلی را کامل‌تر بنویسید.');
    await admin.page.getByRole('button', { name: 'بازگرداندن به ویرایشگر' }).click();
    await admin.page.waitForURL(/done=returned$/);
    assert.match(await admin.page.textContent('main'), /توضیح استشهاد محلی را کامل‌تر بنویسید/);
    assert.match(await admin.page.textContent('#state'), /پیش‌نویس/);
    await admin.page.getByRole('button', { name: 'فرستادن برای بررسی' }).click();
    await admin.page.waitForURL(/done=review$/);
    // Publishing asks the person to confirm; a post without the confirmation is refused.
    const csrf = await admin.page.locator('form[action$="/publish"] input[name=csrf]').getAttribute('value');
    const version = await admin.page.locator('form[action$="/publish"] input[name=version]').getAttribute('value');
    const unconfirmed = await admin.page.request.post(`${server.url}/desk/services/${CODE}/publish`, { form: { csrf, version } });
    assert.equal(unconfirmed.status(), 422);
    assert.match(await unconfirmed.text(), /نخست تأیید کنید/);
    await admin.page.getByLabel(/می‌دانم با انتشار/).check();
    await admin.page.getByRole('button', { name: 'انتشار این نسخه' }).click();
    await admin.page.waitForURL(/done=published$/);
    const after = await publicCard();
    // The adapted workflow is the one applications follow now.
    const saved = JSON.parse(
      execFileSync(binary, ['applications', 'workflow', CODE, '--data-dir', server.dataDir], { encoding: 'utf8', env: cleanEnv() }),
    );
    assert.equal(saved.states.find((st) => st.code === saved.start).sla_days, 3);
    assert.equal(saved.actions.length, standard.actions.length);
    assert.ok(after.steps.some((s) => s.what.fa === 'بررسی سوابق هویتی در سامانهٔ جمعیت و صدور شناسنامهٔ المثنی'));
    assert.ok(after.documents.some((d) => d.name.fa === 'استشهاد محلی'));

    // The oldest change (the steps and documents); the newest is the workflow's.
    await admin.page.getByRole('link', { name: 'تفاوت با نسخهٔ پیشین' }).last().click();
    await noViolations(admin.page, 'diff page');
    const diff = await admin.page.textContent('table');
    // Where each change is, in Persian: not `steps[3].what.fa`.
    assert.match(diff, /مراحل، ردیف ۴، چه کاری/);
    assert.doesNotMatch(diff, /steps|\.fa/);
    assert.match(diff, /در سامانهٔ جمعیت/);
    assert.match(diff, /استشهاد محلی/);
    await admin.page.screenshot({ path: path.join(artifacts, 'desk-diff.png'), fullPage: true });
    await admin.context.close();
  });

  test('an editor of another agency cannot open the card', async () => {
    const other = await signedIn('editor.traffic');
    const response = await other.page.goto(`${server.url}/desk/services/${CODE}`);
    assert.equal(response.status(), 404);
    await other.page.goto(`${server.url}/desk`);
    assert.doesNotMatch(await other.page.textContent('main'), /شناسنامهٔ المثنی/);
    assert.match(await other.page.textContent('main'), /تمدید گواهینامهٔ رانندگی/);
    await other.context.close();
  });
});

describe('creating at the desk', () => {
  test('an editor creates a new form and a new service for their agency, as drafts', async () => {
    const editor = await signedIn('editor.traffic');
    await editor.page.goto(`${server.url}/desk`);
    await editor.page.getByRole('link', { name: 'فرم تازه' }).click();
    await noViolations(editor.page, 'new form page');
    await editor.page.getByLabel('کد فرم').fill('tehran-traffic-police.plate-inquiry');
    await editor.page.getByLabel('عنوان فرم').fill('فرم استعلام پلاک');
    // It starts with the applicant's national ID and mobile; a plate field is added in a blank row.
    const fieldRows = editor.page.locator('#f-fields fieldset.row-editor');
    assert.equal(await fieldRows.nth(0).getByLabel('نوع', { exact: true }).inputValue(), 'national-id');
    const blank = editor.page.locator('#f-fields fieldset.row-editor[data-blank]').first();
    await blank.getByLabel('بخش', { exact: true }).selectOption({ label: 'مشخصات درخواست‌کننده' });
    await blank.getByLabel('شناسه (لاتین)').fill('plate');
    await blank.getByLabel('برچسب', { exact: true }).fill('پلاک خودرو');
    await blank.getByLabel('نوع', { exact: true }).selectOption({ label: 'شمارهٔ پلاک' });
    await editor.page.getByRole('button', { name: 'ساختن پیش‌نویس' }).click();
    await editor.page.waitForURL(/\/desk\/forms\/tehran-traffic-police\.plate-inquiry\?done=saved$/);

    await editor.page.goto(`${server.url}/desk`);
    await editor.page.getByRole('link', { name: 'خدمت تازه' }).click();
    await noViolations(editor.page, 'new service page');
    await editor.page.getByLabel('کد خدمت').fill('tehran-traffic-police.plate-inquiry');
    await editor.page.getByLabel('عنوان خدمت').fill('استعلام سوابق پلاک');
    await editor.page.getByLabel('شرح کوتاه').fill('فهرست سوابق ثبت‌شدهٔ یک پلاک.');
    const stepRows = editor.page.locator('#f-steps fieldset.row-editor');
    await stepRows.nth(0).getByLabel('چه کسی').fill('متقاضی');
    await stepRows.nth(0).getByLabel('چه کاری').fill('وارد کردن شمارهٔ پلاک');
    await stepRows.nth(1).getByLabel('چه کسی').fill('پلیس راهور');
    await stepRows.nth(1).getByLabel('چه کاری').fill('نمایش سوابق');
    await stepRows.nth(1).getByLabel('روز کاری').fill('۱');
    await editor.page.getByLabel('زمان انجام (روز کاری)').fill('1');
    await editor.page.getByLabel('آنچه متقاضی دریافت می‌کند').fill('فهرست سوابق پلاک');
    await editor.page.getByRole('button', { name: 'ساختن پیش‌نویس' }).click();
    await editor.page.waitForURL(/\/desk\/services\/tehran-traffic-police\.plate-inquiry\?done=saved$/);
    assert.match(await editor.page.textContent('#state'), /پیش‌نویس/);
    // Not public until published.
    const response = await fetch(`${server.url}/api/v1/services/tehran-traffic-police.plate-inquiry`);
    assert.equal(response.status, 404);
    // Another agency's page for creating is not theirs.
    const foreign = await editor.page.goto(`${server.url}/desk/services/new?agency=tehran-civil-registry`);
    assert.equal(foreign.status(), 404);
    await editor.context.close();
  });
});

describe('the form editor', () => {
  test('an agency admin adds a field to a form without writing JSON; the API serves the new version', async () => {
    const admin = await signedIn('admin.registry');
    await admin.page.goto(`${server.url}/desk/services/${CODE}`);
    await admin.page.getByRole('link', { name: 'tehran.duplicate-birth-certificate' }).click();
    await admin.page.waitForURL(/\/desk\/forms\//);
    await noViolations(admin.page, 'form editor');
    const fieldRows = admin.page.locator('#f-fields fieldset.row-editor');
    assert.equal(await fieldRows.nth(0).getByLabel('شناسه (لاتین)').inputValue(), 'national_id');
    assert.equal(await fieldRows.nth(0).getByLabel('نوع', { exact: true }).inputValue(), 'national-id');
    // Settings of other types are hidden by the script (a text field has no file types).
    assert.equal(await fieldRows.nth(0).getByLabel('نوع پرونده (پیوست)').isVisible(), false);

    // A list field without choices is refused, saying where to add them; nothing is lost.
    let blank = admin.page.locator('#f-fields fieldset.row-editor[data-blank]').first();
    await blank.getByLabel('بخش', { exact: true }).selectOption({ label: 'درخواست' });
    await blank.getByLabel('شناسه (لاتین)').fill('colour');
    await blank.getByLabel('برچسب', { exact: true }).fill('رنگ');
    await blank.getByLabel('نوع', { exact: true }).selectOption({ label: 'یک گزینه از فهرست' });
    await blank.getByLabel('پر کردن').selectOption({ label: 'اختیاری' });
    await admin.page.getByRole('button', { name: 'ذخیره به‌عنوان نسخهٔ تازه' }).click();
    const refusal = await admin.page.textContent('.error-summary');
    assert.match(refusal, /فیلدها، ردیف \S+: فیلد «رنگ» فهرست است: گزینه‌هایش را در جدول «گزینه‌ها» بیفزایید/);
    assert.doesNotMatch(refusal, /[A-Za-z|]/, refusal);
    // Now the new list field is offered in the choices table: two choices (the second's value
    // made up), and a text field shown only once a colour is chosen.
    const optionRows = admin.page.locator('#f-options fieldset.row-editor[data-blank]');
    await optionRows.nth(0).getByLabel('فیلد').selectOption({ label: 'رنگ' });
    await optionRows.nth(0).getByLabel('مقدار (لاتین)').fill('green');
    await optionRows.nth(0).getByLabel('برچسب گزینه').fill('سبز');
    await optionRows.nth(1).getByLabel('فیلد').selectOption({ label: 'رنگ' });
    await optionRows.nth(1).getByLabel('برچسب گزینه').fill('رنگی دیگر');
    blank = admin.page.locator('#f-fields fieldset.row-editor[data-blank]').first();
    await blank.getByLabel('بخش', { exact: true }).selectOption({ label: 'درخواست' });
    await blank.getByLabel('شناسه (لاتین)').fill('previous_serial');
    await blank.getByLabel('برچسب', { exact: true }).fill('شمارهٔ سریال شناسنامهٔ پیشین');
    await blank.getByLabel('پر کردن').selectOption({ label: 'اختیاری' });
    await blank.getByLabel('بیشینهٔ طول (متن)').fill('۲۰');
    await blank.getByLabel(/نمایش فقط وقتی/).selectOption({ label: '«رنگ»: هر پاسخی' });
    // With the script: a choice added with a button and moved up to be the first.
    const choices = admin.page.locator('#f-options');
    await choices.getByRole('button', { name: /افزودن ردیف/ }).click();
    // Rows 0–1 are the blank rows filled above: the added row takes the next index.
    const added = choices.locator('fieldset.row-editor', { has: admin.page.locator('input[name="row:options:2:value"]') });
    await added.getByLabel('فیلد').selectOption({ label: 'رنگ' });
    await added.getByLabel('مقدار (لاتین)').fill('red');
    await added.getByLabel('برچسب گزینه').fill('قرمز');
    for (let i = 0; i < 2; i += 1) await added.getByRole('button', { name: /بالاتر/ }).click();
    assert.equal(await choices.locator('fieldset.row-editor').nth(0).getByLabel('مقدار (لاتین)').inputValue(), 'red');
    await admin.page.getByRole('button', { name: 'ذخیره به‌عنوان نسخهٔ تازه' }).click();
    await admin.page.waitForURL(/done=saved$/);
    await noViolations(admin.page, 'form editor after saving');
    await admin.page.screenshot({ path: path.join(artifacts, 'desk-form-rows.png'), fullPage: true });
    const response = await fetch(`${server.url}/api/v1/forms/${CODE}`);
    const body = await response.json();
    assert.equal(body.version, 2);
    const ids = body.form.sections.flatMap((s) => s.fields.map((f) => f.id));
    assert.ok(ids.includes('previous_serial'), ids.join(','));
    const fieldsById = Object.fromEntries(body.form.sections.flatMap((s) => s.fields).map((f) => [f.id, f]));
    assert.equal(fieldsById.previous_serial.max_length, 20);
    assert.deepEqual(fieldsById.colour.options.map((o) => o.value), ['red', 'green', 'option-3']);
    assert.deepEqual(fieldsById.previous_serial.show_if, { field: 'colour' });
    // English labels of the unchanged fields survive the edit.
    assert.equal(body.form.sections[0].fields[0].label.en, 'National ID');
    await admin.context.close();
  });
});

describe('importing at /admin', () => {
  test('a governorate admin downloads the template and imports a file: errors first, then all of it', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('نام کاربری').fill('gov.tehran');
    await page.getByLabel('گذرواژه').fill(PASSWORD);
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(/second-factor$/);
    await page.getByLabel('کد شش‌رقمی').fill(totp('PISHKHANDEMOGOVTEHRAN234'));
    await page.getByRole('button', { name: 'تأیید' }).click();
    await page.waitForURL(/\/account$/);
    await page.goto(`${server.url}/admin/catalogue`);
    await noViolations(page, 'catalogue import page');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'دریافت الگوی پرونده (سی‌اس‌وی)' }).click(),
    ]);
    const template = (await (await download.createReadStream()).toArray()).join('');
    assert.ok(template.startsWith('\ufeffcode,agency,title_fa'), template.slice(0, 40));

    // The example row, as a new service, plus a row of an Isfahan agency (outside Tehran).
    const [header, ...rest] = template.replace('\ufeff', '').split(/\r?\n(?=tehran\.)/);
    const row = rest.join('\n').trim();
    const mine = row.replace('tehran.duplicate-birth-certificate', 'tehran.imported-from-admin');
    const theirs = row
      .replace('tehran.duplicate-birth-certificate', 'isfahan.imported-elsewhere')
      .replace('tehran-civil-registry', 'isfahan-civil-registry');
    await page.getByLabel('پرونده').setInputFiles({
      name: 'cards.csv', mimeType: 'text/csv', buffer: Buffer.from(`${header}\n${mine}\n${theirs}\n`),
    });
    await page.getByRole('button', { name: 'بررسی و پیش‌نمایش' }).click();
    assert.match(await page.textContent('.error-summary'), /سطر ۳، ستون «دستگاه»: .*بیرون از استان شماست/);
    let response = await fetch(`${server.url}/api/v1/services/tehran.imported-from-admin`);
    assert.equal(response.status, 404, 'nothing was imported');

    // A broken spreadsheet is told in Persian, with what to do; nothing technical, nothing imported.
    await page.getByLabel('پرونده').setInputFiles({
      name: 'cards.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: Buffer.from('PK\u0003\u0004 not really a spreadsheet'),
    });
    await page.getByRole('button', { name: 'بررسی و پیش‌نمایش' }).click();
    const broken = await page.textContent('.error-summary');
    assert.match(broken, /پرونده خوانده نشد/);
    assert.doesNotMatch(broken, /[A-Za-z]/, broken);
    await page.getByLabel('پرونده').setInputFiles({
      name: 'cards.csv', mimeType: 'text/csv', buffer: Buffer.from(`${header}\n${mine}\n`),
    });
    await page.getByRole('button', { name: 'بررسی و پیش‌نمایش' }).click();
    // A preview first, line by line; nothing is published until confirmed.
    await page.waitForURL(/\/admin\/catalogue\/import/);
    assert.match(await page.textContent('#preview-summary'), /۱ خدمت تازه/);
    assert.match(await page.textContent('#preview'), /افزوده و منتشر می‌شود/);
    await noViolations(page, 'import preview');
    await page.setViewportSize({ width: 360, height: 800 });
    await page.screenshot({ path: path.join(artifacts, 'admin-import-preview-360.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    response = await fetch(`${server.url}/api/v1/services/tehran.imported-from-admin`);
    assert.equal(response.status, 404, 'nothing is published by the preview');
    const staged = Object.fromEntries(await Promise.all(['csrf', 'token', 'name', 'digest'].map(
      async (n) => [n, await page.locator(`form[action="/admin/catalogue/confirm"] input[name=${n}]`).getAttribute('value')],
    )));
    // Without the confirmation box the import is refused and the preview shown again.
    const unconfirmed = await page.request.post(`${server.url}/admin/catalogue/confirm`, { form: staged });
    assert.equal(unconfirmed.status(), 422);
    assert.match(await unconfirmed.text(), /گزینهٔ «می‌دانم که با تأیید…» را بزنید/);
    // Someone else cannot confirm this admin's preview.
    const other = await signedIn('admin.registry');
    const otherCsrf = await other.page.evaluate(async () => {
      const html = await (await fetch('/account')).text();
      return html.match(/name="csrf" value="([^"]+)"/)?.[1];
    });
    const foreign = await other.page.request.post(`${server.url}/admin/catalogue/confirm`, { form: { ...staged, csrf: otherCsrf, confirm: 'on' } });
    assert.ok([403, 404, 410].includes(foreign.status()), `another person's confirmation: ${foreign.status()}`);
    await other.context.close();
    await page.getByLabel(/می‌دانم که با تأیید/).check();
    await page.getByRole('button', { name: 'تأیید و انتشار' }).click();
    assert.match(await page.textContent('.notice.success'), /۱ منتشر شد/);
    response = await fetch(`${server.url}/api/v1/services/tehran.imported-from-admin`);
    assert.equal(response.status, 200);
    // The same preview cannot be confirmed twice; sending the file again previews "unchanged".
    const again = await page.request.post(`${server.url}/admin/catalogue/confirm`, { form: { ...staged, confirm: 'on' } });
    assert.equal(again.status(), 410);
    assert.match(await again.text(), /پرونده را دوباره بفرستید/);
    await page.getByLabel('پرونده').setInputFiles({
      name: 'cards.csv', mimeType: 'text/csv', buffer: Buffer.from(`${header}\n${mine}\n`),
    });
    await page.getByRole('button', { name: 'بررسی و پیش‌نمایش' }).click();
    assert.match(await page.textContent('#preview'), /بی‌تغییر/);
    assert.equal(await page.getByRole('button', { name: 'تأیید و انتشار' }).count(), 0);

    // An upload without the form's token (a forged one) is refused, signed in or not.
    const forged = await page.evaluate(async () => {
      const body = new FormData();
      body.append('file', new Blob(['code\n'], { type: 'text/csv' }), 'x.csv');
      return (await fetch('/admin/catalogue/import', { method: 'POST', body })).status;
    });
    assert.equal(forged, 403);
    await context.close();
  });
});

describe('Article 2.1 tracking', () => {
  test('the governorate sets the plan start and sees which agencies are late and what is missing', async () => {
    // The civil registry hands in its contact details.
    const editor = await signedIn('editor.registry');
    await editor.page.goto(`${server.url}/desk`);
    await editor.page.getByRole('link', { name: 'نشانی و راه‌های تماس دستگاه' }).click();
    await noViolations(editor.page, 'agency contacts');
    await editor.page.getByLabel('نشانی', { exact: true }).fill('تهران، خیابان امام خمینی، ادارهٔ کل ثبت احوال استان');
    await editor.page.getByLabel('تلفن', { exact: true }).fill('۰۲۱-۶۶۷۰۰۰۰۰');
    await editor.page.getByRole('button', { name: 'ذخیره', exact: true }).click();
    await editor.page.waitForURL(/done=saved$/);

    // An office where people go, with its place on the map; a location outside Iran is refused.
    await editor.page.getByLabel('کد دفتر').fill('region-3');
    await editor.page.getByLabel('نام دفتر').fill('ادارهٔ ثبت احوال منطقهٔ ۳ تهران');
    await editor.page.getByLabel('شهر').selectOption({ label: 'تهران' });
    await editor.page.getByLabel('عرض جغرافیایی').fill('۴۸٫۸۵');
    await editor.page.getByLabel('طول جغرافیایی').fill('2.35');
    await editor.page.getByRole('button', { name: 'ذخیرهٔ دفتر' }).click();
    assert.match(await editor.page.textContent('.error-summary'), /درون ایران/);
    await editor.page.getByLabel('کد دفتر').fill('region-3');
    await editor.page.getByLabel('نام دفتر').fill('ادارهٔ ثبت احوال منطقهٔ ۳ تهران');
    await editor.page.getByLabel('شهر').selectOption({ label: 'تهران' });
    await editor.page.getByLabel('عرض جغرافیایی').fill('۳۵٫۷۶');
    await editor.page.getByLabel('طول جغرافیایی').fill('51.41');
    await editor.page.getByRole('button', { name: 'ذخیرهٔ دفتر' }).click();
    await editor.page.waitForURL(/done=saved$/);
    const offices = await editor.page.textContent('table');
    assert.match(offices, /ادارهٔ ثبت احوال منطقهٔ ۳ تهران/);
    assert.match(offices, /۳۵٫۷۶۰۰۰|۳۵\.۷۶۰۰۰/);
    await noViolations(editor.page, 'agency with an office');
    await editor.context.close();

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/signin`);
    await page.getByLabel('نام کاربری').fill('gov.tehran');
    await page.getByLabel('گذرواژه').fill(PASSWORD);
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(/second-factor$/);
    // Another test of this server used this step's code: the next one is accepted.
    await page.getByLabel('کد شش‌رقمی').fill(totp('PISHKHANDEMOGOVTEHRAN234', Date.now() / 1000 + 30));
    await page.getByRole('button', { name: 'تأیید' }).click();
    await page.waitForURL(/\/account$/);
    await page.goto(`${server.url}/admin/plan`);
    await page.getByLabel('تاریخ آغاز طرح در استان').fill('1405/13/01');
    await page.getByRole('button', { name: 'ذخیرهٔ تاریخ' }).click();
    assert.match(await page.textContent('.error-summary'), /ماه/);
    await page.getByLabel('تاریخ آغاز طرح در استان').fill('۱۴۰۵/۰۱/۱۵');
    await page.getByRole('button', { name: 'ذخیرهٔ تاریخ' }).click();
    await page.waitForURL(/\/admin\/plan$/);
    await noViolations(page, 'plan page');
    assert.match(await page.textContent('.notice'), /مهلت تحویل: ۱۵ خرداد ۱۴۰۵/);
    const row = (name) => page.locator('tbody tr', { hasText: name });
    assert.match(await row('ادارهٔ کل ثبت احوال استان تهران').textContent(), /کامل/);
    const gas = await row('شرکت گاز استان تهران').textContent();
    assert.match(gas, /دیرکرد/);
    assert.match(gas, /نرسیده/, 'the gas company has no contact details');
    await page.screenshot({ path: path.join(artifacts, 'admin-plan.png'), fullPage: true });
    // /admin opens on today's numbers for the province, and the plan's milestone.
    await page.goto(`${server.url}/admin`);
    const today = await page.textContent('main');
    assert.match(today, /امروز — استان تهران/);
    assert.match(today, /درخواست امروز ثبت شد/);
    assert.match(today, /مهلت تحویل اطلاعات دستگاه‌ها \(مادهٔ ۲-۱\): ۱۵ خرداد ۱۴۰۵/);
    assert.match(today, /دستگاه از مهلت مادهٔ ۲-۱ گذشته/);
    await noViolations(page, 'admin page');
    await page.screenshot({ path: path.join(artifacts, 'admin-today-1280.png'), fullPage: true });
    // Scopes read as words.
    await page.goto(`${server.url}/account`);
    assert.match(await page.textContent('main'), /استان تهران/);
    assert.doesNotMatch(await page.textContent('main'), /province:tehran/);
    await context.close();
  });
});
