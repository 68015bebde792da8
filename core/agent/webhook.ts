/** How long a webhook may take to answer. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

export interface WebhookPayload {
  node: string;
  container: string;
  rule: string;
  kind: string;
  message: string;
  ts: number;
}

/** Posts one notification as JSON; resolves with the problem in words, or null when the hook took it. Never rejects. */
export async function postWebhook(doFetch: typeof fetch, url: string, payload: WebhookPayload): Promise<string | null> {
  try {
    const res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'outpost-agent' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    return res.ok ? null : `webhook ${shownUrl(url)} answered ${res.status} ${String(res.statusText).slice(0, 100)}`;
  } catch (err) {
    return `webhook ${shownUrl(url)} failed: ${String((err as Error).message).split(url).join(shownUrl(url)).slice(0, 300)}`;
  }
}

/**
 * A webhook's address as the journal and the log may show it: its origin only. Its path, query
 * and credentials often are its secret (a Slack hook's path, a `?token=`), and the journal is
 * read by viewers.
 */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.username !== '' || u.password !== '' || u.pathname.length > 1 || u.search !== '' || u.hash !== '';
    return `${u.protocol}//${u.host}${hidden ? '/…' : ''}`;
  } catch {
    return '(a webhook)';
  }
}
