/**
 * The built-in tools as the model sees them: OpenAI `tools` entries (function name, description,
 * JSON-schema parameters in the portable subset: every property required, no extra keywords), so
 * the same definitions work on OpenAI, Azure, vLLM, Ollama and llama.cpp.
 */
import type { BuiltInTool } from '../../shared/tools';

/** One entry of the chat request's `tools` array. */
export interface FunctionTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

function fn(name: string, description: string, properties: Record<string, { type: string; description: string }>) {
  return {
    type: 'function' as const,
    function: {
      name,
      description,
      parameters: { type: 'object', properties, required: Object.keys(properties), additionalProperties: false },
    },
  };
}

const SPECS: Record<BuiltInTool, FunctionTool> = {
  read_file: fn('read_file', "Read a file of this ticket's workspace (its own files and its dependencies' outputs).", {
    path: { type: 'string', description: 'Path relative to the workspace, e.g. "index.html".' },
  }),
  list_files: fn('list_files', "List the files of this ticket's workspace with their sizes.", {
    path: { type: 'string', description: 'Folder relative to the workspace; "" for all files.' },
  }),
  write_file: fn('write_file', "Create or replace a file in this ticket's workspace; it becomes part of the result.", {
    path: { type: 'string', description: 'Path relative to the workspace, e.g. "tests/check.mjs".' },
    content: { type: 'string', description: 'The complete new content of the file.' },
  }),
  run_command: fn(
    'run_command',
    'Run one allow-listed program (e.g. "node tests/check.mjs" or "npm test") in a sandbox holding the workspace: no network, time and memory limits. Returns the exit code and output. Files it creates or changes are kept.',
    { command: { type: 'string', description: 'The command line: a program and its arguments, no shell syntax.' } },
  ),
  check_page: fn(
    'check_page',
    'Open an HTML page of the workspace in headless Chromium and report console errors, failed requests, the title, headings, links, images without alt text and whether a viewport meta tag is present; stores a screenshot.',
    { page: { type: 'string', description: 'Path of the HTML file relative to the workspace, e.g. "index.html".' } },
  ),
};

/** The `tools` entries of the given built-in tools, in a stable order. */
export function toolSpecs(tools: readonly BuiltInTool[]): FunctionTool[] {
  return tools.map((t) => SPECS[t]);
}
