/**
 * The simulated Designer's deliverables: a real, responsive `styles.css` for the classes the
 * page uses and a style guide that documents it. The palette follows the kind of business.
 */
import { hashOf, type Subject } from './subject';

/** Colours and fonts of a design. */
export interface Palette {
  name: string;
  primary: string;
  accent: string;
  background: string;
  surface: string;
  text: string;
  muted: string;
  headingFont: string;
  bodyFont: string;
}

const PALETTES: readonly (Palette & { match?: RegExp })[] = [
  {
    name: 'Roasted',
    match: /coffee|caf[eé]|espresso|roast|chocolate/i,
    primary: '#4b2e1e',
    accent: '#c8873a',
    background: '#fbf7f2',
    surface: '#f1e6d8',
    text: '#2a1a10',
    muted: '#6f5a4b',
    headingFont: "Georgia, 'Times New Roman', serif",
    bodyFont: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  },
  {
    name: 'Warm crust',
    match: /bak|pastr|bread|cake|patisserie/i,
    primary: '#8a3b12',
    accent: '#e9a23b',
    background: '#fffaf3',
    surface: '#f7ead7',
    text: '#33210f',
    muted: '#7a5e45',
    headingFont: "'Palatino Linotype', Palatino, Georgia, serif",
    bodyFont: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  },
  {
    name: 'Garden',
    match: /garden|flor|plant|green|farm|organic|yoga|spa/i,
    primary: '#2f5d3a',
    accent: '#d9a441',
    background: '#f7faf5',
    surface: '#e4efe1',
    text: '#1c2b1f',
    muted: '#5b6e5e',
    headingFont: "Georgia, 'Times New Roman', serif",
    bodyFont: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  },
  {
    name: 'Circuit',
    match: /tech|software|app|startup|saas|digital|studio|agency/i,
    primary: '#1d3b8b',
    accent: '#14b8a6',
    background: '#f8fafc',
    surface: '#e2e8f0',
    text: '#0f172a',
    muted: '#475569',
    headingFont: "'Inter', system-ui, -apple-system, 'Segoe UI', sans-serif",
    bodyFont: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  },
  {
    name: 'Harbour',
    primary: '#1f4e79',
    accent: '#f2a541',
    background: '#fdfcfa',
    surface: '#e8eef3',
    text: '#1b2733',
    muted: '#5a6b7b',
    headingFont: "Georgia, 'Times New Roman', serif",
    bodyFont: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  },
  {
    name: 'Plum',
    primary: '#5b2a5e',
    accent: '#e07a5f',
    background: '#fcf9fb',
    surface: '#efe4ee',
    text: '#241326',
    muted: '#6d5a6e',
    headingFont: "'Trebuchet MS', system-ui, sans-serif",
    bodyFont: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  },
];

/** The palette for a subject: by kind when one fits, else picked by a hash of the name. */
export function paletteFor(subject: Subject): Palette {
  const byKind = PALETTES.find((p) => p.match?.test(`${subject.kind} ${subject.name}`));
  const generic = PALETTES.filter((p) => !p.match);
  const chosen = byKind ?? generic[hashOf(subject.name) % generic.length] ?? PALETTES[0]!;
  const { match: _match, ...palette } = chosen;
  return palette;
}

