import { describe, expect, it } from 'vitest';
import { EVERYTHING_ENABLED, EXTERNAL_DATASTORES, renderChart } from '../testing/helm.js';
import { tradingAccountSpecSchema } from '../operator/spec.js';
import { traderDeployment, type TraderDeploymentOptions } from '../operator/kube/trader-deployment.js';
import { DEFAULT_POOL_RESOURCES, poolDeployment, poolKeysSecretName, poolLoginsSecretName } from '../operator/kube/pool-workload.js';

/**
 * What a real API server and a running cluster would refuse or get wrong, and `helm lint` and
 * schema validation cannot see: selectors that select nothing, ports and references that do not
 * exist, and names two releases would both claim.
 */
type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; roleRef?: any; subjects?: any[] };
const NS = 'trading';
const everything = EVERYTHING_ENABLED;
const external = EXTERNAL_DATASTORES;
const render = (release: string, extra: string[]) => renderChart<Doc>(release, ['--namespace', NS, ...extra]);

/** The Secrets a user creates: each TradingAccount's key pair (README: "Add an account"). */
const USER_SECRET = 'alice-binance';

/** The chart's objects plus a trader Deployment as the chart's operator would create it. */
function cluster(release: string, extra: string[]): Doc[] {
  const docs = render(release, extra);
  const operator = docs.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-operator'))!;
  const args: string[] = operator.spec.template.spec.containers[0].args;
  const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const spec = tradingAccountSpecSchema.parse({ displayName: 'Alice', exchange: 'demo', secretRef: { name: USER_SECRET } });
  const options: TraderDeploymentOptions = {
    image: arg('image')!,
    runtimeSecret: arg('runtime-secret')!,
    logLevel: 'info',
    instance: arg('instance'),
    resources: { requests: { cpu: '20m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
  };
  const pool = poolDeployment(NS, 'pool-0', { ...options, ownLogins: true, poolResources: DEFAULT_POOL_RESOURCES }, undefined);
  return [...docs, traderDeployment({ name: 'alice', namespace: NS, uid: 'u1' }, spec, 'v1', options) as unknown as Doc, pool as unknown as Doc];
}

const WORKLOADS = ['Deployment', 'StatefulSet'];
const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const pods = (docs: Doc[]) => docs.filter((d) => WORKLOADS.includes(d.kind)).map((d) => ({ owner: `${d.kind}/${d.metadata.name}`, template: d.spec.template }));

const variants: Array<[string, string[]]> = [
  ['default values', []],
  ['everything enabled', everything],
  ['external Postgres and Redis', external],
];

describe.each(variants)('Helm chart semantics (%s)', (_name, extra) => {
  const docs = cluster('ats', extra);
  const names = (kind: string) => new Set(docs.filter((d) => d.kind === kind).map((d) => d.metadata.name));

  it("selects its own pods: every workload's selector matches its pod template labels", () => {
    for (const d of docs.filter((x) => WORKLOADS.includes(x.kind))) {
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${d.kind}/${d.metadata.name}`).toBe(true);
    }
  });

  it('has every Service select some pod, on ports those pods have', () => {
    for (const svc of docs.filter((d) => d.kind === 'Service')) {
      const selected = pods(docs).filter((p) => matches(svc.spec.selector, p.template.metadata.labels));
      expect(selected.length, `Service/${svc.metadata.name} selects no pod`).toBeGreaterThan(0);
      for (const port of svc.spec.ports) {
        for (const p of selected) {
          const ports = p.template.spec.containers.flatMap((c: any) => c.ports ?? []);
          const found = ports.some((cp: any) =>
            typeof port.targetPort === 'string' ? cp.name === port.targetPort : cp.containerPort === (port.targetPort ?? port.port),
          );
          expect(found, `Service/${svc.metadata.name} port ${port.name}: ${p.owner} has no port ${port.targetPort}`).toBe(true);
        }
      }
    }
  });

  it('has every PodDisruptionBudget and ServiceMonitor select something', () => {
    for (const pdb of docs.filter((d) => d.kind === 'PodDisruptionBudget')) {
      expect(
        pods(docs).some((p) => matches(pdb.spec.selector.matchLabels, p.template.metadata.labels)),
        `PodDisruptionBudget/${pdb.metadata.name}`,
      ).toBe(true);
    }
    for (const sm of docs.filter((d) => d.kind === 'ServiceMonitor')) {
      const services = docs.filter((d) => d.kind === 'Service' && matches(sm.spec.selector.matchLabels, d.metadata.labels));
      expect(services.length, `ServiceMonitor/${sm.metadata.name}`).toBeGreaterThan(0);
      for (const s of services) for (const e of sm.spec.endpoints) expect(s.spec.ports.map((p: any) => p.name)).toContain(e.port);
    }
  });

  it("references only Secrets, ConfigMaps, ServiceAccounts and Roles of the release (or the user's account Secrets)", () => {
    // The operator makes marketdata's and the console's logins Secrets under the names its flags give.
    const operatorArgs: string[] = docs.find((d) => d.kind === 'Deployment' && d.metadata.name.endsWith('-operator'))!.spec.template.spec.containers[0].args;
    const made = operatorArgs.filter((a) => /^--(marketdata|console)-secret=/.test(a)).map((a) => a.split('=')[1]!);
    expect(made).toHaveLength(2);
    // And each pool's keys and logins Secrets (named after the pool).
    const secrets = new Set([...names('Secret'), USER_SECRET, ...made, poolKeysSecretName('pool-0'), poolLoginsSecretName('pool-0')]);
    for (const { owner, template } of pods(docs)) {
      const spec = template.spec;
      if (spec.serviceAccountName) expect(names('ServiceAccount'), owner).toContain(spec.serviceAccountName);
      for (const c of spec.containers) {
        for (const from of c.envFrom ?? []) {
          if (from.secretRef) expect(secrets, owner).toContain(from.secretRef.name);
          if (from.configMapRef) expect(names('ConfigMap'), owner).toContain(from.configMapRef.name);
        }
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) expect(secrets, owner).toContain(e.valueFrom.secretKeyRef.name);
          if (e.valueFrom?.configMapKeyRef) expect(names('ConfigMap'), owner).toContain(e.valueFrom.configMapKeyRef.name);
        }
      }
      for (const v of spec.volumes ?? []) {
        if (v.secret) expect(secrets, owner).toContain(v.secret.secretName);
        if (v.configMap) expect(names('ConfigMap'), owner).toContain(v.configMap.name);
      }
    }
    for (const s of docs.filter((d) => d.kind === 'StatefulSet')) expect(names('Service')).toContain(s.spec.serviceName);
    for (const b of docs.filter((d) => d.kind === 'RoleBinding')) {
      expect(names(b.roleRef.kind)).toContain(b.roleRef.name);
      for (const subject of b.subjects!) expect(names(subject.kind)).toContain(subject.name);
    }
  });
});

describe('two releases in one namespace', () => {
  it('claim no object name twice (the CRD is shared by design)', () => {
    const key = (d: Doc) => `${d.kind}/${d.metadata.name}`;
    const first = render('ats', everything)
      .filter((d) => d.kind !== 'CustomResourceDefinition')
      .map(key);
    const second = new Set(render('ats-staging', everything).map(key));
    expect(first.filter((k) => second.has(k))).toEqual([]);
  });

  it('confines the traders with a NetworkPolicy: in only to their metrics port, out only to DNS, the datastores and the exchange', () => {
    for (const extra of [[], everything]) {
      const docs = cluster('ats', extra);
      const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
      expect(policies).toHaveLength(1);
      const policy = policies[0]!;
      const selected = pods(docs).filter((p) => matches(policy.spec.podSelector.matchLabels, p.template.metadata.labels));
      expect(selected.map((p) => p.owner)).toEqual(['Deployment/trader-alice', 'Deployment/pool-0']);
      const trader = selected[0]!.template.spec.containers[0];
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.spec.ingress).toEqual([{ ports: [{ port: 'metrics', protocol: 'TCP' }] }]);
      expect(trader.ports.map((p: { name: string }) => p.name)).toContain('metrics');
      const egressPorts = policy.spec.egress.flatMap((rule: { ports: Array<{ port: number; protocol: string }> }) =>
        rule.ports.map((p) => `${p.port}/${p.protocol}`),
      );
      expect(new Set(egressPorts)).toEqual(new Set(['53/UDP', '53/TCP', '5432/TCP', '6379/TCP', '443/TCP', ...(extra.length ? ['8480/TCP'] : [])]));
    }
    expect(render('ats', ['--set', 'networkPolicy.enabled=false']).filter((d) => d.kind === 'NetworkPolicy')).toEqual([]);
  });

  it('keep each release to its own pods', () => {
    const staging = cluster('staging', []);
    const prod = cluster('prod', []);
    for (const svc of staging.filter((d) => d.kind === 'Service')) {
      expect(
        pods(prod).filter((p) => matches(svc.spec.selector, p.template.metadata.labels)),
        `Service/${svc.metadata.name}`,
      ).toEqual([]);
    }
  });
});
