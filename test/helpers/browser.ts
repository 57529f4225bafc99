/**
 * The headless browser of the Web UI tests (Debian's Chromium driven by playwright-core) and the
 * checks every such test needs first: Chromium installed, the temporal CLI known, the SDK runtime
 * installed once.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The Chromium binary (override with MAESTRO_CHROMIUM_PATH). */
export const CHROMIUM = process.env.MAESTRO_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where screenshots and server logs of the UI tests go. */
export const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');

/** Checks the prerequisites and returns the temporal CLI path for a dev server with the UI. */
export function prepareUiTest(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does) or set MAESTRO_CHROMIUM_PATH.`,
    );
  }
  const cliPath = process.env.TEMPORAL_CLI_PATH;
  if (!cliPath) throw new Error('TEMPORAL_CLI_PATH is not set: run this test through jest (global setup sets it).');
  mkdirSync(ARTIFACTS, { recursive: true });
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed in this process
  }
  return cliPath;
}

/** Launches headless Chromium with one page (1400x1000, 30 s default timeout). */
export async function openBrowser(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(30_000);
  return { browser, page };
}
