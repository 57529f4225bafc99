/**
 * The llama.cpp engine's tool-calling translation without a model: request checks, the grammar
 * composed from node-llama-cpp's JSON grammars (rules kept apart, whitespace cut), the answer
 * parsed into OpenAI tool calls, earlier calls and results written back into the history, and
 * the model id taken from the loaded file's name.
 */
import { asPart, prefixRules } from '../../src/dev/llama-engine/gbnf';
import { modelIdOf } from '../../src/dev/llama-engine/model-file';
import {
  callsSchemaOf,
  historyOf,
  parseToolCalls,
  toolGrammarOf,
  toolPlanOf,
  ToolRequestError,
} from '../../src/dev/llama-engine/tool-calls';

const tool = (name: string) => ({
  type: 'function',
  function: { name, parameters: { type: 'object', properties: { x: { type: 'string' } } } },
});

describe('tool requests', () => {
  it('reads auto, required, a named function and parallel_tool_calls', () => {
    expect(toolPlanOf({ tools: [tool('a')] })).toMatchObject({ choice: 'auto', maxCalls: 8 });
    expect(toolPlanOf({ tools: [tool('a')], tool_choice: 'required', parallel_tool_calls: false })).toMatchObject({
      choice: 'required',
      maxCalls: 1,
    });
    expect(
      toolPlanOf({ tools: [tool('a'), tool('b')], tool_choice: { type: 'function', function: { name: 'b' } } }),
    ).toMatchObject({ choice: { name: 'b' } });
    expect(toolPlanOf({ tools: [tool('a')], tool_choice: 'none' })).toBeUndefined();
    expect(toolPlanOf({})).toBeUndefined();
  });

  it.each([
    ['tools is no array', { tools: 'x' }, "'tools' must be an array"],
    ['tool has no function', { tools: [{ type: 'function' }] }, 'tools[0] must be'],
    ['tool name has a space', { tools: [{ type: 'function', function: { name: 'a b' } }] }, 'tools[0].function.name'],
    ['tool name comes twice', { tools: [tool('a'), tool('a')] }, 'tools name "a" twice'],
    [
      'parameters is no schema',
      { tools: [{ type: 'function', function: { name: 'a', parameters: 'x' } }] },
      'parameters must be a JSON schema',
    ],
    [
      'tool_choice names an unknown tool',
      { tools: [tool('a')], tool_choice: { type: 'function', function: { name: 'zz' } } },
      '"zz", which is not among',
    ],
    ['tool_choice is unknown', { tools: [tool('a')], tool_choice: 'sometimes' }, "'tool_choice' must be"],
    ['tool_choice has no tools', { tool_choice: 'required' }, "needs 'tools'"],
    ['tools are too many', { tools: Array.from({ length: 129 }, (_, i) => tool(`t${i}`)) }, 'at most 128'],
  ])('refuses a body whose %s', (_what, body, message) => {
    expect(() => toolPlanOf(body)).toThrow(ToolRequestError);
    expect(() => toolPlanOf(body)).toThrow(message);
  });

  it('a named choice allows only that tool', () => {
    const plan = toolPlanOf({
      tools: [tool('a'), tool('b')],
      tool_choice: { type: 'function', function: { name: 'b' } },
    })!;
    expect(JSON.stringify(callsSchemaOf(plan))).not.toContain('"a"');
  });
});

