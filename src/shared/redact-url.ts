/**
 * One way to show a URL that may carry credentials (OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT):
 * `user:password@` becomes `***@`, every query value becomes `***` except a few known harmless
 * parameters (`api-version`), and a fragment becomes `#***`. Everything that renders a provider
 * URL (worker identity, doctor, logs, call failures) goes through here, so a key placed in the URL
 * never reaches a history, a log or a terminal. Credentials in the path itself cannot be told
 * apart from a path and are shown as given. Pure string work: no URL parsing that could throw or
 * normalise the address differently from what the person wrote.
 */

/** Query parameters whose values are shown: they configure, they do not authenticate. */
const SHOWN_QUERY_PARAMS = new Set(['api-version']);

const MASK = '***';
const SCHEME_AND_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)/i;
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()`]+/gi;

/** The URL with its credentials masked (see the module comment). */
export function redactUrl(url: string): string {
  let out = url.replace(SCHEME_AND_USERINFO, `$1${MASK}@`);
  const hash = out.indexOf('#');
  if (hash >= 0) out = `${out.slice(0, hash)}#${MASK}`;
  const q = out.indexOf('?');
  if (q < 0) return out;
  const end = out.indexOf('#', q);
  const query = out.slice(q + 1, end < 0 ? undefined : end);
  const shown = query
    .split('&')
    .map((pair) => {
      if (pair === '') return pair;
      const eq = pair.indexOf('=');
      if (eq < 0) return MASK;
      return SHOWN_QUERY_PARAMS.has(pair.slice(0, eq).toLowerCase()) ? pair : `${pair.slice(0, eq)}=${MASK}`;
    })
    .join('&');
  return `${out.slice(0, q)}?${shown}${end < 0 ? '' : out.slice(end)}`;
}

/** `text` with every URL in it redacted, for error messages that may quote the request URL. */
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}

/** `value` with `redactUrlsIn` applied to every string in it (a report about to be printed). */
export function redactUrlsDeep<T>(value: T): T {
  if (typeof value === 'string') return redactUrlsIn(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactUrlsDeep(v)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactUrlsDeep(v)])) as T;
  }
  return value;
}
