import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { requireTool } from './tools';

/** Debian's Chromium binary (the real one behind the /usr/bin/chromium wrapper script). */
export const CHROMIUM_CANDIDATES: readonly string[] = ['/usr/lib/chromium/chromium'];

/** A headless Chromium driven by playwright-core; never a downloaded browser. */
export interface HeadlessBrowser {
  readonly browser: Browser;
  /** A fresh page that records console errors, page errors, CSP violations and dialogs. */
  newPage(): Promise<WatchedPage>;
  close(): Promise<void>;
}

/** A page with everything suspicious it saw. */
export interface WatchedPage {
  readonly page: Page;
  /** Console messages of type error, uncaught page errors and CSP violation reports. */
  readonly problems: string[];
  /** Messages of every dialog (alert/confirm/prompt) that opened; each is dismissed. */
  readonly dialogs: string[];
}

/** Launch Debian's Chromium headless with a throwaway XDG_CONFIG_HOME. */
export async function launchBrowser(): Promise<HeadlessBrowser> {
  const executablePath = requireTool('chromium', CHROMIUM_CANDIDATES);
  const home = mkdtempSync(path.join(os.tmpdir(), 'eo-chromium-'));
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    env: { ...process.env, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home, HOME: home },
  });
  return {
    browser,
    async newPage(): Promise<WatchedPage> {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      const dialogs: string[] = [];
      page.on('console', (m: ConsoleMessage) => {
        if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      return { page, problems, dialogs };
    },
    async close() {
      await browser.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
