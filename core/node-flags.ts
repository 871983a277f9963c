/**
 * V8 flags every ats process runs with (the local runtime's children, the image's entrypoint,
 * the benchmark). A 1 MB young-generation semi-space keeps a mostly idle process's heap small:
 * `npm run bench` measured a dedicated trader at 90 MB RSS instead of 115 MB, for more frequent
 * (small) scavenges. Kept in step with the Dockerfile's ENTRYPOINT by `charts/image.test.ts`.
 */
export const NODE_FLAGS = ['--max-semi-space-size=1'] as const;