/** A responsive style sheet for the page classes (see PAGE_CLASSES in plan.ts). */
export function buildCss(subject: Subject): string {
  const p = paletteFor(subject);
  return `/* ${subject.name} — styles for the one-page website (${p.name} palette). */
:root {
  --color-primary: ${p.primary};
  --color-accent: ${p.accent};
  --color-background: ${p.background};
  --color-surface: ${p.surface};
  --color-text: ${p.text};
  --color-muted: ${p.muted};
  --font-heading: ${p.headingFont};
  --font-body: ${p.bodyFont};
  --radius: 12px;
  --space: 1rem;
  --max-width: 1100px;
}

*, *::before, *::after { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body {
  margin: 0;
  font-family: var(--font-body);
  font-size: 1.0625rem;
  line-height: 1.6;
  color: var(--color-text);
  background: var(--color-background);
}
h1, h2, h3 { font-family: var(--font-heading); line-height: 1.2; color: var(--color-primary); margin: 0 0 0.5em; }
h1 { font-size: clamp(2rem, 5vw, 3.25rem); }
h2 { font-size: clamp(1.5rem, 3.5vw, 2.25rem); }
h3 { font-size: 1.25rem; }
a { color: var(--color-primary); }
img { max-width: 100%; height: auto; }

.container { width: 100%; max-width: var(--max-width); margin: 0 auto; padding: 0 calc(var(--space) * 1.5); }

.site-header { position: sticky; top: 0; z-index: 10; background: var(--color-background); border-bottom: 1px solid var(--color-surface); }
.header-inner { display: flex; align-items: center; justify-content: space-between; min-height: 4rem; }
.brand { font-family: var(--font-heading); font-size: 1.35rem; font-weight: 700; text-decoration: none; color: var(--color-primary); }
.site-nav { position: relative; }
.nav-toggle { display: none; font: inherit; padding: 0.4rem 0.8rem; border: 1px solid var(--color-primary); border-radius: var(--radius); background: transparent; color: var(--color-primary); cursor: pointer; }
.nav-links { display: flex; gap: calc(var(--space) * 1.5); list-style: none; margin: 0; padding: 0; }
.nav-links a { text-decoration: none; font-weight: 600; }
.nav-links a:hover, .nav-links a:focus-visible { color: var(--color-accent); }

.hero { padding: calc(var(--space) * 5) 0; background: linear-gradient(135deg, var(--color-surface), var(--color-background)); text-align: center; }
.tagline { font-size: 1.25rem; color: var(--color-muted); max-width: 40rem; margin: 0 auto calc(var(--space) * 2); }
.button { display: inline-block; padding: 0.75rem 1.5rem; border-radius: var(--radius); background: var(--color-primary); color: #fff; font-weight: 700; text-decoration: none; }
.button:hover, .button:focus-visible { background: var(--color-accent); color: var(--color-text); }

.section { padding: calc(var(--space) * 4) 0; }
.section-alt { background: var(--color-surface); }
.card-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: calc(var(--space) * 1.5); list-style: none; margin: 0; padding: 0; }
.card { background: var(--color-background); border-radius: var(--radius); padding: calc(var(--space) * 1.5); box-shadow: 0 2px 8px rgb(0 0 0 / 0.08); }
.card p { margin: 0; color: var(--color-muted); }

.site-footer { padding: calc(var(--space) * 2) 0; background: var(--color-primary); color: #fff; text-align: center; }
.site-footer a { color: #fff; }

@media (max-width: 640px) {
  .nav-toggle { display: inline-block; }
  .nav-links { display: none; position: absolute; right: 0; top: 2.75rem; flex-direction: column; gap: var(--space); padding: var(--space); background: var(--color-background); border: 1px solid var(--color-surface); border-radius: var(--radius); min-width: 12rem; }
  .nav-links.is-open { display: flex; }
  .hero { padding: calc(var(--space) * 3) 0; }
  .section { padding: calc(var(--space) * 2.5) 0; }
}
`;
}

/** The style guide that documents the style sheet. */
export function buildStyleGuide(subject: Subject): string {
  const p = paletteFor(subject);
  return `# Style guide — ${subject.name}

Visual style for the one-page website of ${subject.name}, a ${subject.kind}. Palette: **${p.name}**.

## Palette

| Role | CSS variable | Hex |
| --- | --- | --- |
| Primary | \`--color-primary\` | ${p.primary} |
| Accent | \`--color-accent\` | ${p.accent} |
| Background | \`--color-background\` | ${p.background} |
| Surface | \`--color-surface\` | ${p.surface} |
| Text | \`--color-text\` | ${p.text} |
| Muted text | \`--color-muted\` | ${p.muted} |

## Typography

- Headings: ${p.headingFont} (\`--font-heading\`), fluid sizes with \`clamp()\`.
- Body: ${p.bodyFont} (\`--font-body\`), 1.0625rem, line height 1.6.

## Layout and components

- \`.container\`: centred column, max width 1100px.
- \`.site-header\`, \`.header-inner\`, \`.brand\`: sticky header with the name on the left.
- \`.site-nav\`, \`.nav-links\`, \`.nav-toggle\`: inline links; below 640px a toggle button opens them (\`.is-open\`).
- \`.hero\`, \`.tagline\`, \`.button\`: first screen with headline, tagline and call to action.
- \`.section\`, \`.section-alt\`: content sections; alternate ones get the surface colour.
- \`.card-grid\`, \`.card\`: responsive grid of items (auto-fit, min 14rem).
- \`.site-footer\`: footer in the primary colour.

## Responsive behaviour

One breakpoint at 640px: the navigation collapses behind the toggle and vertical spacing shrinks.
`;
}
