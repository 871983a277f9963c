import { stringify } from 'yaml';
import { GROUP, KIND, PLURAL, VERSION, tradingAccountSpecSchema } from '../spec.js';
import { accountStatusSchema } from '../status.js';
import { structuralSchema } from './structural-schema.js';

/** The TradingAccount CustomResourceDefinition, its schema generated from the zod spec and status. */
export function tradingAccountCrd(): Record<string, unknown> {
  const status = structuralSchema(accountStatusSchema, 'output');
  const statusProps = status.properties as Record<string, Record<string, unknown>>;
  // Conditions are a map keyed by type, as `kubectl wait --for=condition=Ready` and apply expect.
  statusProps.conditions = { ...statusProps.conditions, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] };
  delete status.required; // the operator writes status; an object without one is still valid
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: KIND.toLowerCase(), shortNames: ['ta'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Positions', type: 'integer', jsonPath: '.status.openPositions' },
            { name: 'Equity', type: 'number', jsonPath: '.status.equity' },
            { name: 'PnL', type: 'number', description: 'Equity change since 00:00 UTC', jsonPath: '.status.pnlToday' },
            { name: 'Pool', type: 'string', description: 'The trader pool of a pooled account', jsonPath: '.status.pool' },
            { name: 'Exchange', type: 'string', priority: 1, jsonPath: '.spec.exchange' },
            { name: 'Message', type: 'string', priority: 1, jsonPath: '.status.lastError' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: structuralSchema(tradingAccountSpecSchema, 'input'),
                status,
              },
            },
          },
        },
      ],
    },
  };
}

const HEADER = `# TradingAccount: one Binance USD-M Futures account traded by ats.
# Generated from operator/spec.ts and operator/status.ts by \`npm run generate\`; do not edit.
`;

export const tradingAccountCrdYaml = (): string => HEADER + stringify(tradingAccountCrd(), { lineWidth: 0 });
