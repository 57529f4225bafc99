/**
 * The simulated workers: a work result for a worker prompt. The files produced are the ones
 * the spec asks for (`Deliver ... \`path\``), else the role's usual deliverables; each path is
 * filled by the generator for its kind of file. The coder leaves out the viewport tag until a
 * reviewer asks for it, so tests see a real review loop.
 */
import { parseWorkerPrompt, type ShownFile, type WorkerPromptInfo } from './prompt-parse';
import { genericCode, genericMarkdown } from './generic-files';
import { clip, deliverablesOf, directivesOf, isWebsiteText, slugOf, subjectOfSpec, type Subject } from './subject';
import { buildCheckScript, buildPageReport } from './website-checks';
import { buildHtml, buildScript, copyFor, copyMarkdown, parseCopy } from './website-page';
import { buildCss, buildStyleGuide } from './website-style';

/** A work result as the work schema wants it. */
export interface SimWorkResult {
  summary: string;
  files: { path: string; content: string }[];
}

/** The role a worker's system prompt describes ("You are the Coder ..."), lower-case. */
export function roleOfSystem(system: string): string {
  const named = /\bYou are the ([A-Za-z][\w-]*)/.exec(system)?.[1]?.toLowerCase();
  if (named) return named;
  if (/design|css|visual/i.test(system)) return 'designer';
  if (/test|verif|qa\b/i.test(system)) return 'tester';
  if (/code|implement|program|develop/i.test(system)) return 'coder';
  return 'writer';
}

function defaultDeliverables(role: string, info: WorkerPromptInfo, web: boolean): string[] {
  const slug = slugOf(info.title || info.ticketId);
  if (role === 'designer') return ['styles.css', 'design/style-guide.md'];
  if (role === 'coder') return web ? ['index.html', 'script.js'] : [`src/${slug}.js`];
  if (role === 'tester') return web ? ['tests/check-page.mjs', 'TEST-REPORT.md'] : ['TEST-REPORT.md'];
  if (role === 'writer') return web ? ['content/copy.md'] : [`docs/${slug}.md`];
  return [`${role}/${slug}.md`];
}

function allShown(info: WorkerPromptInfo): ShownFile[] {
  return info.dependencies.flatMap((d) => d.files);
}

/**
 * Whether an agent Coder's page declares its language: not at first (its own page check does not
 * see it, a Tester's test does), then once feedback names the language. Pages of single-call
 * Coders always declare it.
 */
function declaresLang(info: WorkerPromptInfo, agent: boolean): boolean {
  if (!agent) return true;
  return /language on <html>|lang attribute/i.test(info.feedback ?? '');
}

function fileFor(path: string, info: WorkerPromptInfo, role: string, subject: Subject, agent: boolean): string {
  const base = path.split('/').pop() ?? path;
  const shown = allShown(info);
  if (base.endsWith('.css')) return buildCss(subject);
  if (/style-guide/i.test(base)) return buildStyleGuide(subject);
  if (/copy/i.test(base) && base.endsWith('.md')) return copyMarkdown(copyFor(subject));
  if (base.endsWith('.html')) {
    const copyFile = shown.find((f) => /copy/i.test(f.path) && f.path.endsWith('.md'));
    const copy = copyFile ? parseCopy(copyFile.text, copyFor(subject)) : copyFor(subject);
    return buildHtml(subject, copy, info.feedback !== undefined, declaresLang(info, agent));
  }
  if (base === 'script.js' && (role === 'coder' || isWebsiteText(info.spec))) return buildScript(subject);
  if (/check-page/i.test(base)) return buildCheckScript(subject, directivesOf(info.spec).failingTest !== undefined);
  if (/test-report/i.test(base) && shown.some((f) => f.path.endsWith('.html')))
    return buildPageReport(subject, info.criteria, shown);
  if (/\.(m?js|cjs|ts|py)$/.test(base)) return genericCode(path, info);
  return genericMarkdown(path, info, role);
}

/** The simulated worker's answer to a worker prompt (`agent`: it works with tools; see declaresLang). */
export function workResultFor(system: string, user: string, agent = false): SimWorkResult {
  const info = parseWorkerPrompt(user);
  const role = roleOfSystem(system);
  const web = isWebsiteText(`${info.title}\n${info.spec}`);
  const subject = subjectOfSpec(info.spec);
  const paths = deliverablesOf(info.spec);
  const wanted = (paths.length > 0 ? paths : defaultDeliverables(role, info, web)).slice(0, 20);
  const files = wanted.map((path) => ({ path, content: fileFor(path, info, role, subject, agent) }));
  const revised = info.feedback ? ' Revised after review feedback.' : '';
  const about = web ? subject.name : `"${info.title || info.ticketId}"`;
  const summary = `${info.ticketId} (${role}): delivered ${wanted.join(', ')} for ${about}.${revised}`;
  return { summary: clip(summary, 2000), files };
}
