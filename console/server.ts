import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError, isAtsError } from '../core/errors.js';
import { scrubSecrets } from '../core/secrets-scrub.js';
import { Access } from './access.js';
import { AuditLog } from './audit.js';
import { LiveHub } from './live-hub.js';
import { accountRoutes } from './routes/account-routes.js';
import { actionRoutes } from './routes/action-routes.js';
import { recordRoutes } from './routes/record-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { sharedRoutes } from './routes/shared-routes.js';
import { SESSION_COOKIE, Sessions } from './sessions.js';
import { Users } from './users.js';
import type { ConsoleContext, ConsoleOptions } from './context.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The web UI's files: next to this file in the sources; from `dist/console/`, in the package's `console/web`. */
const WEB_DIR = [join(here, 'web'), join(here, '..', '..', 'console', 'web')].find((d) => existsSync(d)) ?? join(here, 'web');
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

/** Routes anyone may call: the session probe, logging in, and the API's description. */
const PUBLIC = new Set(['/api/session', '/api/login', '/api/openapi.json']);

/**
 * The console: the HTTP API (fastify, its schemas the zod schemas the rest of ats uses, and an
 * OpenAPI document generated from them) and the web UI that calls it.
 */
export async function buildConsole(o: ConsoleOptions): Promise<{ app: FastifyInstance; context: ConsoleContext }> {
  const app = Fastify({
    loggerInstance: o.logger.child({ part: 'http' }) as FastifyBaseLogger,
    disableRequestLogging: true,
    trustProxy: o.trustProxy ?? false,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const users = new Users(o.db);
  const sessions = new Sessions(o.db);
  const context: ConsoleContext = {
    o,
    users,
    sessions,
    access: new Access(o.db, o.backend),
    audit: new AuditLog(o.db),
    live: new LiveHub(o),
  };

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'ats console API', version: '1', description: 'Accounts, records, logs and actions of an ats installation. Log in at POST /api/login.' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } } },
      security: [{ session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'ats_csrf',
    cookieOpts: { httpOnly: true, sameSite: 'strict', path: '/', secure: o.secureCookies ?? false, signed: false },
  });
  await app.register(fastifyRateLimit, { global: false, redis: o.redis, nameSpace: 'ats:console:ratelimit:' });

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const text = err.validation.map((v) => `${v.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'body'}: ${v.message}`).join('; ');
      return reply.code(400).send({ error: `Invalid request: ${text}` });
    }
    if (isAtsError(err)) return reply.code(err.code === 'ATS_UNKNOWN_ACCOUNT' ? 404 : 400).send({ error: scrubSecrets(err.message) });
    const status = err.statusCode ?? 500;
    if (status >= 500) req.log.error({ err: describeError(err), url: req.url }, 'console request failed');
    return reply.code(status).send({ error: status >= 500 ? 'The console could not do that; the error is in its log.' : scrubSecrets(err.message) });
  });

  // Every API route except the public ones needs a session; every change needs the CSRF token.
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.url.startsWith('/api/')) return;
    const path = req.url.split('?')[0]!;
    if (!PUBLIC.has(path)) {
      req.user = await sessions.user(req.cookies[SESSION_COOKIE]);
      if (!req.user) return reply.code(401).send({ error: 'Not logged in: log in first (POST /api/login).' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // Synchronous: either it passes, or it has answered 403 (a missing or wrong x-csrf-token header).
      let passed = false;
      app.csrfProtection(req, reply, () => (passed = true));
      if (!passed) return reply;
    }
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  await api.register(async (scope) => {
    sessionRoutes(scope.withTypeProvider<ZodTypeProvider>(), context);
    accountRoutes(scope.withTypeProvider<ZodTypeProvider>(), context);
    recordRoutes(scope.withTypeProvider<ZodTypeProvider>(), context);
    actionRoutes(scope.withTypeProvider<ZodTypeProvider>(), context);
    sharedRoutes(scope.withTypeProvider<ZodTypeProvider>(), context);
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Probes: ready when Postgres and Redis answer.
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const ok = await Promise.all([sql`select 1`.execute(o.db), o.redis.ping()]).then(
      () => true,
      () => false,
    );
    return reply.code(ok ? 200 : 503).send({ ok });
  });

  await app.register(fastifyStatic, { root: WEB_DIR, prefix: '/', index: 'index.html' });
  await app.register(fastifyStatic, { root: UPLOT_DIR, prefix: '/vendor/uplot/', decorateReply: false });
  app.addHook('onClose', async () => context.live.stop());
  return { app, context };
}
