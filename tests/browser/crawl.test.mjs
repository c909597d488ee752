// A crawl of every page each role reaches from its starting pages, at 360 px, in Persian: axe-core
// finds nothing, every link answers, no page says "coming soon", no table is wider than the screen, and no Latin
// letters or digits appear outside what is marked as a code read left to right (`dir="ltr"`,
// `<code>`, `lang="en"`), the language switch, and form controls (what people type).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { axeViolations, launchBrowser, startServer, totp, signInCitizen } from './harness.mjs';

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

/** Addresses not to follow: leaving, downloads, machine-readable documents, other languages. */
function skipped(url) {
  const path = url.pathname;
  return (
    path.startsWith('/static/') ||
    path.startsWith('/lang/') ||
    path.startsWith('/api/') ||
    path.startsWith('/signout') ||
    path.endsWith('.pdf') ||
    path.endsWith('/pdf') ||
    path.endsWith('.xml') ||
    path.endsWith('.txt') ||
    path.endsWith('.csv') ||
    path.endsWith('.json') ||
    path.includes('/documents/') ||
    path.endsWith('/template') ||
    url.search.includes('format=')
  );
}

/** What the page shows that breaks the rules above, as "what: where" lines. */
async function problemsOf(page) {
  return page.evaluate(() => {
    const found = [];
    const marked = (el) =>
      el.closest('[dir="ltr"], code, [lang="en"], script, style, noscript, textarea, select, option, .lang-nav, [aria-hidden="true"]');
    const walker = document.createTreeWalker(document.querySelector('main') ?? document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      if (!text || marked(node.parentElement)) continue;
      if (/[A-Za-z0-9]/.test(text)) found.push(`Latin text «${text.slice(0, 60)}»`);
    }
    // Footer and header too (not the language switch).
    for (const part of document.querySelectorAll('header, footer')) {
      const w = document.createTreeWalker(part, NodeFilter.SHOW_TEXT);
      for (let node = w.nextNode(); node; node = w.nextNode()) {
        const text = node.textContent.trim();
        if (!text || marked(node.parentElement)) continue;
        if (/[A-Za-z0-9]/.test(text)) found.push(`Latin text «${text.slice(0, 60)}»`);
      }
    }
    if (/به‌زودی|بزودی/.test(document.body.innerText)) found.push('says "coming soon"');
    for (const table of document.querySelectorAll('table')) {
      if (table.getBoundingClientRect().width > window.innerWidth + 1) found.push('a table wider than the screen');
    }
    if (document.documentElement.scrollWidth > window.innerWidth + 1) found.push('the page scrolls sideways');
    return found;
  });
}

/** Visits every same-origin page reachable from `starts` (at most `limit`), collecting problems. */
async function crawl(page, starts, limit = 80) {
  const origin = new URL(server.url).origin;
  const queue = starts.map((s) => new URL(s, origin).href);
  const seen = new Set(queue);
  const problems = [];
  let visited = 0;
  while (queue.length > 0 && visited < limit) {
    const href = queue.shift();
    const response = await page.goto(href);
    visited += 1;
    const where = new URL(href).pathname + new URL(href).search;
    if (!response || response.status() >= 400) {
      problems.push(`${where}: answers ${response?.status()}`);
      continue;
    }
    if (!(response.headers()['content-type'] ?? '').startsWith('text/html')) continue;
    for (const problem of await problemsOf(page)) problems.push(`${where}: ${problem}`);
    for (const v of await axeViolations(page)) problems.push(`${where}: axe ${v.id} (${v.nodes.slice(0, 3).join(', ')})`);
    const links = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
    for (const link of links) {
      const url = new URL(link);
      url.hash = '';
      if (url.origin !== origin || skipped(url) || seen.has(url.href)) continue;
      seen.add(url.href);
      queue.push(url.href);
    }
  }
  return { problems, visited };
}

async function staffPage(username, secret) {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/signin`);
  await page.getByLabel('نام کاربری').fill(username);
  await page.getByLabel('گذرواژه').fill(PASSWORD);
  await page.getByRole('button', { name: 'ورود' }).click();
  if (secret) {
    await page.waitForURL(/second-factor$/);
    await page.getByLabel('کد شش‌رقمی').fill(totp(secret));
    await page.getByRole('button', { name: 'تأیید' }).click();
  }
  await page.waitForURL(/\/account$/);
  return { context, page };
}

async function citizenPage() {
  const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/signin/citizen`);
  await signInCitizen(page, server, '0082451291', '09121234567');
  return { context, page };
}

describe('every page, as each role, at 360 px', () => {
  const roles = [
    ['a visitor', async () => {
      const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
      return { context, page: await context.newPage() };
    }, ['/', '/centres', '/track', '/search?q=' + encodeURIComponent('گواهینامه'), '/signin/citizen']],
    ['a citizen', citizenPage, ['/me']],
    ['an operator', () => staffPage('operator.1001'), ['/counter', '/account']],
    ['an agency clerk', () => staffPage('clerk.registry'), ['/desk/applications', '/account']],
    ['an agency editor', () => staffPage('editor.registry'), ['/desk']],
    ['a governorate admin', () => staffPage('gov.tehran', 'PISHKHANDEMOGOVTEHRAN234'), ['/admin']],
  ];
  for (const [who, open, starts] of roles) {
    test(`${who}: links answer, Persian throughout, nothing "coming soon", tables fit`, async () => {
      const { context, page } = await open();
      const { problems, visited } = await crawl(page, starts);
      await context.close();
      assert.ok(visited > 0);
      assert.deepEqual(problems, [], `${who}, ${visited} pages:\n${problems.join('\n')}`);
    });
  }
});
