// Start-up cost: parts a default instance does not use are not loaded until they are used.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ROOT } from './support/demo';

describe('start-up: optional parts load when used', () => {
  it('the YAML library loads only when a rule file is rendered or read', () => {
    const script = `const { createObservability } = require('./lib');
      const obs = createObservability({ logging: { stdout: false }, system: { enabled: false }, alerts: { slos: [{ name: 'availability', objective: 0.999 }] } });
      const loaded = () => Object.keys(require.cache).some((k) => /node_modules\\/yaml\\//.test(k));
      const before = loaded();
      const rules = obs.alerts.toPrometheusRules();
      console.log(JSON.stringify({ before, after: loaded(), rules }));
      obs.shutdown();`;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as { before: boolean; after: boolean; rules: string };
    assert.equal(out.before, false, 'createObservability() did not load yaml');
    assert.equal(out.after, true, 'rendering the rules loaded it');
    assert.match(out.rules, /^groups:\n/);
    assert.match(out.rules, /slo:objective:ratio/);
  });
});
