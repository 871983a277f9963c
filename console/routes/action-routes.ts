import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { acceptKeyPair, keyFingerprint } from '../../core/credentials/key-pair.js';
import { AtsError, describeError } from '../../core/errors.js';
import { accountConfigSchema, parseSpec, tradingAccountSpecSchema } from '../../operator/spec.js';
import type { AuditEntry } from '../audit.js';
import { userOf, type Api, type ConsoleContext } from '../context.js';
import type { User } from '../users.js';
import { accountIdParams } from './account-routes.js';

const okSchema = z.object({ ok: z.literal(true), message: z.string() });
const keyBody = z.object({ apiKey: z.string().min(1).max(256), apiSecret: z.string().min(1).max(256) });

/**
 * Changes: each goes where `kubectl apply` would put it (the TradingAccount spec, the account's
 * Secret), so the operator stays the only reconciler; each is written to the audit log.
 */
export function actionRoutes(app: Api, c: ConsoleContext): void {
  /** Runs a change and records it, whatever its outcome. */
  async function audited<T>(user: User, entry: Omit<AuditEntry, 'outcome'>, change: () => Promise<T>): Promise<T> {
    try {
      const result = await change();
      await c.audit.write(user, { ...entry, outcome: 'ok' });
      return result;
    } catch (err) {
      const refused = (err as { statusCode?: number }).statusCode === 404 || err instanceof AtsError;
      await c.audit
        .write(user, { ...entry, detail: { ...entry.detail, error: describeError(err) }, outcome: refused ? 'refused' : 'failed' })
        .catch(() => undefined);
      throw err;
    }
  }

  /** The account's spec with `change` applied, checked by the CRD's own schema before it is written. */
  async function changeSpec(user: User, id: string, change: (spec: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
    const view = await c.access.account(user, id);
    const current = (view.spec && typeof view.spec === 'object' ? view.spec : {}) as Record<string, unknown>;
    const next = change(structuredClone(current));
    const parsed = parseSpec(next);
    if (!parsed.ok) throw new AtsError('ATS_CONFIG_INVALID', parsed.message);
    await c.o.backend.write(id, next, { create: false });
  }

  app.post(
    '/api/accounts',
    {
      schema: {
        summary: 'Create an account (a TradingAccount; with a key pair, its Secret too). The creator owns it.',
        body: z.object({
          id: accountIdParams.shape.id,
          displayName: z.string().min(1).max(100),
          exchange: z.string().optional(),
          placement: z.enum(['dedicated', 'pooled']).optional(),
          config: accountConfigSchema.optional(),
          key: keyBody.optional(),
          /** Admins may give the account to another user. */
          owner: z.string().optional(),
        }),
        response: { 200: okSchema },
      },
    },
    async (req) => {
      const user = userOf(req);
      const b = req.body;
      const owner = user.role === 'admin' && b.owner ? b.owner : user.name;
      const spec = {
        displayName: b.displayName,
        exchange: b.exchange ?? c.o.defaultExchange,
        secretRef: { name: `${b.id}-binance` },
        ...(b.placement ? { placement: b.placement } : {}),
        config: b.config ?? {},
      };
      return audited(user, { action: 'account.create', accountId: b.id, detail: { spec, owner } }, async () => {
        const parsed = parseSpec(spec);
        if (!parsed.ok) throw new AtsError('ATS_CONFIG_INVALID', parsed.message);
        if (await c.o.backend.get(b.id)) throw new AtsError('ATS_BAD_OPTION', `Account ${b.id} exists already: choose another name.`);
        if (!(await c.users.get(owner))) throw new AtsError('ATS_UNKNOWN_USER', `No console user ${owner}.`);
        if (b.key) await c.o.backend.setKey(b.id, spec.secretRef.name, acceptKeyPair(b.key, 'the form'));
        await c.users.soleOwner(owner, b.id);
        await c.o.backend.write(b.id, spec, { create: true });
        return { ok: true as const, message: `Account ${b.id} created; the operator starts its trader.` };
      });
    },
  );

  app.put(
    '/api/accounts/:id/config',
    {
      schema: {
        summary: "Replace the account's trading config (validated by the TradingAccount schema)",
        params: accountIdParams,
        body: z.object({ config: accountConfigSchema, displayName: z.string().min(1).max(100).optional() }),
        response: { 200: okSchema },
      },
    },
    async (req) => {
      const user = userOf(req);
      const { id } = req.params;
      return audited(user, { action: 'account.config', accountId: id, detail: { config: req.body.config } }, async () => {
        await changeSpec(user, id, (spec) => ({ ...spec, config: req.body.config, ...(req.body.displayName ? { displayName: req.body.displayName } : {}) }));
        return { ok: true as const, message: 'Config saved; the trader applies it when the operator has.' };
      });
    },
  );

  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.post(
      `/api/accounts/:id/${action}`,
      {
        schema: {
          summary: paused ? 'Pause: no new entries; open positions stay protected' : 'Resume: new entries allowed again',
          params: accountIdParams,
          response: { 200: okSchema },
        },
      },
      async (req) => {
        const user = userOf(req);
        const { id } = req.params;
        return audited(user, { action: `account.${action}`, accountId: id }, async () => {
          await changeSpec(user, id, (spec) => ({ ...spec, paused }));
          return { ok: true as const, message: paused ? 'Paused.' : 'Resumed.' };
        });
      },
    );
  }

  app.post(
    '/api/accounts/:id/close',
    {
      schema: {
        summary: 'Close positions now at market (reduce-only): the named symbols, or all when none are named',
        params: accountIdParams,
        body: z.object({ symbols: tradingAccountSpecSchema.shape.closePositions.unwrap().shape.symbols }),
        response: { 200: okSchema.extend({ requestId: z.string() }) },
      },
    },
    async (req) => {
      const user = userOf(req);
      const { id } = req.params;
      const requestId = `console-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      const symbols = req.body.symbols;
      return audited(user, { action: 'account.close', accountId: id, detail: { requestId, symbols } }, async () => {
        await changeSpec(user, id, (spec) => ({ ...spec, closePositions: { id: requestId, symbols } }));
        return { ok: true as const, requestId, message: symbols.length ? `Closing ${symbols.join(', ')}.` : 'Closing all positions.' };
      });
    },
  );

  app.get(
    '/api/accounts/:id/key',
    {
      schema: {
        summary: "The account's API key fingerprint (never the key)",
        params: accountIdParams,
        response: { 200: z.object({ fingerprint: z.string().nullable() }) },
      },
    },
    async (req) => {
      const { id } = await c.access.account(userOf(req), req.params.id);
      const row = await c.o.db.selectFrom('accounts').select('key_fingerprint').where('id', '=', id).executeTakeFirst();
      return { fingerprint: row?.key_fingerprint ?? null };
    },
  );

  app.put(
    '/api/accounts/:id/key',
    {
      schema: {
        summary: "Enter or rotate the account's API key pair (write-only: only its fingerprint comes back)",
        params: accountIdParams,
        body: keyBody,
        response: { 200: z.object({ fingerprint: z.string() }) },
      },
    },
    async (req) => {
      const user = userOf(req);
      const view = await c.access.account(user, req.params.id);
      const pair = acceptKeyPair(req.body, 'the form');
      const parsed = parseSpec(view.spec);
      if (!parsed.ok) throw new AtsError('ATS_CONFIG_INVALID', `${parsed.message}: fix the account's spec first`);
      // The audit log names the key by its fingerprint only.
      return audited(user, { action: 'account.key', accountId: view.id, detail: { fingerprint: keyFingerprint(pair.apiKey) } }, () =>
        c.o.backend.setKey(view.id, parsed.spec.secretRef.name, pair),
      );
    },
  );
}
