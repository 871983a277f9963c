import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tradingAccountCrdYaml } from '../operator/kube/crd-manifest.js';
import { chartValuesJsonSchema } from './values-schema.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every file generated from the zod schemas, by path from the repository root. */
export function generatedFiles(): Record<string, string> {
  const crd = tradingAccountCrdYaml();
  return {
    'crds/tradingaccounts.yaml': crd,
    'charts/ats/crds/tradingaccounts.yaml': crd,
    'charts/ats/values.schema.json': `${JSON.stringify(chartValuesJsonSchema(), null, 2)}\n`,
  };
}

/** The generated files that differ from what is in the tree. */
export function staleFiles(): string[] {
  return Object.entries(generatedFiles())
    .filter(([path, text]) => {
      try {
        return readFileSync(join(ROOT, path), 'utf8') !== text;
      } catch {
        return true;
      }
    })
    .map(([path]) => path);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [path, text] of Object.entries(generatedFiles())) writeFileSync(join(ROOT, path), text);
  console.log(`wrote ${Object.keys(generatedFiles()).join(', ')}`);
}
