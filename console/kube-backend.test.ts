import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFingerprint } from '../core/credentials/key-pair.js';
import { KubeApi } from '../operator/kube/kube-api.js';
import { ACCOUNT_MARK } from '../operator/key-binding.js';
import { StandInApiServer } from '../testing/kube-api-server.js';
import { chartRoleGrants, permissionsUsed } from '../testing/rbac.js';
import { FINGERPRINT_ANNOTATION, KubeBackend } from './kube-backend.js';

const NS = 'trading';
const ta = (name: string) => `/apis/ats.dev/v1alpha1/namespaces/${NS}/tradingaccounts/${name}`;
const secret = (name: string) => `/api/v1/namespaces/${NS}/secrets/${name}`;
const spec = (name: string) => ({ displayName: name, exchange: 'simulator', secretRef: { name: `${name}-binance` }, config: { leverage: 3 } });

describe('the console in a cluster: TradingAccounts and Secrets through the API server', () => {
  const api = new StandInApiServer();
  let backend: KubeBackend;

  beforeAll(async () => {
    await api.start();
    backend = new KubeBackend(new KubeApi(api.kubeConfig()), NS);
    api.put(ta('alice'), { apiVersion: 'ats.dev/v1alpha1', kind: 'TradingAccount', metadata: { name: 'alice', namespace: NS }, spec: spec('alice') });
  });
  afterAll(() => api.stop());

  it('lists and reads accounts with their status, creates and replaces specs, refuses a second account of the same name', async () => {
    expect((await backend.list()).map((a) => a.id)).toEqual(['alice']);
    await backend.write('dave', spec('dave'), { create: true });
    await expect(backend.write('dave', spec('dave'), { create: true })).rejects.toThrow(/exists already/);
    await backend.write('alice', { ...spec('alice'), paused: true }, { create: false });
    expect((api.get(ta('alice'))!.spec as { paused: boolean }).paused).toBe(true);
    expect(((await backend.get('alice'))?.spec as { paused: boolean }).paused).toBe(true);
    expect((await backend.list()).map((a) => a.id)).toEqual(['alice', 'dave']);
  });

  it("writes a key pair as the account's Secret, marked for it, with the fingerprint and never reading a Secret", async () => {
    const { fingerprint } = await backend.setKey('dave', 'dave-binance', { apiKey: 'dave-api-key-0123456789', apiSecret: 'dave-api-secret-0123456789' });
    expect(fingerprint).toBe(keyFingerprint('dave-api-key-0123456789'));
    const stored = api.get(secret('dave-binance'))!;
    expect(stored.metadata['annotations']).toMatchObject({ [ACCOUNT_MARK]: 'dave', [FINGERPRINT_ANNOTATION]: fingerprint });
    // A rotation replaces it the same way.
    await backend.setKey('dave', 'dave-binance', { apiKey: 'dave-api-key-rotated-000', apiSecret: 'dave-api-secret-rotated-0' });
    expect(JSON.stringify(api.get(secret('dave-binance')))).toContain('dave-api-secret-rotated-0');
    expect(api.calls.filter((c) => c.path.includes('/secrets') && c.method === 'GET')).toEqual([]);
  });

  it("uses exactly the permissions the chart's console Role grants", () => {
    expect([...chartRoleGrants('console', NS)].sort()).toEqual([...permissionsUsed(api.calls)].sort());
  });
});
