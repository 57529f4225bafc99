/**
 * MCP tools against real MCP servers built with the official SDK: a stdio server the worker starts
 * (test/fixtures/mcp/counter-server.mjs) and a streamable HTTP server started here. Tools are
 * offered as `<server>__<tool>` with their JSON schemas, calls return the server's text, tool
 * lists are asked once per run, and a broken server is a clear error.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { callMcpTool, listMcpTools, McpToolCache } from '../../src/activities/tools/mcp';
import type { McpServerConfig } from '../../src/shared/tools';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'mcp', 'counter-server.mjs');
const SILENT = path.resolve(__dirname, '..', 'fixtures', 'mcp', 'silent-server.mjs');

/** Whether a process still runs (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

let http: Server;
let url: string;
let listRequests = 0;

beforeAll(async () => {
  // Stateless streamable HTTP: a fresh server and transport per request, as the SDK documents.
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const parsed: unknown = body ? JSON.parse(body) : undefined;
      if ((parsed as { method?: string } | undefined)?.method === 'tools/list') listRequests++;
      const server = new McpServer({ name: 'maestro-test-http', version: '1.0.0' });
      server.registerTool(
        'shout',
        { description: 'Upper-cases a text.', inputSchema: { text: z.string() } },
        async ({ text }) => ({ content: [{ type: 'text', text: text.toUpperCase() }] }),
      );
      server.registerTool('fail', { description: 'Always fails.', inputSchema: {} }, async () => ({
        content: [{ type: 'text', text: 'this tool always fails' }],
        isError: true,
      }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      server
        .connect(transport)
        .then(() => transport.handleRequest(req, res, parsed))
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
});

afterAll(() => new Promise<void>((r) => http.close(() => r())));

function stdioServer(counter: string): McpServerConfig {
  return { name: 'counter', command: process.execPath, args: [FIXTURE], env: { MCP_COUNTER_FILE: counter } };
}

describe('MCP tools', () => {
  it('lists and calls the tools of a stdio server the worker starts', async () => {
    const counter = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-mcp-')), 'calls.log');
    const server = stdioServer(counter);
    const tools = await listMcpTools(server);
    expect(tools.map((t) => t.function.name).sort()).toEqual(['counter__add', 'counter__wait']);
    const add = tools.find((t) => t.function.name === 'counter__add')!;
    expect(add.function.parameters).toMatchObject({
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
    });
    expect(await callMcpTool(server, 'add', { a: 2, b: 3 })).toEqual({ text: 'sum: 5', isError: false });
    expect(readFileSync(counter, 'utf8')).toBe('add 2 3\n');
    // Bad arguments are the server's validation error, reported as a tool error.
    const bad = await callMcpTool(server, 'add', { a: 'two' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/a|number|invalid/i);
    expect(readFileSync(counter, 'utf8')).toBe('add 2 3\n');
  });

  it('lists and calls the tools of a streamable HTTP server; server-side errors stay tool errors', async () => {
    const server: McpServerConfig = { name: 'web', url };
    const tools = await listMcpTools(server);
    expect(tools.map((t) => t.function.name).sort()).toEqual(['web__fail', 'web__shout']);
    expect(await callMcpTool(server, 'shout', { text: 'hello' })).toEqual({ text: 'HELLO', isError: false });
    expect(await callMcpTool(server, 'fail', {})).toEqual({ text: 'this tool always fails', isError: true });
  });

  it('asks each server for its tools once per run', async () => {
    const cache = new McpToolCache();
    const server: McpServerConfig = { name: 'web', url };
    const before = listRequests;
    await cache.tools('run-1', [server]);
    await cache.tools('run-1', [server]);
    expect(listRequests - before).toBe(1);
    await cache.tools('run-2', [server]);
    expect(listRequests - before).toBe(2);
  });

  it('a server that never answers times out and leaves no process behind, its children included', async () => {
    const pidFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'maestro-mcp-')), 'pids');
    const silent: McpServerConfig = {
      name: 'silent',
      command: process.execPath,
      args: [SILENT],
      env: { MCP_PID_FILE: pidFile },
    };
    await expect(listMcpTools(silent, { timeoutMs: 1500 })).rejects.toThrow(/timed out|timeout/i);
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    const deadline = Date.now() + 5000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
  });

  it('a server that cannot start is a clear error', async () => {
    const missing: McpServerConfig = { name: 'nope', command: path.join(os.tmpdir(), 'no-such-mcp-server') };
    await expect(listMcpTools(missing)).rejects.toThrow(/ENOENT|spawn|closed/i);
    expect(existsSync(missing.command!)).toBe(false);
  });
});
