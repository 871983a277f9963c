import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The lint rule that keeps imports pointing down (eslint.config.js), tried on files that break it. */
describe('import direction', () => {
  const eslint = new ESLint();
  const restricted = async (file: string, code: string) =>
    (await eslint.lintText(code, { filePath: file }))[0]!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);

  it.each([
    ['core/exchange/governor.ts', "import { Trader } from '../../trader/trader.js';\nexport { Trader };\n", /ground floor/],
    ['core/env.ts', "import { helm } from '../testing/helm.js';\nexport { helm };\n", /ground floor/],
    [
      'trader/trader.ts',
      "import { until } from '../testing/until.js';\nexport { until };\n",
      /never the CLI, the local runtime, the simulator or test helpers/,
    ],
    ['marketdata/service.ts', "import { Simulator } from '../simulator/server.js';\nexport { Simulator };\n", /never the CLI/],
    ['operator/kube/reconciler.ts', "import { up } from '../../local/up.js';\nexport { up };\n", /never the CLI/],
    ['simulator/server.ts', "import { Trader } from '../trader/trader.js';\nexport { Trader };\n", /imports only core/],
    ['local/up.ts', "import { tempDir } from '../testing/temp.js';\nexport { tempDir };\n", /never imports test helpers/],
  ])('refuses in %s: %s', async (file, code, message) => {
    expect(await restricted(file, code)).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    ['trader/trader.ts', "import { loadEnv } from '../core/env.js';\nexport { loadEnv };\n"],
    ['local/up.ts', "import { Simulator } from '../simulator/server.js';\nexport { Simulator };\n"],
    ['trader/risk.test.ts', "import { until } from '../testing/until.js';\nexport { until };\n"],
  ])('allows in %s: %s', async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});
