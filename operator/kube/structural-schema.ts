import { z } from 'zod';

type Schema = { [key: string]: unknown };

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A zod schema as a Kubernetes *structural* OpenAPI v3 schema, the form a CRD must have
 * (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema):
 * every node has a type; `additionalProperties` never sits beside `properties` (the API server
 * prunes or, with strict field validation, rejects unknown fields instead); and a union of object
 * shapes becomes one object with every property, whose `oneOf` branches only say which fields
 * and discriminator values go together.
 */
export function structuralSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Schema {
  const json = z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'throw' }) as Schema;
  return structural(json);
}

/** Keys in the order a reader of a CRD expects them; the rest keep zod's order. */
const FIRST = ['type', 'description', 'default'];

function structural(node: Schema): Schema {
  const out: Schema = {};
  for (const key of [...FIRST.filter((k) => k in node), ...Object.keys(node).filter((k) => !FIRST.includes(k))]) {
    if (key === '$schema' || key === 'id') continue;
    out[key] = node[key];
  }
  // zod writes its own ISO pattern beside `format: date-time`; the API server checks the format.
  if (out.format === 'date-time') delete out.pattern;
  // `.int()` adds the safe-integer bounds; Kubernetes integers are int64 and need no bound.
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  if (Array.isArray(out.oneOf) || Array.isArray(out.anyOf)) return mergedUnion(out);
  if (isObject(out.properties)) {
    delete out.additionalProperties;
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, structural(v as Schema)]));
  }
  if (isObject(out.items)) out.items = structural(out.items);
  return out;
}

/** `oneOf` of object shapes (a zod discriminated union) → one object with value-only branches. */
function mergedUnion(node: Schema): Schema {
  const key = Array.isArray(node.oneOf) ? 'oneOf' : 'anyOf';
  const { [key]: rawBranches, ...rest } = node;
  const branches = (rawBranches as Schema[]).map(structural);
  if (!branches.every((b) => b.type === 'object' && isObject(b.properties))) {
    throw new Error(`a union of non-object shapes cannot be a structural schema: ${JSON.stringify(node)}`);
  }
  const props = (b: Schema) => b.properties as Record<string, Schema>;
  const required = (b: Schema) => (b.required as string[] | undefined) ?? [];
  const properties: Record<string, Schema> = {};
  for (const b of branches) {
    for (const [name, prop] of Object.entries(props(b))) {
      const seen = properties[name];
      properties[name] = seen && Array.isArray(seen.enum) && Array.isArray(prop.enum) ? { ...seen, enum: [...seen.enum, ...prop.enum] } : (seen ?? prop);
    }
  }
  const common = required(branches[0]!).filter((r) => branches.every((b) => required(b).includes(r)));
  const valueBranches = branches.map((b) => {
    const own = Object.keys(props(b));
    const others = Object.keys(properties).filter((p) => !own.includes(p));
    const narrowed = Object.fromEntries(
      Object.entries(props(b))
        .filter(([, p]) => Array.isArray(p.enum))
        .map(([name, p]) => [name, { enum: p.enum }]),
    );
    const branch: Schema = {};
    const extra = required(b).filter((r) => !common.includes(r));
    if (extra.length > 0) branch.required = extra;
    if (Object.keys(narrowed).length > 0) branch.properties = narrowed;
    if (others.length === 1) branch.not = { required: others };
    if (others.length > 1) branch.not = { anyOf: others.map((o) => ({ required: [o] })) };
    return branch;
  });
  return { type: 'object', ...rest, properties, ...(common.length > 0 ? { required: common } : {}), [key]: valueBranches };
}
