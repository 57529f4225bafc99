/**
 * The docs site (VitePress). Pages live in docs/; the sidebar is sidebar.json so the link tests
 * (test/unit/docs-links.test.ts) can check that every entry is a page. The TypeDoc API reference
 * is plain HTML that `npm run docs:api` writes to docs/public/api/, served as-is at /api/.
 */
import { readFileSync } from 'node:fs';
import { defineConfig, type DefaultTheme } from 'vitepress';

const sidebar = JSON.parse(
  readFileSync(new URL('./sidebar.json', import.meta.url), 'utf8'),
) as DefaultTheme.SidebarItem[];

/** A link into the TypeDoc output (/api/…, or ../api/… from a page): not a VitePress page. */
const API_LINK = /^(\.\.\/)*\/?api(\/|$)/;

export default defineConfig({
  title: 'Maestro',
  description: 'Durable manager-worker LLM agent swarms on Temporal',
  lang: 'en-US',
  cleanUrls: true,
  lastUpdated: false,
  // Dead links fail the build (VitePress's default); nothing is ignored. Links to /api/ are
  // checked against docs/public/api/*.html, so `npm run docs:api` runs first (see docs:build).
  ignoreDeadLinks: false,
  srcExclude: ['public/**'],
  markdown: {
    config(md) {
      // The client router would load /api/ as a VitePress page and show a 404: open it as a
      // plain page instead (target=_self), and still record it for the dead-link check, which
      // VitePress skips for links that carry a target.
      const next = md.renderer.rules.link_open!;
      md.renderer.rules.link_open = (tokens, idx, options, env: { links?: string[] }, self) => {
        const token = tokens[idx]!;
        const href = token.attrGet('href');
        if (href && API_LINK.test(href) && token.attrGet('target') === null) {
          (env.links ??= []).push(href.replace(/[?#].*$/, '').replace(/\.html$/, ''));
          token.attrSet('target', '_self');
        }
        return next(tokens, idx, options, env, self);
      };
    },
  },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/getting-started' },
      { text: 'Reference', link: '/reference/cli' },
      { text: 'API', link: '/api/', target: '_self' },
    ],
    sidebar,
    outline: { level: [2, 3] },
    search: { provider: 'local' },
  },
});
