import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Where `ats up` says its services are, so `ats status` and friends find them. */
const runtimeSchema = z.object({ pid: z.number(), redisUrl: z.string(), databaseUrl: z.string(), simulatorUrl: z.string().optional() });
export type RuntimeInfo = z.infer<typeof runtimeSchema>;

const file = (stateDir: string) => join(stateDir, 'runtime.json');

export const writeRuntime = (stateDir: string, info: RuntimeInfo) => writeFileSync(file(stateDir), JSON.stringify(info, null, 2), { mode: 0o600 });
export const removeRuntime = (stateDir: string) => rmSync(file(stateDir), { force: true });

export function readRuntime(stateDir: string): RuntimeInfo | undefined {
  if (!existsSync(file(stateDir))) return undefined;
  const parsed = runtimeSchema.safeParse(JSON.parse(readFileSync(file(stateDir), 'utf8')));
  if (!parsed.success) return undefined;
  try {
    process.kill(parsed.data.pid, 0);
    return parsed.data;
  } catch {
    return undefined;
  }
}
