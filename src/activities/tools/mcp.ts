/**
 * MCP tools through the official `@modelcontextprotocol/sdk` client: a role's MCP servers (stdio
 * command or streamable HTTP URL) are asked for their tools once per run and server (`list_tools`,
 * cached in the worker), and every `call_tool` is made inside the agent loop's tool activity with
 * a fresh connection, so a crashed worker leaves no half-open session behind.
 */
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

function transportOf(server: McpServerConfig): Transport {
  if (server.url) return new (mcpHttp().StreamableHTTPClientTransport)(new URL(server.url));
  const { getDefaultEnvironment, StdioClientTransport } = mcpStdio();
  return new StdioClientTransport({
    command: server.command!,
    args: server.args ?? [],
    env: { ...getDefaultEnvironment(), ...server.env },
    stderr: 'ignore',
  });
}

/** Connects to `server`, runs `fn` with the client, and always closes the connection. */
async function withClient<T>(server: McpServerConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new (mcpClient().Client)({ name: 'maestro', version: '1' });
  await client.connect(transportOf(server), { timeout: MCP_TIMEOUT_MS });
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** The tools of one server as OpenAI `tools` entries named `<server>__<tool>`. */
export async function listMcpTools(server: McpServerConfig): Promise<FunctionTool[]> {
  const { tools } = await withClient(server, (c) => c.listTools(undefined, { timeout: MCP_TIMEOUT_MS }));
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
): Promise<McpCallResult> {
  const res = await withClient(server, (c) =>
    c.callTool({ name: tool, arguments: args }, undefined, { timeout: MCP_TIMEOUT_MS }),
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
