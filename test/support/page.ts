// What the browser tests do on the employees' page more than once.
import type { Page } from 'playwright-core';

/** Types a username and password into the page's login form and sends it (the caller waits for what follows). */
export async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.fill('#login-form input[name=username]', username);
  await page.fill('#login-form input[name=password]', password);
  await page.click('#login-form button[type=submit]');
}
