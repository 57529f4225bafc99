/**
 * The accumulation of streamed chunks into the completion the callers judge: content and tool
 * calls in pieces, a tool call sent whole at the end, usage of the final chunk, and the quirks of
 * broken servers (no finish reason, no role, no tool-call id, arguments as an object, junk chunks)
 * that must give what the non-streaming path read rather than throw.
 */
import { CompletionAccumulator, MAX_STREAM_TEXT } from '../../src/activities/llm/stream-accumulate';
import { idleText } from '../../src/activities/llm/stream-call';

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  id: 'c1',
  model: 'm1',
  created: 5,
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...extra,
});

describe('CompletionAccumulator', () => {
  it('adds content pieces, counts producing chunks and takes the final usage chunk', () => {
    const acc = new CompletionAccumulator();
    const produced = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: '{"a":' }),
      chunk({ content: '1}' }),
      chunk({}, 'stop'),
      { id: 'c1', choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } },
    ].map((c) => acc.add(c).produced);
    expect(produced).toEqual([false, true, true, false, false]);
    const c = acc.completion('asked');
    expect(c.choices[0]!.message.content).toBe('{"a":1}');
    expect(c.choices[0]!.finish_reason).toBe('stop');
    expect(c.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 2 });
    expect(c.model).toBe('m1');
    expect(acc.hasUsage).toBe(true);
  });

  it('merges tool-call deltas by index, and takes a call sent whole in one delta at the end', () => {
    const acc = new CompletionAccumulator();
    acc.add(
      chunk({ tool_calls: [{ index: 0, id: 'x', type: 'function', function: { name: 'read_file', arguments: '' } }] }),
    );
    acc.add(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"path":' } }] }));
    acc.add(chunk({ tool_calls: [{ index: 0, function: { arguments: '"a"}' } }] }));
    acc.add(
      chunk(
        { tool_calls: [{ index: 1, id: 'y', type: 'function', function: { name: 'ls', arguments: '{}' } }] },
        'tool_calls',
      ),
    );
    const m = acc.completion('asked').choices[0]!.message;
    expect(m.tool_calls).toEqual([
      { id: 'x', type: 'function', function: { name: 'read_file', arguments: '{"path":"a"}' } },
      { id: 'y', type: 'function', function: { name: 'ls', arguments: '{}' } },
    ]);
    expect(acc.completion('asked').choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('reads what a broken server streams instead of throwing: no role, no reason, no id, object arguments, junk', () => {
    const acc = new CompletionAccumulator();
    for (const junk of [null, 'text', 42, [], { choices: 'no' }, { choices: [null, { index: 3, delta: {} }] }])
      expect(acc.add(junk).produced).toBe(false);
    acc.add({ choices: [{ delta: { content: 'not json, ' } }] });
    acc.add({
      choices: [{ index: 0, delta: { tool_calls: [{ function: { name: 'f', arguments: { a: 1 } } }, 'junk'] } }],
    });
    acc.add({ choices: [{ index: 0, delta: { reasoning_content: 'hmm', refusal: 'no' } }] });
    const c = acc.completion('asked');
    expect(c.model).toBe('asked');
    expect(c.usage).toBeUndefined();
    const m = c.choices[0]!.message as unknown as Record<string, unknown>;
    expect(m).toMatchObject({ role: 'assistant', content: 'not json, ', refusal: 'no', reasoning_content: 'hmm' });
    expect(m.tool_calls).toEqual([{ id: 'call_0', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]);
    expect(c.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('bounds a runaway stream: text stops growing at the cap, and absurd tool indexes are skipped', () => {
    const acc = new CompletionAccumulator();
    const big = 'x'.repeat(1_000_000);
    for (let i = 0; i < 10; i++) acc.add(chunk({ content: big }));
    acc.add(chunk({ tool_calls: [{ index: 1e9, function: { name: 'f', arguments: '{}' } }] }));
    const m = acc.completion('a').choices[0]!.message;
    expect(m.content!.length).toBe(MAX_STREAM_TEXT);
    expect(m.tool_calls).toBeUndefined();
  });

  it('bounds the arguments of all tool calls together, not per call (10,000 calls of 8 MB each would be 80 GB)', () => {
    const acc = new CompletionAccumulator();
    const big = 'x'.repeat(1_000_000);
    for (let index = 0; index < 20; index++)
      for (let i = 0; i < 2; i++) acc.add(chunk({ tool_calls: [{ index, function: { name: 'f', arguments: big } }] }));
    const calls = acc.completion('a').choices[0]!.message.tool_calls ?? [];
    const total = calls.reduce((n, c) => n + (c.type === 'function' ? c.function.arguments.length : 0), 0);
    expect(total).toBeLessThanOrEqual(MAX_STREAM_TEXT);
  });

  it('names the idle limit the way people read it', () => {
    expect([idleText(60_000), idleText(1_500), idleText(800)]).toEqual(['60 s', '1.5 s', '800 ms']);
  });
});
