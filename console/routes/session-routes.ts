import { z } from 'zod';
import { SESSION_COOKIE, SESSION_HOURS } from '../sessions.js';
import { userOf, type Api, type ConsoleContext } from '../context.js';
import { USER_ROLES } from '../users.js';

export const userSchema = z.object({ name: z.string(), role: z.enum(USER_ROLES) });
export const errorSchema = z.object({ error: z.string() });

/** Logging in and out, the session probe (which also hands out the CSRF token), and the live event stream. */
export function sessionRoutes(app: Api, c: ConsoleContext): void {
  app.get(
    '/api/session',
    {
      schema: {
        summary: 'Who is logged in, and the CSRF token to send as x-csrf-token with every change',
        response: { 200: z.object({ user: userSchema.nullable(), csrfToken: z.string() }) },
      },
    },
    async (req, reply) => ({ user: (await c.sessions.user(req.cookies[SESSION_COOKIE])) ?? null, csrfToken: reply.generateCsrf() }),
  );

  app.post(
    '/api/login',
    {
      config: {
        // Per client address and user name, counted in Redis (every console replica shares it);
        // after the body is read, so the name is known.
        rateLimit: {
          max: c.o.loginAttemptsPerMinute ?? 10,
          timeWindow: 60_000,
          hook: 'preHandler',
          keyGenerator: (req: { ip: string; body?: unknown }) => `${req.ip}:${String((req.body as { name?: unknown } | undefined)?.name ?? '')}`,
        },
      },
      schema: {
        summary: 'Log in: sets the session cookie (HttpOnly, SameSite=Strict)',
        body: z.object({ name: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
        response: { 200: z.object({ user: userSchema }), 401: errorSchema },
      },
    },
    async (req, reply) => {
      const user = await c.users.authenticate(req.body.name, req.body.password);
      if (!user) {
        req.log.warn({ user: req.body.name, ip: req.ip }, 'console login refused');
        return reply.code(401).send({ error: 'Wrong user name or password.' });
      }
      const { token, expiresAt } = await c.sessions.open(user);
      reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: c.o.secureCookies ?? false,
        path: '/',
        expires: expiresAt,
        maxAge: SESSION_HOURS * 3_600,
      });
      return { user };
    },
  );

  app.post('/api/logout', { schema: { summary: 'Log out: ends this session', response: { 200: z.object({ ok: z.literal(true) }) } } }, async (req, reply) => {
    await c.sessions.close(req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true as const };
  });

  app.get(
    '/api/events',
    { schema: { summary: 'Live updates (Server-Sent Events): account, log, recommendations and config events for what this user may see' } },
    async (req, reply) => {
      const user = userOf(req);
      let owned = await c.access.ownedIds(user);
      const raw = reply.raw;
      reply.hijack();
      raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      raw.write('retry: 3000\n\n');
      const refresh = setInterval(() => {
        void c.access
          .ownedIds(user)
          .then((ids) => (owned = ids))
          .catch(() => undefined);
        raw.write(': keep-alive\n\n');
      }, 15_000);
      const remove = c.live.add({
        sees: (id) => !owned || owned.includes(id),
        send: (event, data) => raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
      });
      req.raw.on('close', () => {
        clearInterval(refresh);
        remove();
      });
    },
  );
}
