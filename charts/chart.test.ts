import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { EVERYTHING_ENABLED, EXTERNAL_DATASTORES, helm, renderChart } from '../testing/helm.js';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  ConfigMap,
  Secret,
  Service,
  ServiceAccount,
  Deployment,
  StatefulSet,
  Role,
  RoleBinding,
  CustomResourceDefinition,
  PrometheusRule,
  ServiceMonitor,
  PodDisruptionBudget,
  NetworkPolicy,
};
const everything = EVERYTHING_ENABLED;
const render = (extra: string[]) => renderChart('ats', ['--namespace', 'trading', '--include-crds', ...extra]);

describe('Helm chart', () => {
  it('passes helm lint with the default values and with everything enabled', () => {
    expect(helm(['lint', 'charts/ats'])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(helm(['lint', 'charts/ats', ...everything])).toMatch(/0 chart\(s\) failed/);
  });

  it.each([
    ['default values', []],
    ['monitoring enabled', everything],
    ['external Postgres and Redis', EXTERNAL_DATASTORES],
  ])('renders manifests that validate against the real Kubernetes schemas (%s)', (_name, extra) => {
    const docs = render(extra as string[]);
    expect(docs.length).toBeGreaterThan(5);
    for (const doc of docs) {
      const Model = MODELS[doc.kind];
      expect(Model, `no schema model for ${doc.kind}`).toBeDefined();
      expect(() => new Model!(doc).validate(), `${doc.kind}/${doc.metadata.name}`).not.toThrow();
    }
  });

  it('installs the CRD, the operator, marketdata, least-privilege RBAC and, with monitoring on, the Prometheus objects', () => {
    const kinds = render(everything).map((d) => `${d.kind}/${d.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'CustomResourceDefinition/tradingaccounts.ats.dev',
        'Deployment/ats-operator',
        'Deployment/ats-marketdata',
        'Role/ats-operator',
        'RoleBinding/ats-operator',
        'ServiceAccount/ats-operator',
        'StatefulSet/ats-postgres',
        'Deployment/ats-redis',
        'Secret/ats-runtime',
        'ServiceMonitor/ats',
        'PrometheusRule/ats',
        'ConfigMap/ats-grafana-dashboard',
        'Deployment/ats-console',
        'Service/ats-console',
        'Role/ats-console',
        'Secret/ats-console-admin',
      ]),
    );
    const role = render([]).find((d) => d.kind === 'Role' && (d.metadata as { name: string }).name === 'ats-operator') as unknown as {
      rules: Array<{ resources: string[]; verbs: string[] }>;
    };
    const secrets = role.rules.find((r) => r.resources.includes('secrets'))!;
    // Reads account Secrets by name, applies the traders' and pools' Secrets and deletes an empty
    // pool's: never lists or watches them.
    expect(secrets.verbs).toEqual(['get', 'create', 'patch', 'delete']);
    expect(role.rules.flatMap((r) => r.verbs)).not.toContain('*');
  });

  it('refuses external datastores without URLs, with a message that says what to set', () => {
    expect(() => render(['--set', 'redis.bundled=false'])).toThrow(/redis.bundled is false: set redis.externalUrl/);
  });

  it('uses schema models that do reject a broken manifest', () => {
    const broken = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replicas: 'one', selector: {}, template: { spec: { containers: [{ image: 1 }] } } },
    };
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('ships the same CRD as crds/', () => {
    expect(readFileSync('charts/ats/crds/tradingaccounts.yaml', 'utf8')).toBe(readFileSync('crds/tradingaccounts.yaml', 'utf8'));
  });
});
