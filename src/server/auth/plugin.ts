// Authentication and authorization for every request, enforcing src/server/auth/contract.ts:
//   onRequest     credentials → request.principal (a session cookie for people, `Authorization: Bearer` for
//                 machines; bearer wins when both are sent), then: no principal → 401; role or token purpose not
//                 allowed → 403; cookie-authenticated state-changing request without the session's CSRF token in
//                 x-csrf-token → 403; a store named in params or query that does not exist → 404, that the principal
//                 may not see → 403.
//   preValidation the same store check for a store named in the body (parsed by then, not yet validated), so a
//                 refused caller learns nothing from validation errors.
// Deny by default: a route under the API prefix that declares no `config.access` is treated as admin-only (and
// logged when registered); test/access-matrix.test.ts fails on such a route, so none ships. Routes outside the
// prefix (health, metrics, docs, OpenAPI, static files) are public and never touch the session store.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { audit } from '../../db/audit.ts';
import { reasonError, ShopflowError } from '../../errors.ts';
import { LoginThrottle } from '../../users/login.ts';
import { csrfMatches, findSession } from '../../users/sessions.ts';
import { findToken } from '../../users/tokens.ts';
import { actorName, canSeeStore, type Principal, type RouteAccess } from './contract.ts';
import { type AuthSettings, authSettingsFromEnv } from './settings.ts';

export const SECURE_COOKIE_NAME = '__Host-shopflow';
export const PLAIN_COOKIE_NAME = 'shopflow_session';
export const CSRF_HEADER = 'x-csrf-token';

/** What a route without `config.access` under the API prefix gets. */
export const DEFAULT_API_ACCESS: RouteAccess = { roles: ['admin'] };

export interface RegisteredRoute {
  method: string;
  url: string;
  /** as declared; undefined when the route declares none */
  access: RouteAccess | undefined;
  schema: FastifySchema | undefined;
}

