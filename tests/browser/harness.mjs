// The browser test harness: starts the real `pishkhan` program on a free port with a fresh data
// folder, drives Debian's Chromium through playwright-core, and runs axe-core in the page.
// Later capabilities add their journeys as more *.test.mjs files beside this one.

import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../..');

/** The program under test: the debug build unless PISHKHAN_BIN names another. */
export const binary = process.env.PISHKHAN_BIN ?? path.join(root, 'target/debug/pishkhan');

/** Screenshots for a person to look at (not compared). */
export const artifacts = path.join(import.meta.dirname, 'artifacts');
mkdirSync(artifacts, { recursive: true });

/**
 * Starts `pishkhan <args>` on 127.0.0.1 with a free port and its own data folder; resolves when
 * it prints where it serves.
 */
export async function startServer(args = ['serve'], extraEnv = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'pishkhan-browser-'));
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('PISHKHAN_')) delete env[name];
  }
  env.PISHKHAN_LOG_LEVEL = 'warn';
  Object.assign(env, extraEnv);
  const child = spawn(
    binary,
    [...args, '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'data')],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const printed = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 60 s')), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the server exited with code ${code}`)));
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      printed.push(line);
      const match = line.match(/is serving (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  const dataDir = path.join(dir, 'data');
  return {
    url,
    dataDir,
    /** What the program has printed on stdout so far (its banner), line by line. */
    printed,
    /** Text messages the development SMS provider wrote, oldest first. */
    messages() {
      let text = '';
      try {
        text = readFileSync(path.join(dataDir, 'sms-outbox.jsonl'), 'utf8');
      } catch {
        return [];
      }
      return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    },
    /** Runs `pishkhan ARGS --data-dir DATA` (no PISHKHAN_ settings of this shell) and answers its output. */
    cli(...args) {
      const clean = { ...process.env };
      for (const name of Object.keys(clean)) {
        if (name.startsWith('PISHKHAN_')) delete clean[name];
      }
      return execFileSync(binary, [...args, '--data-dir', dataDir], { encoding: 'utf8', env: clean });
    },
    /** One API call with a bearer token: the status and the JSON answer. */
    async api(method, address, token, body) {
      const response = await fetch(`${url}${address}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: await response.json() };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (WCAG 2.1 A and AA, and best practices) on the page and returns its violations.
 * The script goes in through DevTools, so the page's CSP, which forbids inline scripts, stays on.
 */
export async function axeViolations(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

/** The TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) an authenticator app shows for a base32 secret. */
export function totp(base32, seconds = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of base32.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const digest = createHmac('sha1', key).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const value = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

/** The newest code texted by `server` after its first `since` messages (waits up to 5 s). */
export async function textedCode(server, since) {
  for (let i = 0; i < 50; i += 1) {
    const code = server.messages().slice(since).filter((m) => m.code).at(-1)?.code;
    if (code) return code;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no code was texted');
}

/**
 * Signs a citizen in on the citizen sign-in page `page` is showing: national ID and mobile, the
 * texted code, then waits for `/me`.
 */
export async function signInCitizen(page, server, nationalId, mobile) {
  await page.getByLabel('کد ملی').fill(nationalId);
  await page.getByLabel('شمارهٔ همراه').fill(mobile);
  const sent = server.messages().length;
  await page.getByRole('button', { name: 'فرستادن کد' }).click();
  await page.getByLabel('کد پیامک‌شده').fill(await textedCode(server, sent));
  await page.getByRole('button', { name: 'ورود' }).click();
  await page.waitForURL(/\/me$/);
}
