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
 * pooled accounts): 8 MB brought the pool from 252–258 MB to 163–165 MB RSS. The chart's pool
 * Deployment runs the image with these instead of the ENTRYPOINT's (`charts/image.test.ts`).
 */
export const POOL_NODE_FLAGS = ['--max-semi-space-size=8'] as const;
