/** Parsers for CLI option values that fail with a message naming the flag. */
import { InvalidArgumentError } from 'commander';

/** An integer option within [min, max]. */
export function parseIntOption(flag: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}; got "${value}".`);
    }
    return n;
  };
}
