/**
 * The simulated Writer's page copy and the simulated Coder's page: `content/copy.md` with
 * `# Headline`-style sections, and an `index.html` + `script.js` built from that copy.
 */
import { servesFood } from './plan-website';
import { slugOf, type Subject } from './subject';

/** Page copy, as written to and read back from `content/copy.md`. */
export interface PageCopy {
  headline: string;
  tagline: string;
  about: string;
  offerTitle: string;
  items: { name: string; description: string }[];
  contact: string;
  cta: string;
}

function itemsFor(kind: string): { name: string; description: string }[] {
  if (/coffee|caf[eé]|espresso/i.test(kind))
    return [
      { name: 'Espresso', description: 'A short, rich shot pulled from our house blend.' },
      { name: 'Flat white', description: 'Velvety milk over a double ristretto.' },
      { name: 'Cold brew', description: 'Steeped for eighteen hours, smooth and bright.' },
      { name: 'Almond croissant', description: 'Baked every morning, best with a cortado.' },
    ];
  if (/bak|pastr|bread|cake/i.test(kind))
    return [
      { name: 'Sourdough loaf', description: 'Long-fermented, crackling crust, open crumb.' },
      { name: 'Butter croissant', description: 'Laminated by hand over three days.' },
      { name: 'Cinnamon bun', description: 'Soft, spiced and glazed while warm.' },
      { name: 'Seasonal fruit tart', description: 'Whatever the market brings this week.' },
    ];
  if (servesFood(kind))
    return [
      { name: 'Seasonal starter', description: 'Fresh, local produce, simply prepared.' },
      { name: 'House main', description: 'Our signature dish, cooked to order.' },
      { name: 'Daily special', description: 'Ask what the kitchen is excited about today.' },
      { name: 'Homemade dessert', description: 'A sweet finish made in-house.' },
    ];
  return [
    { name: 'Consultation', description: `A free first conversation about what you need from a ${kind}.` },
    { name: 'Tailored service', description: 'Work planned around your goals, budget and timeline.' },
    { name: 'Ongoing support', description: 'We stay in touch and help whenever you need us.' },
  ];
}

/** The copy the simulated Writer writes for a subject. */
export function copyFor(subject: Subject): PageCopy {
  const food = servesFood(subject.kind);
  const domain = `${slugOf(subject.name, 40)}.example`;
  return {
    headline: food
      ? `${subject.name}: made with care, served with a smile`
      : `${subject.name}: the ${subject.kind} that puts you first`,
    tagline: `Your friendly neighbourhood ${subject.kind}, here for you every day.`,
    about: `${subject.name} is a ${subject.kind} run by people who love what they do. We keep things simple, honest and welcoming, so every visit feels easy.`,
    offerTitle: food ? 'Menu' : 'Services',
    items: itemsFor(subject.kind),
    contact: `Visit us at 12 Market Street. Open Monday to Saturday, 8:00–18:00. Email hello@${domain} or call 555-0142.`,
    cta: food ? 'Drop by today' : 'Get in touch today',
  };
}

/** `content/copy.md` for the copy. */
export function copyMarkdown(copy: PageCopy): string {
  return (
    [
      `# Headline\n${copy.headline}`,
      `# Tagline\n${copy.tagline}`,
      `# About\n${copy.about}`,
      `# ${copy.offerTitle}\n${copy.items.map((i) => `- ${i.name}: ${i.description}`).join('\n')}`,
      `# Contact\n${copy.contact}`,
      `# Call to action\n${copy.cta}`,
    ].join('\n\n') + '\n'
  );
}

