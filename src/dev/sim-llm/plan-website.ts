/**
 * The simulated Boss's website plan (designer, writer, coder, tester). Every spec carries the
 * subject and the file names, class names and structure the worker needs, because workers
 * never see the goal.
 */
import { mapRole, type SimPlan, type SimTicket } from './plan-types';
import { clip, subjectLine, type Subject } from './subject';

/** The PAGE classes the designer styles and the coder uses, so both sides agree. */
export const PAGE_CLASSES = [
  'container',
  'site-header',
  'header-inner',
  'brand',
  'site-nav',
  'nav-toggle',
  'nav-links',
  'hero',
  'tagline',
  'button',
  'section',
  'section-alt',
  'card-grid',
  'card',
  'site-footer',
] as const;

/** Whether the kind of business serves food or drink (its page has a menu). */
export function servesFood(kind: string): boolean {
  return /coffee|caf[eé]|bakery|bake|pastry|restaurant|bistro|pizz|diner|food|bar\b|pub\b|tea|juice|ice cream|deli|kitchen|grill|sushi|taco|burger/i.test(
    kind,
  );
}

/** The four-ticket website plan: design and copy in parallel, then the page, then its test (with the style sheet). */
export function websitePlan(goal: string, subject: Subject, roles: readonly string[]): SimPlan {
  const subj = subjectLine(subject);
  const offer = servesFood(subject.kind) ? 'Menu' : 'Services';
  const classes = PAGE_CLASSES.join(', ');
  const t1: SimTicket = {
    id: 'T1',
    role: mapRole('designer', roles),
    title: 'Design the visual style',
    spec: [
      subj,
      `Create the visual style for the one-page website of ${subject.name}, a ${subject.kind}: a colour palette that suits a ${subject.kind}, typography and a responsive layout.`,
      'Deliver these files: `styles.css`, `design/style-guide.md`.',
      `styles.css defines the palette as CSS custom properties on :root, the typography, and styles for these classes used by the page: ${classes}. Include a media query for narrow screens (max-width: 640px).`,
      'design/style-guide.md documents the palette (hex values), the fonts and every class above.',
    ].join('\n'),
    acceptanceCriteria: [
      'styles.css defines the colour palette as CSS custom properties',
      'styles.css styles every class listed in the specification',
      'styles.css has a media query for narrow screens',
      'design/style-guide.md documents palette, typography and components',
    ],
    dependsOn: [],
  };
  const t2: SimTicket = {
    id: 'T2',
    role: mapRole('writer', roles),
    title: 'Write the page copy',
    spec: [
      subj,
      `Write the copy for the one-page website of ${subject.name}, a ${subject.kind}.`,
      'Deliver this file: `content/copy.md`.',
      `Structure it with exactly these level-one headings, in order: # Headline, # Tagline, # About, # ${offer}, # Contact, # Call to action. Under # ${offer} write one bullet per item as "- Name: one-sentence description". Keep the whole file under 1500 characters.`,
    ].join('\n'),
    acceptanceCriteria: [
      `content/copy.md has the headings Headline, Tagline, About, ${offer}, Contact and Call to action`,
      `The copy names ${subject.name} and speaks to customers of a ${subject.kind}`,
      `The ${offer} section lists at least three items`,
    ],
    dependsOn: [],
  };
  const t3: SimTicket = {
    id: 'T3',
    role: mapRole('coder', roles),
    title: 'Build the landing page',
    spec: [
      subj,
      `Build the one-page website of ${subject.name}, a ${subject.kind}, from the copy in content/copy.md (ticket T2) and the style sheet styles.css (ticket T1).`,
      'Deliver these files: `index.html`, `script.js`.',
      `index.html: HTML5 with <!doctype html>, <html lang="en">, a charset meta tag, a <title> naming ${subject.name}, <link rel="stylesheet" href="styles.css">, <script src="script.js" defer>, and a header with nav, a main with hero, about, ${offer.toLowerCase()} and contact sections, and a footer. Use these classes from styles.css: ${classes}.`,
      'script.js: sets the current year in the footer, toggles the navigation on small screens and scrolls smoothly to sections.',
    ].join('\n'),
    acceptanceCriteria: [
      `index.html is HTML5 with doctype, lang, charset and a title naming ${subject.name}`,
      'index.html links styles.css and loads script.js with defer',
      'The page works on phones and desktops',
      'The page uses the headline, sections and contact details from content/copy.md',
      'script.js sets the footer year and toggles the navigation',
    ],
    dependsOn: ['T1', 'T2'],
  };
  const t4: SimTicket = {
    id: 'T4',
    role: mapRole('tester', roles),
    title: 'Test the page',
    spec: [
      subj,
      `Verify the one-page website of ${subject.name} built in ticket T3 (index.html and script.js at the root of the output folder), with the style sheet styles.css of ticket T1 it links.`,
      'Deliver these files: `tests/check-page.mjs`, `TEST-REPORT.md`.',
      'tests/check-page.mjs is plain Node (no dependencies); it reads ../index.html relative to its own location, checks doctype, lang, charset, viewport meta, title, the styles.css link, the script.js tag, one h1 and the business name, prints one line per check and exits non-zero when a check fails.',
      'TEST-REPORT.md lists every check with its result and how to run the script (node tests/check-page.mjs).',
    ].join('\n'),
    acceptanceCriteria: [
      'tests/check-page.mjs runs with plain Node and exits non-zero on a failed check',
      'The checks cover doctype, viewport, title, styles.css and script.js',
      'TEST-REPORT.md lists every check with its result',
    ],
    dependsOn: ['T1', 'T3'],
  };
  return {
    summary: clip(`One-page website for ${subject.name}, a ${subject.kind}: design, copy, build, then test.`, 2000),
    tickets: [t1, t2, t3, t4],
  };
}
