// Logging in and out, and who am I. The session id travels only in an HttpOnly cookie; the CSRF token comes back in
// the body (login, me) for the page to echo in x-csrf-token on every state-changing request.
import type { FastifyPluginAsync } from 'fastify';
import { audit } from '../../db/audit.ts';
import { inTransaction } from '../../db/tx.ts';
import { invalid, reasonError, ShopflowError } from '../../errors.ts';
import { login } from '../../users/login.ts';
import { verifyPassword } from '../../users/passwords.ts';
import { deleteSession } from '../../users/sessions.ts';
import { storeCodesForIds } from '../../users/stores.ts';
import { setPassword, userStoreIds } from '../../users/users.ts';
import { ALL_ROLES, actorName, type Principal } from '../auth/contract.ts';
import { readCookie } from '../auth/plugin.ts';
import { problemResponse } from '../problem.ts';

export const Me = {
  type: 'object',
  required: ['kind', 'stores', 'allStores'],
  properties: {
    kind: { type: 'string', enum: ['user', 'token'] },
    username: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    role: { type: 'string', enum: ['admin', 'manager', 'clerk'] },
    tokenId: { type: 'integer' },
    purpose: { type: 'string', enum: ['upload', 'kiosk'] },
    stores: { type: 'array', items: { type: 'string' }, description: 'store codes; empty when allStores' },
    allStores: { type: 'boolean', description: 'admins see every store' },
    csrfToken: { type: 'string', description: 'sessions only: send it as x-csrf-token on POST/PUT/PATCH/DELETE' },
  },
} as const;

interface MeView {
  kind: 'user' | 'token';
  username?: string;
  displayName?: string | null;
  role?: string;
  tokenId?: number;
  purpose?: string;
  stores: string[];
  allStores: boolean;
  csrfToken?: string;
}

