/**
 * V8 flags every ats process runs with (the local runtime's children, the image's entrypoint,
 * the benchmark). A 1 MB young-generation semi-space keeps a mostly idle process's heap small:
 * `npm run bench` measured a dedicated trader at 90 MB RSS instead of 115 MB, for more frequent
 * (small) scavenges. Kept in step with the Dockerfile's ENTRYPOINT by `charts/image.test.ts`.
 */
export const NODE_FLAGS = ['--max-semi-space-size=1'] as const;

/**
 * A trader pool's V8 flags: a pool is busy (a hundred accounts), and with a 1 MB semi-space its
 * short-lived objects were promoted early and bloated the old generation. `npm run bench` (100
 * pooled accounts): 8 MB brought the pool from 252–258 MB to 163–165 MB RSS; 16 MB then cut the
 * burst's garbage collection (reaction p99 0.84–1.09 s against 0.95–1.11 s in alternating runs)
 * for about 15 MB more per pool. The chart's pool Deployment runs the image with these instead of
 * the ENTRYPOINT's (`charts/image.test.ts`).
 */
export const POOL_NODE_FLAGS = ['--max-semi-space-size=16'] as const;

/**
 * A dedicated trader's V8 flags: one account, mostly idle, so no optimizing compilers (TurboFan,
 * Sparkplug). They cost memory (compiled code, compiler zones, the pages of V8's own compiler
 * code) that such a process never earns back: `npm run bench` (6 dedicated traders, RSS sampled
 * every 2 s) measured 81 MB median instead of 90–97 MB. Bytecode runs the few milliseconds an
 * entry's own work takes; signing and parsing run in native code. The chart's trader
 * Deployments and the local runtime run dedicated traders with these (`charts/image.test.ts`).
 */
export const TRADER_NODE_FLAGS = [...NODE_FLAGS, '--no-opt', '--no-sparkplug'] as const;
