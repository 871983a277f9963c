/**
 * Build step (`npm run build`, after tsc): ccxt's Binance USDⓈ-M part as one minified bundle in
 * `dist/vendor/ccxt/`, which `ccxt-binance.ts` loads in the built program. ccxt ships 170 module
 * files for it with their comments, and V8 keeps every module's source text on the heap (the
 * three largest as two-byte strings, 3 MB, for one non-Latin-1 character each): bundled and
 * minified with esbuild, a process's heap after loading it is 7.5 MB instead of 12.2 MB.
 *
 * esbuild, because it is the bundler this project already runs (tsx compiles with it), is fast
 * (under a second here) and keeps ccxt's dynamic imports as chunks loaded on use (`--splitting`):
 * ccxt imports its other exchanges' dependencies (protobufjs, not installed) only on use.
 * Names are kept (`keepNames`): ccxt's errors and log lines carry class names.
 */
import { build, type Plugin } from 'esbuild';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { rmSync } from 'node:fs';
import { CCXT_BUNDLE } from './ccxt-bundle-path.js';

const ENTRY = `
export { default as BinanceUsdm } from './js/src/pro/binanceusdm.js';
export * as ccxtErrors from './js/src/base/errors.js';
export { default as Precise } from './js/src/base/Precise.js';
export * as ccxtNumber from './js/src/base/functions/number.js';
`;

/**
 * ccxt's HTTP client (undici) stays a package of its own, loaded from ccxt's copy: ccxt reads its
 * named exports from a dynamic import, which a bundled CommonJS module does not offer (ccxt then
 * failed every request with "fetch failed"). The path is relative, so the built program moves
 * with its node_modules (the image's /app).
 */
const ownCopy = (name: string, ccxtRoot: string, outdir: string): Plugin => ({
  name: `external-${name}`,
  setup(b) {
    b.onResolve({ filter: new RegExp(`^${name}$`) }, () => {
      const target = createRequire(join(ccxtRoot, 'package.json')).resolve(name);
      return {
        path: relative(outdir, target)
          .split(sep)
          .join('/')
          .replace(/^(?!\.)/, './'),
        external: true,
      };
    });
  },
});

export async function bundleCcxt(dist: string): Promise<void> {
  const ccxtRoot = dirname(dirname(createRequire(import.meta.url).resolve('ccxt')));
  const outdir = dirname(join(dist, CCXT_BUNDLE));
  rmSync(outdir, { recursive: true, force: true });
  await build({
    stdin: { contents: ENTRY, resolveDir: ccxtRoot, sourcefile: 'binanceusdm.js', loader: 'js' },
    outdir,
    entryNames: 'binanceusdm',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    // Native add-ons and packages ccxt loads only for other exchanges stay outside.
    external: ['bufferutil', 'utf-8-validate', 'protobufjs', 'protobufjs/*'],
    plugins: [ownCopy('undici', ccxtRoot, outdir)],
    // ccxt's CommonJS parts (ws) call require(): give the ES module one.
    banner: { js: "import { createRequire as __atsRequire } from 'node:module'; const require = __atsRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await bundleCcxt(resolve(import.meta.dirname, '..', '..', 'dist'));
}
