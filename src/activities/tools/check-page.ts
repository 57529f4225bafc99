/**
 * `check_page`: opens a workspace HTML page in headless Chromium (playwright-core driving the
 * system's Chromium) and reports what a tester would look at: console errors, uncaught page
 * errors, failed requests, the title, headings, the accessibility tree, images without alt text
 * and the viewport meta tag, plus a screenshot. Requests that leave the workspace are blocked and
 * reported, so a page check never touches the network.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Chromium binary used for page checks (MAESTRO_CHROMIUM_PATH overrides). */
export function chromiumPath(): string {
  return process.env.MAESTRO_CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** The few DOM members the in-page fact gathering uses (this project compiles without the DOM lib). */
interface PageElement {
  tagName: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
}
interface PageDocument {
  title: string;
  documentElement: { lang: string };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}

/** What a page check found. */
export interface PageReport {
  /** True when there were no console errors, page errors or failed requests. */
  ok: boolean;
  text: string;
  screenshot: Buffer;
}

/** A fact line per finding; `problems` decide `ok`. */
export async function checkPage(args: { dir: string; page: string; timeoutMs?: number }): Promise<PageReport> {
  const exe = chromiumPath();
  if (!existsSync(exe))
    throw new Error(`no Chromium at ${exe}: install it (apt-get install chromium) or set MAESTRO_CHROMIUM_PATH`);
  // Loaded when a page is checked, not with the worker: playwright-core alone is ~70 MB of RSS.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: exe, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(args.timeoutMs ?? 15_000);
    const problems: string[] = [];
    const root = pathToFileURL(args.dir).href;
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`uncaught error: ${e.message}`));
    page.on('requestfailed', (r) =>
      problems.push(`failed request: ${r.url()} (${r.failure()?.errorText ?? 'failed'})`),
    );
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(`${root}/`) || url.startsWith('data:')) return route.continue();
      return route.abort('blockedbyclient');
    });
    await page.goto(pathToFileURL(args.page).href, { waitUntil: 'load' });
    await page.waitForTimeout(200);
    // Runs in the page (DOM types are not in this project's lib, so `document` comes from globalThis).
    const facts = await page.evaluate(() => {
      const document = (globalThis as unknown as { document: PageDocument }).document;
      return {
        title: document.title,
        lang: document.documentElement.lang,
        viewport: document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? null,
        headings: [...document.querySelectorAll('h1, h2')].map(
          (h) => `${h.tagName.toLowerCase()}: ${h.textContent?.trim() ?? ''}`,
        ),
        imagesWithoutAlt: [...document.querySelectorAll('img:not([alt])')].map((i) => i.getAttribute('src') ?? '?'),
        links: document.querySelectorAll('a[href]').length,
        forms: document.querySelectorAll('form').length,
      };
    });
    // A page without a viewport tag renders as a shrunken desktop page on phones.
    if (facts.viewport === null) problems.push('no <meta name="viewport"> tag: the page will not work on phones');
    const aria = await page
      .locator('body')
      .ariaSnapshot()
      .catch(() => '');
    const screenshot = await page.screenshot({ fullPage: true });
    const lines = [
      `page: ${path.relative(args.dir, args.page)}`,
      `title: ${facts.title || '(none)'}`,
      `lang: ${facts.lang || '(none)'}`,
      `viewport meta: ${facts.viewport ?? 'MISSING'}`,
      `headings: ${facts.headings.join(' | ') || '(none)'}`,
      `links: ${facts.links}, forms: ${facts.forms}`,
      `images without alt: ${facts.imagesWithoutAlt.join(', ') || 'none'}`,
      problems.length > 0
        ? `PROBLEMS (${problems.length}):\n${problems.map((p) => `- ${p}`).join('\n')}`
        : 'problems: none',
      `accessibility tree:\n${aria.slice(0, 3000)}`,
    ];
    return { ok: problems.length === 0, text: lines.join('\n'), screenshot };
  } finally {
    await browser.close();
  }
}
