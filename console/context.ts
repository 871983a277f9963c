import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../core/db/connection.js';
import type { AccountBackend } from './account-backend.js';
import type { Access } from './access.js';
import type { AuditLog } from './audit.js';
import type { LiveHub } from './live-hub.js';
import type { Sessions } from './sessions.js';
import type { User, Users } from './users.js';

export interface ConsoleOptions {
  readonly db: Db;
  readonly redis: Redis;
  readonly backend: AccountBackend;
  readonly logger: Logger;
  /** Cookies only over HTTPS (set when the console is served behind TLS, e.g. an Ingress). */
  readonly secureCookies?: boolean;
  /**
   * Behind a proxy (an Ingress): the client address is the one it forwards (X-Forwarded-For).
   * Off otherwise, so a client cannot name its own address and slip past the login limit.
   */
  readonly trustProxy?: boolean;
  /** Login attempts per client address per minute (default 10). */
  readonly loginAttemptsPerMinute?: number;
  /** A new account's exchange when the form names none. */
  readonly defaultExchange: string;
}

/** What every route gets: the stores and the live hub. */
export interface ConsoleContext {
  readonly o: ConsoleOptions;
  readonly users: Users;
  readonly sessions: Sessions;
  readonly access: Access;
  readonly audit: AuditLog;
  readonly live: LiveHub;
}

/** The fastify instance routes are added to, its schemas zod's. */
export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
  }
}

/** The user of a route behind the session check (the onRequest hook has answered 401 otherwise). */
export function userOf(req: { user?: User }): User {
  if (!req.user) throw Object.assign(new Error('Not logged in.'), { statusCode: 401 });
  return req.user;
}

/** Admin-only routes: a user gets 404, as for anything they may not see. */
export function adminOf(req: { user?: User }): User {
  const user = userOf(req);
  if (user.role !== 'admin') throw Object.assign(new Error('Not found.'), { statusCode: 404 });
  return user;
}
