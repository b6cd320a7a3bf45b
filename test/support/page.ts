// What the browser tests of the two pages do more than once.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

/** Types a username and password into the page's login form and sends it (the caller waits for what follows). */
export async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.fill('#login-form input[name=username]', username);
  await page.fill('#login-form input[name=password]', password);
  await page.click('#login-form button[type=submit]');
}

/**
 * Checks a page's two dictionaries (src/web/*-text.js): the same entries in Portuguese and English, and a text in
 * both for every fixed text the served page names with data-text (at least `minimum` of them).
 */
export async function assertBothLanguages(pageUrl: string, dictionary: string, minimum: number): Promise<void> {
  const html = await (await fetch(pageUrl)).text();
  const used = [...html.matchAll(/data-text="(\w+)"/g)].map((m) => m[1]!);
  const { TEXT } = (await import(`../../src/web/${dictionary}`)) as {
    TEXT: Record<'pt' | 'en', Record<string, unknown>>;
  };
  assert.deepEqual(Object.keys(TEXT.en).sort(), Object.keys(TEXT.pt).sort(), 'the same entries in both');
  for (const key of used) {
    for (const lang of ['pt', 'en'] as const) assert.equal(typeof TEXT[lang][key], 'string', `${lang}.${key}`);
  }
  assert.ok(used.length >= minimum, `${used.length} texts`);
}
