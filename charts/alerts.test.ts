import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { tempDir } from '../testing/temp.js';
import { EVERYTHING_ENABLED, renderChart } from '../testing/helm.js';

interface Rule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}
interface PrometheusRule {
  kind: string;
  metadata: { name: string };
  spec: { groups: Array<{ name: string; rules: Rule[] }> };
}

/** Prometheus's `{{ $labels.x }}` for the labels of a test series. */
const expand = (text: string, labels: Record<string, string>) => text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? '');

/**
 * The chart's alert rules, checked by Prometheus's own `promtool test rules` (Debian's
 * `prometheus` package; `.ci/run` installs it): series go in, the alerts that fire come out.
 */
describe("the chart's alert rules (promtool)", () => {
  it('fire for a trading pod that is down, a dedicated trader or a pool, and for an account in error inside a pool', () => {
    const rule = renderChart<PrometheusRule>('ats', EVERYTHING_ENABLED).find((d) => d.kind === 'PrometheusRule')!;
    const rules = Object.fromEntries(rule.spec.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    const dir = tempDir('ats-alerts');
    try {
      writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
      execFileSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { stdio: 'pipe' });

      const service = 'ats-metrics';
      const pool = { service, ats_component: 'trader-pool', pod: 'pool-0-7d9f' };
      const trader = { service, ats_component: 'trader', pod: 'trader-alice-5c6b' };
      const down = (labels: Record<string, string>) => ({
        exp_labels: { severity: 'critical', ...labels },
        exp_annotations: Object.fromEntries(Object.entries(rules.ATSTraderDown!.annotations).map(([k, v]) => [k, expand(v, labels)])),
      });
      const inError = { state: 'error', account: 'bob', pool: 'pool-0', component: 'trader' };
      const series = (labels: Record<string, string>) =>
        `${labels.__name__}{${Object.entries(labels)
          .filter(([k]) => k !== '__name__')
          .map(([k, v]) => `${k}="${v}"`)
          .join(',')}}`;
      const tests = {
        rule_files: ['rules.yaml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              { series: series({ __name__: 'up', ...pool }), values: '0x10' },
              { series: series({ __name__: 'up', ...trader }), values: '0x10' },
              // Up, or not a trading pod: no alert.
              { series: series({ __name__: 'up', service, ats_component: 'trader-pool', pod: 'pool-1-aaaa' }), values: '1x10' },
              { series: series({ __name__: 'up', service, ats_component: 'console', pod: 'console-1' }), values: '0x10' },
              { series: series({ __name__: 'ats_trader_state', ...inError }), values: '1x10' },
            ],
            alert_rule_test: [
              { eval_time: '4m', alertname: 'ATSTraderDown', exp_alerts: [] },
              { eval_time: '6m', alertname: 'ATSTraderDown', exp_alerts: [down(pool), down(trader)] },
              {
                eval_time: '6m',
                alertname: 'ATSAccountInError',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'critical', ...inError },
                    exp_annotations: Object.fromEntries(Object.entries(rules.ATSAccountInError!.annotations).map(([k, v]) => [k, expand(v, inError)])),
                  },
                ],
              },
            ],
          },
        ],
      };
      writeFileSync(join(dir, 'tests.yaml'), stringify(tests));
      const run = () => execFileSync('promtool', ['test', 'rules', join(dir, 'tests.yaml')], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      expect(run()).toMatch(/SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
