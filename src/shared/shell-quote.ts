/** Shell quoting for the commands Maestro prints for a person to read or paste. */

/** Quotes a shell word only when it needs it (run ids usually do not). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
