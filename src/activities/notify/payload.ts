/**
 * The body of a webhook post, from the facts the run sent: the gate with its reason, the cost so
 * far, the exact commands that settle it, the Web UI link and a Slack-compatible `text`. Pure, so
 * tests and the docs can show exactly what a receiver gets. Every field is one line of plain text
 * (no control, bidi or zero-width character) and every text in `text` is escaped for Slack (see
 * shared/model-text.ts): a model cannot ping a channel, plant a link or fake a command there.
 */
import { approveHints } from '../../client/watch/approve-hints';
import { runUrl, usd } from '../../client/format';
import { mapStrings, plainLine, slackText } from '../../shared/model-text';
import type { MaestroNotification, NotificationFacts } from '../../shared/notifications';

/** The JSON posted for `facts`. */
export function notificationPayload(raw: NotificationFacts): MaestroNotification {
  const facts = mapStrings(raw, plainLine);
  const { gate } = facts;
  const webUi = facts.webUiUrl ? runUrl(facts.webUiUrl, facts.namespace, facts.runId) : undefined;
  const cost = {
    usd: facts.cost.usd,
    tokens: facts.cost.tokens,
    ...(facts.budget?.usd !== undefined ? { budgetUsd: facts.budget.usd } : {}),
    ...(facts.budget?.tokens !== undefined ? { budgetTokens: facts.budget.tokens } : {}),
  };
  const base = { event: facts.event, runId: facts.runId, goal: facts.goal, namespace: facts.namespace, at: facts.at };
  const costText = `${usd(cost.usd)}${cost.budgetUsd !== undefined ? ` of ${usd(cost.budgetUsd)}` : ''} · ${cost.tokens} tokens`;
  const link = webUi ? `\n<${slackText(webUi)}|Open the run in the Temporal Web UI>` : '';

  if (facts.event === 'gate-opened' && gate) {
    const hints = approveHints(facts.runId, gate, facts.namespace);
    const commands = {
      approve: hints.maestro,
      reject: `${hints.maestro.replace('maestro approve', 'maestro reject')} --comment "<why>"`,
      temporalApprove: hints.temporal,
      temporalReject: hints.temporal.replace('--name approve', '--name reject'),
    };
    const ticket = gate.ticketId
      ? ` for ${gate.ticketId}${facts.ticketTitle ? ` (${slackText(facts.ticketTitle)})` : ''}`
      : '';
    const text = [
      `:raised_hand: *Maestro run ${facts.runId} waits for a person*: ${gate.kind} gate${ticket} — ${slackText(gate.reason)}`,
      `Goal: ${slackText(facts.goal)}`,
      `Cost so far: ${costText}${gate.deadline ? ` · deadline ${gate.deadline} (then ${gate.onTimeout})` : ''}`,
      `Approve: \`${commands.approve}\``,
      `Reject: \`${commands.reject}\``,
    ].join('\n');
    return {
      ...base,
      gate: {
        id: gate.id,
        kind: gate.kind,
        ...(gate.ticketId ? { ticketId: gate.ticketId } : {}),
        ...(facts.ticketTitle ? { ticketTitle: facts.ticketTitle } : {}),
        reason: gate.reason,
        openedAt: gate.openedAt,
        ...(gate.deadline ? { deadline: gate.deadline } : {}),
        onTimeout: gate.onTimeout,
      },
      cost,
      commands,
      ...(webUi ? { webUi } : {}),
      text: text + link,
    };
  }

  const end = facts.end ?? { phase: 'completed' as const, accepted: 0, tickets: 0 };
  const how = end.outcome ?? end.phase;
  const text = [
    `${end.phase === 'failed' || end.phase === 'cancelled' ? ':x:' : ':white_check_mark:'} *Maestro run ${facts.runId} ended: ${how}* — ${end.accepted}/${end.tickets} tickets accepted`,
    `Goal: ${slackText(facts.goal)}`,
    `Cost: ${costText}`,
    ...(end.error ? [`Error: ${slackText(end.error)}`] : []),
    `Result: \`maestro result ${facts.runId}\``,
  ].join('\n');
  return { ...base, cost, run: end, ...(webUi ? { webUi } : {}), text: text + link };
}
