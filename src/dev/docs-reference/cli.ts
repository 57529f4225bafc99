/**
 * docs/reference/cli.md from the commander program itself (buildProgram()), so every command,
 * argument and flag the CLI accepts is listed with its own help text and default.
 */
import type { Argument, Command, Option } from 'commander';
import { buildProgram } from '../../client/cli-program';
import { cell, code, generatedNote, prose, table } from './markdown';

function argumentText(a: Argument): string {
  const name = `${a.name()}${a.variadic ? '...' : ''}`;
  return a.required ? `<${name}>` : `[${name}]`;
}

/** The usage line of a command: `maestro <name> <arg> [options]`. */
export function usageOf(cmd: Command, path: readonly string[]): string {
  const args = cmd.registeredArguments.map(argumentText);
  return ['maestro', ...path, ...(cmd.options.length > 0 ? ['[options]'] : []), ...args].join(' ');
}

function defaultOf(o: Option): string {
  if (o.defaultValueDescription) return cell(o.defaultValueDescription);
  if (o.defaultValue === undefined || o.negate) return '';
  return code(JSON.stringify(o.defaultValue));
}

function optionRows(options: readonly Option[]): string[][] {
  return options
    .filter((o) => !o.hidden)
    .map((o) => [
      code(o.flags),
      prose(o.description) + (o.argChoices ? ` (one of ${o.argChoices.map(code).join(', ')})` : ''),
      defaultOf(o),
    ]);
}

function commandSection(cmd: Command, path: readonly string[]): string[] {
  const out = [`## maestro ${path.join(' ')}`, '', prose(cmd.description()), '', '```', usageOf(cmd, path), '```'];
  if (cmd.aliases().length > 0) out.push('', `Aliases: ${cmd.aliases().map(code).join(', ')}`);
  if (cmd.registeredArguments.length > 0)
    out.push(
      '',
      table(
        ['Argument', 'Description'],
        cmd.registeredArguments.map((a) => [
          code(argumentText(a)),
          prose(a.description || '') + (a.required ? '' : ' (optional)'),
        ]),
      ),
    );
  const rows = optionRows(cmd.options);
  out.push('', rows.length > 0 ? table(['Option', 'Description', 'Default'], rows) : 'No options.');
  for (const sub of cmd.commands) out.push('', ...commandSection(sub, [...path, sub.name()]));
  return out;
}

/** Every command of a program in order, with its path of names (e.g. ['temporal']). */
export function commandsOf(program: Command): { cmd: Command; path: string[] }[] {
  const all: { cmd: Command; path: string[] }[] = [];
  const walk = (c: Command, path: string[]): void => {
    for (const sub of c.commands) {
      all.push({ cmd: sub, path: [...path, sub.name()] });
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(program, []);
  return all;
}

/** The page: global options, an index of commands, then one section per command. */
export function cliReference(program: Command = buildProgram()): string {
  const commands = commandsOf(program);
  const index = table(
    ['Command', 'What it does'],
    commands.map(({ cmd, path }) => [
      `[${cell(`maestro ${path.join(' ')}`)}](#maestro-${path.join('-')})`,
      prose(cmd.description()),
    ]),
  );
  const sections = program.commands.flatMap((c) => ['', ...commandSection(c, [c.name()])]);
  return [
    '# CLI reference',
    '',
    generatedNote('the `maestro` command line (src/client/cli-program.ts)'),
    '',
    prose(program.description()),
    '',
    '## Global options',
    '',
    'These come before the command, e.g. `maestro --trust-config run "..."`.',
    '',
    table(['Option', 'Description', 'Default'], optionRows(program.options)),
    '',
    '## Commands',
    '',
    index,
    ...sections,
    '',
  ].join('\n');
}