export const authRoutes: FastifyPluginAsync = async (app) => {
  const db = () => app.ctx.database;

  async function me(p: Principal, csrfToken?: string): Promise<MeView> {
    if (p.kind === 'token') {
      return {
        kind: 'token',
        tokenId: p.tokenId,
        purpose: p.purpose,
        stores: await storeCodesForIds(db().db, [p.storeId]),
        allStores: false,
      };
    }
    const user = await db().db.selectFrom('users').select('display_name').where('id', '=', p.userId).executeTakeFirst();
    return {
      kind: 'user',
      username: p.username,
      displayName: user?.display_name ?? null,
      role: p.role,
      stores: p.storeIds === 'all' ? [] : await storeCodesForIds(db().db, p.storeIds),
      allStores: p.storeIds === 'all',
      ...(csrfToken ? { csrfToken } : {}),
    };
  }

  app.post<{ Body: { username: string; password: string } }>(
    '/auth/login',
    {
      config: { access: { roles: [], public: true } },
      schema: {
        tags: ['auth'],
        summary: 'Log in: sets the session cookie and returns the CSRF token',
        description:
          'After 5 consecutive failures (SHOPFLOW_LOGIN_MAX_FAILURES) an account answers 429 with Retry-After, ' +
          'for 1 minute doubling up to 1 hour; after 100 it stays locked until an admin sets a new password. ' +
          'A client address gets 429 after 30 failures in 15 minutes.',
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 200 },
            password: { type: 'string', minLength: 1, maxLength: 1024 },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['user', 'csrfToken'],
            properties: { user: Me, csrfToken: { type: 'string' } },
          },
          401: problemResponse('wrong username or password'),
          429: problemResponse('too many failed logins: wait for Retry-After seconds'),
        },
      },
    },
    async (request, reply) => {
      const outcome = await login(
        db(),
        {
          username: request.body.username,
          password: request.body.password,
          ip: request.ip,
          previousSessionId: readCookie(request.headers.cookie, app.auth.cookieName),
        },
        app.auth.throttle,
        app.auth.settings.session,
      );
      if (!outcome.ok) {
        request.log.warn(
          { security: { event: 'auth.login_failed', reason: outcome.reason, ip: request.ip } },
          'login refused',
        );
        if (outcome.reason === 'throttled') {
          reply.header('retry-after', String(outcome.retryAfter));
          throw reasonError('rate_limited', 'logins_throttled', { seconds: outcome.retryAfter });
        }
        throw new ShopflowError('unauthenticated', 'wrong username or password');
      }
      request.log.info(
        { security: { event: 'auth.login', actor: `user:${outcome.username}`, ip: request.ip } },
        'login',
      );
      const user = await db()
        .db.selectFrom('users')
        .select('role')
        .where('id', '=', outcome.userId)
        .executeTakeFirstOrThrow();
      const p: Principal = {
        kind: 'user',
        userId: outcome.userId,
        username: outcome.username,
        role: user.role,
        storeIds: await userStoreIds(db().db, outcome.userId, user.role),
      };
      reply.header('set-cookie', app.auth.sessionCookie(outcome.session.id));
      return { user: await me(p), csrfToken: outcome.session.csrfToken };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['auth'],
        summary: 'Log out: ends the session (needs x-csrf-token)',
        response: { 204: { type: 'null', description: 'logged out' } },
      },
    },
    async (request, reply) => {
      const id = readCookie(request.headers.cookie, app.auth.cookieName);
      await inTransaction(db(), async (trx) => {
        if (id) await deleteSession(trx, id);
        await audit(trx, actorName(request.principal), 'auth.logout', { ip: request.ip });
      });
      reply.header('set-cookie', app.auth.clearedCookie());
      return reply.code(204).send();
    },
  );

  app.get(
    '/auth/me',
    {
      config: { access: { roles: ALL_ROLES, tokens: ['upload', 'kiosk'] } },
      schema: {
        tags: ['auth'],
        summary: 'Who is calling: the user (with the session CSRF token) or the API token, and its stores',
        response: { 200: Me },
      },
    },
    async (request) => me(request.principal!, request.authSession?.csrfToken),
  );

  app.post<{ Body: { currentPassword: string; newPassword: string } }>(
    '/auth/password',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['auth'],
        summary: 'Change my password: other sessions of mine end, this one stays',
        body: {
          type: 'object',
          required: ['currentPassword', 'newPassword'],
          additionalProperties: false,
          properties: {
            currentPassword: { type: 'string', minLength: 1, maxLength: 1024 },
            newPassword: { type: 'string', minLength: 1, maxLength: 1024 },
          },
        },
        response: {
          204: { type: 'null', description: 'changed' },
          400: problemResponse('the current password is wrong, or the new one does not meet the policy'),
          429: problemResponse('too many wrong current passwords from this address'),
        },
      },
    },
    async (request, reply) => {
      const p = request.principal;
      if (p?.kind !== 'user') throw new ShopflowError('forbidden', 'only people have passwords');
      const throttle = app.auth.throttle;
      const wait = throttle.ipBlocked(request.ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        throw reasonError('rate_limited', 'attempts_throttled', { seconds: wait });
      }
      const row = await db()
        .db.selectFrom('users')
        .select('password_hash')
        .where('id', '=', p.userId)
        .executeTakeFirstOrThrow();
      if (!(await verifyPassword(row.password_hash, request.body.currentPassword))) {
        throttle.ipFailed(request.ip);
        await audit(db().db, actorName(p), 'auth.password_change_failed', { ip: request.ip }, `user:${p.username}`);
        // 400, not 403: the caller may use this route; the value they gave is what is wrong
        throw invalid('the current password is wrong', [{ where: 'body/currentPassword', problem: 'is wrong' }]);
      }
      if (request.body.newPassword === request.body.currentPassword) {
        throw invalid('the new password is the current one', [{ where: 'body/newPassword', problem: 'is unchanged' }]);
      }
      await setPassword(db(), p.username, request.body.newPassword, actorName(p), {
        keepSessionHash: request.authSession?.idHash,
      });
      return reply.code(204).send();
    },
  );
};
