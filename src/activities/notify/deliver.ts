/**
 * The notification activity: one JSON POST to one webhook. Temporal retries it with a short,
 * bounded policy (src/workflows/notify.ts); a 4xx other than 408/429 is not retried (the URL or
 * its secret is wrong). The run never waits on a gate notification and audits a failed one.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../../shared/errors';
import type { NotificationFacts } from '../../shared/notifications';
import type { ActivityDeps } from '../deps';
import { notificationPayload } from './payload';

/** How long one POST may take before it counts as failed (and is retried). */
const POST_TIMEOUT_MS = 10_000;

/** Input of `deliverNotification`. */
export interface DeliverNotificationInput {
  url: string;
  facts: NotificationFacts;
}

/** A webhook URL without its path and query, which often hold a secret (Slack's do). */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/** The lowest-level reason of a fetch failure (ECONNREFUSED, ENOTFOUND, the timeout...). */
function fetchProblem(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Whether this worker may post to `url`: one of its own `notify` URLs or under a `notifyAllow`
 * prefix. A run names webhooks but cannot make a worker post anywhere (no SSRF through a run).
 */
export function webhookAllowed(webhooks: ActivityDeps['webhooks'], url: string): boolean {
  if (!webhooks) return false;
  return webhooks.urls.includes(url) || webhooks.prefixes.some((prefix) => underPrefix(url, prefix));
}

/**
 * Whether `url` is under `prefix` as URLs, not as strings: the same origin (so
 * `https://hooks.example.com` never admits `https://hooks.example.com.evil.net`) and a path that
 * starts with the prefix's path at a segment boundary, with no credentials smuggled in.
 */
function underPrefix(url: string, prefix: string): boolean {
  let u: URL;
  let p: URL;
  try {
    u = new URL(url);
    p = new URL(prefix);
  } catch {
    return false;
  }
  if (u.origin !== p.origin || u.username || u.password) return false;
  const base = p.pathname.endsWith('/') ? p.pathname : `${p.pathname}/`;
  return u.pathname === p.pathname || u.pathname.startsWith(base);
}

/** Creates the notification activities. */
export function createNotifyActivities(deps: Pick<ActivityDeps, 'webhooks'>) {
  return {
    /** Posts one notification to one webhook; returns the HTTP status it answered with. */
    async deliverNotification(input: DeliverNotificationInput): Promise<{ status: number }> {
      const where = webhookOrigin(input.url);
      if (!webhookAllowed(deps.webhooks, input.url))
        throw ApplicationFailure.create({
          type: FailureType.NotifyFailed,
          message: `webhook ${where} is not allowed by this worker's configuration (not sent); list it under "notify", or a prefix of it under "notifyAllow", in the worker's maestro.config.json`,
          nonRetryable: true,
        });
      const body = JSON.stringify(notificationPayload(input.facts));
      let res: Response;
      try {
        res = await fetch(input.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'maestro-agents' },
          body,
          signal: AbortSignal.any([Context.current().cancellationSignal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
        });
      } catch (err) {
        throw ApplicationFailure.create({
          type: FailureType.NotifyFailed,
          message: `POST to webhook ${where} failed: ${fetchProblem(err)}`,
        });
      }
      await res.body?.cancel();
      if (!res.ok) {
        const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
        throw ApplicationFailure.create({
          type: FailureType.NotifyFailed,
          message: `webhook ${where} answered HTTP ${res.status}${retryable ? '' : ' (not retried: check the URL)'}`,
          nonRetryable: !retryable,
        });
      }
      return { status: res.status };
    },
  };
}
