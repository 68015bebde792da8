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
    return res.ok ? null : `webhook ${url} answered ${res.status} ${res.statusText}`;
  } catch (err) {
    return `webhook ${url} failed: ${(err as Error).message}`;
  }
}