/** Reads copy written in the `copyMarkdown` structure; missing parts come from `fallback`. */
export function parseCopy(markdown: string, fallback: PageCopy): PageCopy {
  const sections = new Map<string, string>();
  for (const chunk of markdown.split(/^# /m).slice(1)) {
    const nl = chunk.indexOf('\n');
    const heading = (nl < 0 ? chunk : chunk.slice(0, nl)).trim().toLowerCase();
    sections.set(heading, nl < 0 ? '' : chunk.slice(nl + 1).trim());
  }
  const text = (key: string, fb: string) => sections.get(key)?.replace(/\s+/g, ' ') || fb;
  const offerKey = ['menu', 'services', 'features'].find((k) => sections.has(k));
  const items = (offerKey ? (sections.get(offerKey) ?? '') : '')
    .split('\n')
    .map((l) => /^- ([^:]+):\s*(.+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: (m[1] ?? '').trim(), description: (m[2] ?? '').trim() }));
  return {
    headline: text('headline', fallback.headline),
    tagline: text('tagline', fallback.tagline),
    about: text('about', fallback.about),
    offerTitle: offerKey ? offerKey[0]!.toUpperCase() + offerKey.slice(1) : fallback.offerTitle,
    items: items.length > 0 ? items : fallback.items,
    contact: text('contact', fallback.contact),
    cta: text('call to action', fallback.cta),
  };
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The viewport tag whose absence the simulated review flags. */
export const VIEWPORT_META = '<meta name="viewport" content="width=device-width, initial-scale=1">';

/**
 * The page; `withViewport` false reproduces the first-attempt mistake the review (or the Coder's
 * own page check) catches; `withLang` false leaves out `lang` on <html>, which the page check does
 * not flag but the Tester's `tests/check-page.mjs` does.
 */
export function buildHtml(subject: Subject, copy: PageCopy, withViewport: boolean, withLang = true): string {
  const e = escapeHtml;
  const offerId = slugOf(copy.offerTitle, 20);
  const nav = [
    ['about', 'About'],
    [offerId, copy.offerTitle],
    ['contact', 'Contact'],
  ];
  const cards = copy.items
    .map(
      (i) =>
        `          <li class="card">\n            <h3>${e(i.name)}</h3>\n            <p>${e(i.description)}</p>\n          </li>`,
    )
    .join('\n');
  return `<!doctype html>
<html${withLang ? ' lang="en"' : ''}>
<head>
  <meta charset="utf-8">
${withViewport ? `  ${VIEWPORT_META}\n` : ''}  <title>${e(subject.name)} — ${e(subject.kind)}</title>
  <meta name="description" content="${e(copy.tagline)}">
  <link rel="stylesheet" href="styles.css">
  <script src="script.js" defer></script>
</head>
<body>
  <header class="site-header">
    <div class="container header-inner">
      <a class="brand" href="#top">${e(subject.name)}</a>
      <nav class="site-nav" aria-label="Main">
        <button class="nav-toggle" type="button" aria-expanded="false" aria-controls="nav-links" aria-label="Open navigation">&#9776;</button>
        <ul id="nav-links" class="nav-links">
${nav.map(([id, label]) => `          <li><a href="#${id}">${e(label ?? '')}</a></li>`).join('\n')}
        </ul>
      </nav>
    </div>
  </header>
  <main id="top">
    <section class="hero">
      <div class="container">
        <h1>${e(copy.headline)}</h1>
        <p class="tagline">${e(copy.tagline)}</p>
        <a class="button" href="#contact">${e(copy.cta)}</a>
      </div>
    </section>
    <section id="about" class="section">
      <div class="container">
        <h2>About</h2>
        <p>${e(copy.about)}</p>
      </div>
    </section>
    <section id="${offerId}" class="section section-alt">
      <div class="container">
        <h2>${e(copy.offerTitle)}</h2>
        <ul class="card-grid">
${cards}
        </ul>
      </div>
    </section>
    <section id="contact" class="section">
      <div class="container">
        <h2>Contact</h2>
        <p>${e(copy.contact)}</p>
        <a class="button" href="#top">${e(copy.cta)}</a>
      </div>
    </section>
  </main>
  <footer class="site-footer">
    <div class="container">
      <p>&copy; <span id="year"></span> ${e(subject.name)}. All rights reserved.</p>
    </div>
  </footer>
</body>
</html>
`;
}

/** The page's script: footer year, mobile navigation toggle, smooth scrolling. */
export function buildScript(subject: Subject): string {
  return `// ${subject.name} — page behaviour: footer year, mobile navigation, smooth scrolling.
(function () {
  'use strict';

  var year = document.getElementById('year');
  if (year) year.textContent = String(new Date().getFullYear());

  var toggle = document.querySelector('.nav-toggle');
  var links = document.getElementById('nav-links');
  if (toggle && links) {
    toggle.addEventListener('click', function () {
      var open = links.classList.toggle('is-open');
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }

  document.querySelectorAll('a[href^="#"]').forEach(function (link) {
    link.addEventListener('click', function (event) {
      var id = link.getAttribute('href').slice(1);
      var target = id ? document.getElementById(id) : null;
      if (!target) return;
      event.preventDefault();
      target.scrollIntoView({ behavior: 'smooth', block: 'start' });
      if (links) links.classList.remove('is-open');
      if (toggle) toggle.setAttribute('aria-expanded', 'false');
    });
  });
})();
`;
}
