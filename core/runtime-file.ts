import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Where `ats up` says its services are, so `ats status` and friends find them. */
const runtimeSchema = z.object({
  pid: z.number(),
  redisUrl: z.string(),
  databaseUrl: z.string(),
  simulatorUrl: z.string().optional(),
  consoleUrl: z.string().optional(),
  /** Processes `ats up` started that a later `ats up` cleans up if this one died without stopping them. */
  helpers: z.array(z.object({ name: z.string(), pid: z.number(), command: z.string() })).default([]),
});
export type RuntimeInfo = z.infer<typeof runtimeSchema>;

const file = (stateDir: string) => join(stateDir, 'runtime.json');

export const writeRuntime = (stateDir: string, info: z.input<typeof runtimeSchema>) =>
  writeFileSync(file(stateDir), JSON.stringify(info, null, 2), { mode: 0o600 });
export const removeRuntime = (stateDir: string) => rmSync(file(stateDir), { force: true });

/** What `runtime.json` says, whether or not its `ats up` still runs (undefined: no readable file). */
export function readRuntimeFile(stateDir: string): RuntimeInfo | undefined {
  if (!existsSync(file(stateDir))) return undefined;
  try {
    const parsed = runtimeSchema.safeParse(JSON.parse(readFileSync(file(stateDir), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The running `ats up` of this state folder, if there is one. */
export function readRuntime(stateDir: string): RuntimeInfo | undefined {
  const info = readRuntimeFile(stateDir);
  if (!info) return undefined;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
