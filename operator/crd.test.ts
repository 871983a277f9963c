import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { parse as parseYaml } from 'yaml';
import { chartValuesSchema } from '../charts/values-schema.js';
import { generatedFiles, staleFiles } from '../charts/generate.js';
import { helm } from '../testing/helm.js';
import { tradingAccountSpecSchema } from './spec.js';

const crd = parse(readFileSync(new URL('../crds/tradingaccounts.yaml', import.meta.url), 'utf8'));

/** The API server's strict field validation (kubectl's default) rejects unknown fields. */
function strict(schema: any): any {
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = Array.isArray(schema)
    ? schema.map(strict)
    : Object.fromEntries(
        Object.entries(schema)
          .filter(([k]) => !k.startsWith('x-kubernetes'))
          .map(([k, v]) => [k, strict(v)]),
      );
  if (!Array.isArray(schema) && out.type === 'object' && out.properties) out.additionalProperties = false;
  return out;
}
const specSchema = strict(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec);
// OpenAPI 3.0 writes exclusive bounds as booleans; JSON Schema as numbers.
const toJsonSchema = (s: any): any => {
  if (!s || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map(toJsonSchema);
  const out: any = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, toJsonSchema(v)]));
  if (out.exclusiveMinimum === true) {
    out.exclusiveMinimum = out.minimum;
    delete out.minimum;
  }
  delete out.default;
  return out;
};
const validate = new Ajv({ allErrors: true, strict: false }).compile(toJsonSchema(specSchema));

const base = { displayName: 'Alice', exchange: 'demo', secretRef: { name: 'alice-binance' } };
const valid: Array<[string, unknown]> = [
  ['a minimal spec', base],
  [
    'a simulator URL and a full config',
    {
      ...base,
      exchange: 'http://ats-sim:8480',
      paused: true,
      config: {
        symbols: ['BTCUSDT'],
        minScore: 0.6,
        maxOpenPositions: 2,
        sizing: { mode: 'equity', percent: 5 },
        leverage: 10,
        marginMode: 'cross',
        entryType: 'limit',
        maxOrdersPerDay: 30,
        dailyLossLimitPercent: 3,
        fallbackStopPercent: 1.5,
      },
    },
  ],
  ['fixed sizing', { ...base, config: { sizing: { mode: 'fixed', usdt: 100 } } }],
];
const invalid: Array<[string, unknown]> = [
  ['no secretRef', { displayName: 'A', exchange: 'demo' }],
  ['an unknown exchange', { ...base, exchange: 'kraken' }],
  ['an empty display name', { ...base, displayName: '' }],
  ['a score above 1', { ...base, config: { minScore: 1.5 } }],
  ['leverage 0', { ...base, config: { leverage: 0 } }],
  ['fractional leverage', { ...base, config: { leverage: 2.5 } }],
  ['an unknown margin mode', { ...base, config: { marginMode: 'hedge' } }],
  ['fixed sizing without usdt', { ...base, config: { sizing: { mode: 'fixed', percent: 5 } } }],
  ['equity sizing above 100%', { ...base, config: { sizing: { mode: 'equity', percent: 150 } } }],
  ['a lowercase symbol', { ...base, config: { symbols: ['btcusdt'] } }],
  ['an unknown field', { ...base, config: { stopLossPercent: 2 } }],
  ['a zero daily loss limit', { ...base, config: { dailyLossLimitPercent: 0 } }],
  ['a bad secret name', { ...base, secretRef: { name: 'Alice_Secret' } }],
];

/**
 * The rules the API server applies to a CRD schema ("structural"): every node under properties
 * and items has a type; additionalProperties never sits beside properties; oneOf/anyOf/not
 * branches carry only value checks, on properties their parent declares.
 */
function structuralProblems(node: any, path: string, inBranch = false): string[] {
  const problems: string[] = [];
  if (!inBranch && node.type === undefined && !node['x-kubernetes-preserve-unknown-fields']) problems.push(`${path}: no type`);
  if (node.properties && node.additionalProperties !== undefined) problems.push(`${path}: additionalProperties beside properties`);
  if (inBranch) for (const k of ['type', 'default', 'description', 'additionalProperties']) if (k in node) problems.push(`${path}: ${k} in a value branch`);
  for (const [name, child] of Object.entries<any>(node.properties ?? {})) problems.push(...structuralProblems(child, `${path}.${name}`, inBranch));
  if (node.items) problems.push(...structuralProblems(node.items, `${path}[]`, inBranch));
  for (const k of ['oneOf', 'anyOf', 'allOf']) {
    for (const [i, branch] of (node[k] ?? []).entries()) {
      problems.push(...structuralProblems(branch, `${path}.${k}[${i}]`, true));
      for (const name of Object.keys(branch.properties ?? {}))
        if (!node.properties?.[name]) problems.push(`${path}.${k}[${i}]: ${name} is not a property of its parent`);
    }
  }
  if (node.not) problems.push(...structuralProblems(node.not, `${path}.not`, true));
  return problems;
}

describe('generated manifests', () => {
  it('crds/, the chart CRD and values.schema.json are exactly what `npm run generate` makes from the zod schemas', () => {
    expect(staleFiles(), 'run `npm run generate` and commit the result').toEqual([]);
    expect(Object.keys(generatedFiles())).toHaveLength(3);
  });

  it('the CRD schema is structural, as the API server requires', () => {
    expect(structuralProblems(crd.spec.versions[0].schema.openAPIV3Schema, 'openAPIV3Schema')).toEqual([]);
    expect(structuralProblems({ type: 'object', properties: { a: { properties: {} } }, oneOf: [{ type: 'object' }] }, 's')).toEqual([
      's.a: no type',
      's.oneOf[0]: type in a value branch',
    ]);
  });

  it('the chart default values satisfy the values schema, and helm refuses a bad value naming it', () => {
    const values = parseYaml(readFileSync(new URL('../charts/ats/values.yaml', import.meta.url), 'utf8'));
    expect(chartValuesSchema.safeParse(values).error?.issues).toBeUndefined();
    expect(() => helm(['template', 'ats', 'charts/ats', '--set', 'exchange=kraken'])).toThrow(/exchange/);
    expect(() => helm(['template', 'ats', 'charts/ats', '--set', 'tradr.resources.requests.memory=1Gi'])).toThrow(/tradr/);
  });
});

describe('TradingAccount schema', () => {
  it('is a valid CustomResourceDefinition by the real Kubernetes schema', () => {
    expect(() => new CustomResourceDefinition(crd).validate()).not.toThrow();
  });

  it.each(valid)('both the CRD and the code accept %s', (_name, spec) => {
    expect(validate(spec), JSON.stringify(validate.errors)).toBe(true);
    expect(tradingAccountSpecSchema.safeParse(spec).success).toBe(true);
  });

  it.each(invalid)('both the CRD and the code reject %s', (_name, spec) => {
    expect(validate(spec)).toBe(false);
    expect(tradingAccountSpecSchema.safeParse(spec).success).toBe(false);
  });
});
