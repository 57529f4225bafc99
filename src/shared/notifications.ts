/**
 * Gate and end-of-run notifications: what the run tells its webhooks. The workflow sends plain
 * facts to the delivery activity (small, deterministic); the activity turns them into the JSON
 * body that is posted, with the exact commands, the Web UI link and a Slack-compatible `text`.
 */
import type { GateView, RunPhase, RunResult } from './types';

/** Why a notification is sent. */
export type NotificationEvent = 'gate-opened' | 'run-ended';

/** What the run knows when it notifies (input of the delivery activity, kept in history). */
export interface NotificationFacts {
  event: NotificationEvent;
  runId: string;
  goal: string;
  namespace: string;
  /** Workflow time of the event (ISO). */
  at: string;
  /** The gate that opened (gate-opened). */
  gate?: GateView;
  /** Title of the gate's ticket (ticket gates). */
  ticketTitle?: string;
  cost: { usd: number; tokens: number };
  budget?: { usd?: number; tokens?: number };
  /** How the run ended (run-ended). */
  end?: {
    phase: RunPhase;
    outcome?: RunResult['status'];
    accepted: number;
    tickets: number;
    error?: string;
  };
  /** Base URL of the Temporal Web UI. */
  webUiUrl?: string;
}

/** The JSON body every webhook receives (`text` makes a Slack incoming webhook show it as is). */
export interface MaestroNotification {
  event: NotificationEvent;
  runId: string;
  goal: string;
  namespace: string;
  at: string;
  gate?: {
    id: string;
    kind: GateView['kind'];
    ticketId?: string;
    ticketTitle?: string;
    reason: string;
    openedAt: string;
    deadline?: string;
    onTimeout: GateView['onTimeout'];
  };
  /** The cost so far (gate-opened) or in total (run-ended), and the run's budget. */
  cost: { usd: number; tokens: number; budgetUsd?: number; budgetTokens?: number };
  /** The commands that settle the gate, ready to paste (gate-opened). */
  commands?: { approve: string; reject: string; temporalApprove: string; temporalReject: string };
  /** How the run ended (run-ended). */
  run?: NonNullable<NotificationFacts['end']>;
  /** Link to the run in the Temporal Web UI, when its address is known. */
  webUi?: string;
  /** One human-readable message (Slack mrkdwn). */
  text: string;
}