describe('grammar text', () => {
  const json =
    'root ::= rule0 "\\n\\n\\n\\n" [\\n]*\nrule0 ::= "{" whitespace-b-1-4-rule string-rule comma-whitespace-b-1-4-rule "}"\nwhitespace-b-1-4-rule ::= [\\n] ("    " | "\\t") | [ ]?\ncomma-whitespace-b-1-4-rule ::= "," ([\\n] ("    " | "\\t") | [ ]?)\nstring-rule ::= "\\"" [^"rule0]* "\\"" # rule0 in a comment\nnum ::= [0-9]{0,15}';

  it('prefixes rule names but not strings, classes, comments or counts', () => {
    const out = prefixRules(json, 'p-');
    expect(out).toContain('p-root ::= p-rule0 "\\n\\n\\n\\n" [\\n]*');
    expect(out).toContain('[^"rule0]*');
    expect(out).toContain('# rule0 in a comment');
    expect(out).toContain('[0-9]{0,15}');
  });

  it('makes a part: no trailing blank lines, at most one space, commas kept', () => {
    const out = asPart(json, 'p-');
    expect(out).toMatch(/^p-root ::= p-rule0$/m);
    expect(out).toMatch(/^p-whitespace-b-1-4-rule ::= \[ \]\?$/m);
    expect(out).toMatch(/^p-comma-whitespace-b-1-4-rule ::= "," \[ \]\?$/m);
  });

  it('auto allows a call block or the answer; required only the call block', () => {
    const auto = toolGrammarOf(json, toolPlanOf({ tools: [tool('a')] })!, json);
    expect(auto).toMatch(/^root ::= tool-block \| answer-root$/m);
    expect(auto).toContain('tool-block ::= "<tool_call>" call-root "</tool_call>"');
    const text = toolGrammarOf(json, toolPlanOf({ tools: [tool('a')] })!);
    expect(text).toMatch(/^root ::= tool-block \| plain-text$/m);
    const required = toolGrammarOf(json, toolPlanOf({ tools: [tool('a')], tool_choice: 'required' })!, json);
    expect(required).toMatch(/^root ::= tool-block$/m);
    expect(required).not.toContain('answer-');
  });
});

describe('answers and history', () => {
  it('parses a complete call block into calls with ids, and nothing else', () => {
    const calls = parseToolCalls('<tool_call>[{"name": "a", "arguments": {"x": "1"}}]</tool_call>')!;
    expect(calls).toEqual([
      {
        id: expect.stringMatching(/^call_[0-9a-f]{24}$/) as string,
        type: 'function',
        function: { name: 'a', arguments: '{"x":"1"}' },
      },
    ]);
    expect(parseToolCalls('<tool_call>[{"name": "a", "argu')).toBeUndefined();
    expect(parseToolCalls('Hello')).toBeUndefined();
    expect(parseToolCalls('<tool_call>[]</tool_call>')).toBeUndefined();
    expect(parseToolCalls('<tool_call>[{"name": "a", "arguments": "x"}]</tool_call>')).toBeUndefined();
  });

  it('writes calls and their results back, and documents the tools first in the system prompt', () => {
    const plan = toolPlanOf({ tools: [tool('a')] });
    const turns = historyOf(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Go.' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'a', arguments: '{"x":"1"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'one' },
        { role: 'tool', tool_call_id: 'c2', content: 'two' },
      ],
      plan,
    );
    expect(turns).toHaveLength(4);
    expect(turns[0]).toMatchObject({
      type: 'system',
      text: expect.stringMatching(/<tools>.*"name":"a".*<\/tools>[\s\S]*Be brief\.$/) as string,
    });
    expect(turns[2]).toEqual({
      type: 'model',
      response: ['<tool_call>\n[{"name":"a","arguments":{"x":"1"}}]\n</tool_call>'],
    });
    expect(turns[3]).toEqual({
      type: 'user',
      text: '<tool_response>\n{"name":"a","content":"one"}\n</tool_response>\n<tool_response>\n{"content":"two"}\n</tool_response>',
    });
  });
});

describe('model id', () => {
  it.each([
    ['/m/SmolLM2-135M-Instruct.Q4_1.gguf', 'smollm2-135m-instruct'],
    ['/m/gemma-3-270m-Q8_0.gguf', 'gemma-3-270m'],
    ['/m/Tiny Chat.f16.gguf', 'tiny-chat'],
    ['/m/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf', 'qwen2.5-0.5b-instruct'],
    ['/m/model.gguf', 'smollm2-135m-8k-lc100k-mix1-ep2'],
  ])('%s is reported as %s', (file, id) => {
    expect(modelIdOf(file, 'Smollm2 135M 8k Lc100K Mix1 Ep2')).toBe(id);
  });
});