export interface AuthRuntime {
  settings: AuthSettings;
  throttle: LoginThrottle;
  cookieName: string;
  apiPrefix: string;
  /** every route registered after the plugin, in order (the access-matrix test walks these) */
  routes: RegisteredRoute[];
  sessionCookie(id: string): string;
  clearedCookie(): string;
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthRuntime;
  }
  interface FastifyRequest {
    /** set when the principal came from a session cookie */
    authSession?: { idHash: string; csrfToken: string };
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function registerAuth(app: FastifyInstance, opts: { apiPrefix: string; settings?: AuthSettings }): void {
  const settings = opts.settings ?? authSettingsFromEnv(app.ctx.config.cookieSecure);
  const cookieName = settings.cookieSecure ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME;
  // SameSite=Strict: the cookie only authenticates API calls made by our own pages, never a cross-site navigation.
  const attributes = `Path=/; HttpOnly; SameSite=Strict${settings.cookieSecure ? '; Secure' : ''}`;
  const runtime: AuthRuntime = {
    settings,
    throttle: new LoginThrottle(settings.login),
    cookieName,
    apiPrefix: opts.apiPrefix,
    routes: [],
    sessionCookie: (id) => `${cookieName}=${id}; ${attributes}`,
    clearedCookie: () => `${cookieName}=; ${attributes}; Max-Age=0`,
  };
  app.decorate('auth', runtime);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('accessStore', undefined);
  app.decorateRequest('authSession', undefined);

  const underApi = (url: string | undefined) =>
    url !== undefined && (url === opts.apiPrefix || url.startsWith(`${opts.apiPrefix}/`));

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    for (const method of methods) runtime.routes.push({ method, url: route.url, access, schema: route.schema });
    if (underApi(route.url) && !access) {
      app.log.warn(
        { method: route.method, url: route.url },
        'route declares no config.access: admin-only until it does',
      );
    }
  });

  // Store codes never change their id, so a short-lived cache saves a query per request without going stale.
  const storeCache = new Map<string, { id: number; until: number }>();
  async function storeId(code: string): Promise<number | undefined> {
    const hit = storeCache.get(code);
    if (hit && hit.until > Date.now()) return hit.id;
    const row = await app.ctx.database.db.selectFrom('stores').select('id').where('code', '=', code).executeTakeFirst();
    if (!row) return undefined;
    if (storeCache.size > 10_000) storeCache.clear();
    storeCache.set(code, { id: Number(row.id), until: Date.now() + 60_000 });
    return Number(row.id);
  }

  async function deny(
    request: FastifyRequest,
    reason: string,
    message: string,
    storeIdDenied?: number,
  ): Promise<never> {
    const principal = request.principal;
    const details = {
      reason,
      method: request.method,
      route: request.routeOptions.url,
      url: request.url.split('?')[0],
      ip: request.ip,
    };
    request.log.warn({ security: { event: 'auth.denied', actor: actorName(principal), ...details } }, 'access denied');
    await audit(app.ctx.database.db, actorName(principal), 'auth.denied', details, details.url, storeIdDenied);
    throw new ShopflowError('forbidden', message);
  }

  async function checkStore(request: FastifyRequest, where: string, value: unknown): Promise<void> {
    if (value === undefined || value === null || value === '') return;
    if (typeof value !== 'string') {
      throw new ShopflowError('invalid_input', `${where} must be one store code`, [
        { where, problem: 'must be one store code' },
      ]);
    }
    const id = await storeId(value);
    if (id === undefined) throw reasonError('not_found', 'store_missing', { store: value });
    if (!canSeeStore(request.principal, id)) {
      await deny(request, 'store', `you do not have access to store ${value}`, id);
    }
    request.accessStore = { id, code: value };
  }

  function unauthenticated(reply: FastifyReply, message: string, clearCookie: boolean): ShopflowError {
    reply.header('www-authenticate', 'Bearer realm="shopflow"');
    if (clearCookie) reply.header('set-cookie', runtime.clearedCookie());
    return new ShopflowError('unauthenticated', message);
  }

  async function authenticate(
    request: FastifyRequest,
  ): Promise<{ principal?: Principal; presented: 'bearer' | 'cookie' | undefined }> {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
      const token = m ? await findToken(app.ctx.database, m[1]!) : undefined;
      if (!token) return { presented: 'bearer' };
      return {
        presented: 'bearer',
        principal: {
          kind: 'token',
          tokenId: token.tokenId,
          purpose: token.purpose,
          storeId: token.storeId,
          storeIds: [token.storeId],
        },
      };
    }
    const sessionId = readCookie(request.headers.cookie, cookieName);
    if (sessionId === undefined || sessionId === '') return { presented: undefined };
    const session = await findSession(app.ctx.database, sessionId, settings.session);
    if (!session) return { presented: 'cookie' };
    request.authSession = { idHash: session.idHash, csrfToken: session.csrfToken };
    return {
      presented: 'cookie',
      principal: {
        kind: 'user',
        userId: session.userId,
        username: session.username,
        role: session.role,
        storeIds: session.storeIds,
      },
    };
  }

  function accessOf(request: FastifyRequest): RouteAccess | undefined {
    const url = request.routeOptions.url;
    if (!underApi(url)) return undefined;
    return (request.routeOptions.config as { access?: RouteAccess }).access ?? DEFAULT_API_ACCESS;
  }

  app.addHook('onRequest', async (request, reply) => {
    const access = accessOf(request);
    if (!access) return;
    const { principal, presented } = await authenticate(request);
    request.principal = principal;
    if (access.public) return;
    if (!principal) {
      if (presented) {
        request.log.info(
          {
            security: {
              event: 'auth.invalid_credentials',
              via: presented,
              ip: request.ip,
              url: request.url.split('?')[0],
            },
          },
          'invalid credentials',
        );
        throw unauthenticated(
          reply,
          presented === 'bearer' ? 'the API token is not valid' : 'the session has ended: log in again',
          presented === 'cookie',
        );
      }
      throw unauthenticated(reply, 'log in, or send an API token as Authorization: Bearer', false);
    }
    if (principal.kind === 'user' && !access.roles.includes(principal.role)) {
      await deny(request, 'role', `the ${principal.role} role may not do this`);
    }
    if (principal.kind === 'token' && !(access.tokens ?? []).includes(principal.purpose)) {
      await deny(request, 'token_purpose', `${principal.purpose} tokens may not do this`);
    }
    if (request.authSession && !SAFE_METHODS.has(request.method)) {
      const presentedCsrf = request.headers[CSRF_HEADER];
      if (!csrfMatches(request.authSession.csrfToken, typeof presentedCsrf === 'string' ? presentedCsrf : undefined)) {
        await deny(request, 'csrf', `the ${CSRF_HEADER} header is missing or does not match the session`);
      }
    }
    const store = access.store;
    if (store?.in === 'params' || store?.in === 'query') {
      const source = (store.in === 'params' ? request.params : request.query) as Record<string, unknown> | undefined;
      await checkStore(
        request,
        `${store.in === 'params' ? 'params' : 'querystring'}/${store.name}`,
        source?.[store.name],
      );
    }
  });

  app.addHook('preValidation', async (request) => {
    const access = accessOf(request);
    if (!access || access.public || access.store?.in !== 'body') return;
    const body = request.body;
    if (body && typeof body === 'object' && !Buffer.isBuffer(body)) {
      await checkStore(request, `body/${access.store.name}`, (body as Record<string, unknown>)[access.store.name]);
    }
  });
}
