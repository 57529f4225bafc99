/**
 * `check_page`: opens a workspace HTML page in headless Chromium (playwright-core driving the
 * system's Chromium) and reports what a tester would look at: console errors, uncaught page
 * errors, failed requests, the title, headings, the accessibility tree, images without alt text
 * and the viewport meta tag, plus a screenshot. The page never touches the network: the browser runs
 * in a namespace with no network as nobody where the machine allows it (browser-jail.ts), and in
 * every case the browser context blocks requests that leave the workspace, WebSockets, service
 * workers and new windows (popups, `target=_blank`), reporting each. The browser dies with a
 * cancelled check and with its worker.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { browserLauncher, type BrowserIsolation } from './browser-jail';

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

/** What one page check needs. */
export interface PageCheck {
  /** The materialised workspace (the only folder the page may load from). */
  dir: string;
  /** The page's absolute path inside `dir`. */
  page: string;
  timeoutMs?: number;
  /** Folders the browser must not see (MAESTRO_HOME, the artifact store). */
  hide?: readonly string[];
  /** Forces a confinement (tests); default: the strongest the machine offers. */
  isolation?: BrowserIsolation;
  /** Aborting kills the browser at once; the check then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A page check that could not run because no browser starts here: a setup problem, not a failing page. */
export class BrowserUnavailable extends Error {
  override name = 'BrowserUnavailable';
}

/** Why no browser starts at `exe` (undefined when the file exists). */
export function missingBrowser(exe = chromiumPath()): string | undefined {
  if (existsSync(exe)) return undefined;
  return `no Chromium at ${exe}: install it (apt-get install chromium) or set MAESTRO_CHROMIUM_PATH to a Chromium binary`;
}

/** Opens the page, gathers the facts and a screenshot; `problems` decide `ok`. */
export async function checkPage(args: PageCheck): Promise<PageReport> {
  const exe = chromiumPath();
  const missing = missingBrowser(exe);
  if (missing) throw new BrowserUnavailable(missing);
  args.signal?.throwIfAborted();
  // Loaded when a page is checked, not with the worker: playwright-core alone is ~70 MB of RSS.
  const { chromium } = await import('playwright-core');
  const launcher = browserLauncher({
    exe,
    workspace: args.dir,
    ...(args.hide ? { hide: args.hide } : {}),
    ...(args.isolation ? { isolation: args.isolation } : {}),
  });
  const kill = () => launcher.kill();
  args.signal?.addEventListener('abort', kill);
  let browser: Browser | undefined;
  try {
    try {
      browser = await chromium.launch({
        executablePath: launcher.path,
        env: launcher.env,
        args: ['--headless', '--no-sandbox', '--disable-gpu', ...NO_NETWORK_ARGS],
        timeout: 30_000,
      });
    } catch (err) {
      if (args.signal?.aborted) throw err;
      throw new BrowserUnavailable(
        `Chromium at ${exe} did not start (${firstLine(err)}): check the install (apt-get install chromium) or MAESTRO_CHROMIUM_PATH`,
      );
    }
    return await inspect(browser, args);
  } catch (err) {
    if (args.signal?.aborted) throw args.signal.reason instanceof Error ? args.signal.reason : new Error('cancelled');
    throw err;
  } finally {
    args.signal?.removeEventListener('abort', kill);
    if (browser) await Promise.race([browser.close().catch(() => undefined), delay(5000)]);
    launcher.kill();
    launcher.dispose();
  }
}

/** A proxy address nothing listens on (TCP port 1 of the loopback): a dial-out fails there. */
const DEAD_PROXY = 'http://127.0.0.1:1';

/** Chromium switches that keep its own traffic (prediction, WebRTC, background services) off. */
const NO_NETWORK_ARGS = [
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
  '--webrtc-ip-handling-policy=disable_non_proxied_udp',
  '--dns-prefetch-disable',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-domain-reliability',
  '--disable-features=NetworkPrediction,NetworkServiceInProcess2',
  '--no-pings',
  // Whatever still dials out (a preconnect, a prediction) goes to a proxy that is not there.
  `--proxy-server=${DEAD_PROXY}`,
  '--proxy-bypass-list=<-loopback>',
];

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0] ?? '';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function inspect(browser: Browser, args: PageCheck): Promise<PageReport> {
  const problems: string[] = [];
  const root = pathToFileURL(args.dir).href;
  // Context-level, so popups, frames and workers are covered as well as the page.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    serviceWorkers: 'block',
    acceptDownloads: false,
  });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(`${root}/`) || url.startsWith('data:')) return route.continue();
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(
    () => true,
    (ws) => {
      problems.push(`blocked WebSocket: ${ws.url()} (page checks have no network)`);
      void ws.close({ code: 1008, reason: 'no network in page checks' }).catch(() => undefined);
    },
  );
  const page = await context.newPage();
  context.on('page', (other) => {
    if (other === page) return;
    problems.push(`blocked a new window (window.open or target=_blank): ${other.url() || 'about:blank'}`);
    void other.close().catch(() => undefined);
  });
  page.setDefaultTimeout(args.timeoutMs ?? 15_000);
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught error: ${e.message}`));
  context.on('requestfailed', (r) =>
    problems.push(`failed request: ${r.url()} (${r.failure()?.errorText ?? 'failed'})`),
  );
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
}
