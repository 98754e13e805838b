// The alert notifiers post through the shippers' HTTP client (lib/logging/http-post.ts): a webhook
// gets its URL exactly as configured (query string included), Alertmanager its /api/v2/alerts below
// the configured base path, and a notifier's shutdown releases the client's sockets.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createObservability, type Observability } from '../lib/index';
import { startWebhookReceiver, type WebhookReceiver } from './support/alertmanager';
import { waitFor } from './support/http';

const instances: Observability[] = [];
const receivers: WebhookReceiver[] = [];
after(async () => {
  await Promise.all(instances.map((o) => o.shutdown()));
  await Promise.all(receivers.map((r) => r.close()));
});

async function fire(notifiers: NonNullable<Parameters<typeof createObservability>[0]>['alerts']): Promise<Observability> {
  const obs = createObservability({
    serviceName: 'notifier-http',
    logging: { stdout: false },
    system: { enabled: false },
    dashboard: { enabled: false },
    alerts: { interval: '1h', ...notifiers },
  });
  instances.push(obs);
  const g = obs.metrics.gauge('hook_depth', 'x');
  obs.alerts.add({ rules: [{ name: 'Deep', kind: 'gauge', metric: 'hook_depth', threshold: 1 }] });
  g.set(2);
  await obs.alerts.evaluate();
  return obs;
}

describe('alert notifiers over the shared HTTP client', () => {
  it('a webhook is posted to its URL as configured, query string included', async () => {
    const hook = await startWebhookReceiver();
    receivers.push(hook);
    await fire({ notifiers: [{ type: 'webhook', url: `${hook.url}/hooks/alerts?token=abc&x=1`, headers: { 'x-tenant': 'shop' } }] });
    await waitFor(() => hook.received.length === 1, 5000, 20, 'webhook delivered');
    assert.equal(hook.received[0]?.path, '/hooks/alerts?token=abc&x=1');
    assert.equal((hook.received[0]?.body as { status?: string }).status, 'firing');
  });

  it('credentials in a notifier URL are sent as Basic authentication, not dropped', async () => {
    const hook = await startWebhookReceiver();
    receivers.push(hook);
    const url = hook.url.replace('http://', 'http://ops:s%40cret@');
    await fire({ notifiers: [{ type: 'webhook', url: `${url}/hooks/alerts` }] });
    await waitFor(() => hook.received.length === 1, 5000, 20, 'webhook delivered');
    assert.equal(hook.received[0]?.authorization, `Basic ${Buffer.from('ops:s@cret').toString('base64')}`);
    const own = await startWebhookReceiver();
    receivers.push(own);
    await fire({ notifiers: [{ type: 'webhook', url: `${own.url.replace('http://', 'http://ops:x@')}/h`, headers: { Authorization: 'Bearer own-token' } }] });
    await waitFor(() => own.received.length === 1, 5000, 20, 'webhook delivered');
    assert.equal(own.received[0]?.authorization, 'Bearer own-token', 'an Authorization header given in `headers` wins');
  });

  it('Alertmanager gets POST /api/v2/alerts below the base path (trailing slash or not)', async () => {
    const am = await startWebhookReceiver();
    receivers.push(am);
    await fire({ notifiers: [{ type: 'alertmanager', url: `${am.url}/am/` }] });
    await waitFor(() => am.received.length === 1, 5000, 20, 'alertmanager delivered');
    assert.equal(am.received[0]?.path, '/am/api/v2/alerts');
    const [alert] = am.received[0]?.body as Array<{ labels: Record<string, string> }>;
    assert.equal(alert?.labels.alertname, 'Deep');
  });
});
