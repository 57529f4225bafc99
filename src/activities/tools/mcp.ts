/**
 * MCP tools through the official `@modelcontextprotocol/sdk` client: a role's MCP servers (stdio
 * command or streamable HTTP URL) are asked for their tools once per run and server (`list_tools`,
 * cached in the worker), and every `call_tool` is made inside the agent loop's tool activity with
 * a fresh connection, so a crashed worker leaves no half-open session behind.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type * as McpClientModule from '@modelcontextprotocol/sdk/client/index.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type * as McpStdio from '@modelcontextprotocol/sdk/client/stdio.js';
import type * as McpHttp from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { MCP_TOOL_SEPARATOR, type McpServerConfig } from '../../shared/tools';
import type { FunctionTool } from './tool-specs';

/** How long connecting, listing or one call may take before it is an error the agent sees. */
const MCP_TIMEOUT_MS = 60_000;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded when a run first uses an MCP
   server, not with every worker: the SDK costs a worker ~20 MB of RSS (`npm run bench -- --only rss`). */
const mcpClient = () => require('@modelcontextprotocol/sdk/client/index.js') as typeof McpClientModule;
const mcpStdio = () => require('@modelcontextprotocol/sdk/client/stdio.js') as typeof McpStdio;
const mcpHttp = () => require('@modelcontextprotocol/sdk/client/streamableHttp.js') as typeof McpHttp;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Whether `command` names an existing file, directly or through PATH. */
function findProgram(command: string): boolean {
  if (command.includes('/')) return existsSync(command);
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && existsSync(path.join(dir, command)));
}

/** Options of one MCP operation. */
export interface McpCallOptions {
  /** How long connecting and the request may take (default MCP_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * The shell that leads a stdio server's process group: the parent-death signal is not inherited
 * across fork, so it, not the server, receives it and kills the whole group (what `npx` started
 * too); the server keeps the shell's stdin (fd 3 survives the /dev/null a background job gets).
 */
const GROUP_GUARD = 'trap "kill -KILL 0" TERM; exec 3<&0; "$@" <&3 3<&- & wait $!; kill -KILL 0';

/**
 * On Linux a stdio server starts in a session and process group of its own (`setsid`) and dies
 * with the worker's thread that started it (`setpriv --pdeathsig` on GROUP_GUARD), so closing a
 * connection can kill everything the server started, and a SIGKILLed worker leaves none of it.
 */
function stdioLaunch(server: McpServerConfig): { command: string; args: string[] } {
  const args = server.args ?? [];
  if (!findProgram(server.command!))
    throw new Error(`cannot start MCP server "${server.name}": spawn ${server.command} ENOENT (no such program)`);
  if (process.platform !== 'linux' || !existsSync('/usr/bin/setsid')) return { command: server.command!, args };
  const pdeath = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'TERM', '--'] : [];
  return {
    command: '/usr/bin/setsid',
    args: [...pdeath, '/bin/sh', '-c', GROUP_GUARD, 'mcp-server', server.command!, ...args],
  };
}

function transportOf(server: McpServerConfig): Transport {
  if (server.url) return new (mcpHttp().StreamableHTTPClientTransport)(new URL(server.url));
  const { getDefaultEnvironment, StdioClientTransport } = mcpStdio();
  return new StdioClientTransport({
    ...stdioLaunch(server),
    env: { ...getDefaultEnvironment(), ...server.env },
    stderr: 'ignore',
  });
}

/**
 * Remembers the pid of a stdio server once it has started: the SDK forgets it on close, and a
 * timed-out connect closes the transport itself.
 */
function recordPid(transport: Transport): () => number | undefined {
  let pid: number | undefined;
  const start = transport.start.bind(transport);
  transport.start = async () => {
    await start();
    pid = (transport as { pid?: number | null }).pid ?? undefined;
  };
  return () => pid;
}

/** Kills the process group of a stdio server (its own, see stdioLaunch); gone already is fine. */
function killServerGroup(pid: number | undefined): void {
  if (process.platform !== 'linux' || !pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group has ended already
  }
}

/**
 * Connects to `server`, runs `fn` with the client, and always closes the connection, also when
 * connecting fails or times out: a server that never answers must not outlive the call.
 */
async function withClient<T>(
  server: McpServerConfig,
  fn: (client: Client, timeout: number) => Promise<T>,
  opts: McpCallOptions = {},
): Promise<T> {
  const timeout = opts.timeoutMs ?? MCP_TIMEOUT_MS;
  const client = new (mcpClient().Client)({ name: 'maestro', version: '1' });
  const transport = transportOf(server);
  const pid = recordPid(transport);
  try {
    await client.connect(transport, { timeout });
    return await fn(client, timeout);
  } finally {
    await client.close().catch(() => undefined);
    killServerGroup(pid());
  }
}

/** The tools of one server as OpenAI `tools` entries named `<server>__<tool>`. */
export async function listMcpTools(server: McpServerConfig, opts?: McpCallOptions): Promise<FunctionTool[]> {
  const { tools } = await withClient(server, (c, timeout) => c.listTools(undefined, { timeout }), opts);
  return tools.map((t) => ({
    type: 'function' as const,
    function: {
      name: `${server.name}${MCP_TOOL_SEPARATOR}${t.name}`.slice(0, 64),
      description: (t.description ?? `${t.name} (MCP server ${server.name})`).slice(0, 1000),
      parameters: { ...t.inputSchema },
    },
  }));
}

/** What an MCP tool returned: its text content and whether the server flagged an error. */
export interface McpCallResult {
  text: string;
  isError: boolean;
}

/** Calls one MCP tool with JSON arguments. */
export async function callMcpTool(
  server: McpServerConfig,
  tool: string,
  args: Record<string, unknown>,
  opts?: McpCallOptions,
): Promise<McpCallResult> {
  const res = await withClient(
    server,
    (c, timeout) => c.callTool({ name: tool, arguments: args }, undefined, { timeout }),
    opts,
  );
  const parts = Array.isArray(res.content) ? (res.content as { type: string; text?: string }[]) : [];
  const text = parts.map((p) => (p.type === 'text' ? (p.text ?? '') : `[${p.type} content]`)).join('\n');
  const structured = res.structuredContent !== undefined ? `\n${JSON.stringify(res.structuredContent)}` : '';
  return { text: `${text}${structured}`.trim(), isError: res.isError === true };
}

/** Tool lists per run and server: `list_tools` is asked once per run on each worker. */
export class McpToolCache {
  private readonly lists = new Map<string, Promise<FunctionTool[]>>();

  /** The tools of `servers` for `runId`, listing each server at most once per run. */
  async tools(runId: string, servers: readonly McpServerConfig[]): Promise<FunctionTool[]> {
    const all = await Promise.all(
      servers.map((server) => {
        const key = `${runId}\n${JSON.stringify(server)}`;
        let list = this.lists.get(key);
        if (!list) {
          list = listMcpTools(server);
          list.catch(() => this.lists.delete(key)); // a failed listing is asked again next time
          this.lists.set(key, list);
        }
        return list;
      }),
    );
    return all.flat();
  }
}
