// Users (admins only) and API tokens (admins for any store; managers for their own stores, since they run the
// store's sales system and kiosks). Every change is audited by the functions in src/users/.
import type { FastifyPluginAsync } from 'fastify';
import type { Role } from '../../db/schema.ts';
import { generatePassword } from '../../users/passwords.ts';
import { createToken, listTokens, revokeToken, type TokenPurpose } from '../../users/tokens.ts';
import { createUser, getUser, listUsers, setPassword, type UserChanges, updateUser } from '../../users/users.ts';
import { actorName, MANAGERS, visibleStoreIds } from '../auth/contract.ts';
import { problemResponse } from '../problem.ts';
import { storeCode } from './schemas.ts';

const ADMIN = { roles: ['admin'] as Role[] };
const username = { type: 'string', minLength: 2, maxLength: 64 } as const;
const role = { type: 'string', enum: ['admin', 'manager', 'clerk'] } as const;

export const User = {
  type: 'object',
  required: ['id', 'username', 'role', 'stores', 'disabled', 'createdAt'],
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    email: { type: ['string', 'null'] },
    phone: { type: ['string', 'null'] },
    role,
    stores: { type: 'array', items: { type: 'string' }, description: 'store codes; empty for admins (every store)' },
    disabled: { type: 'boolean' },
    createdAt: { type: 'string' },
    lastLoginAt: { type: ['string', 'null'] },
  },
} as const;

export const Token = {
  type: 'object',
  required: ['id', 'store', 'purpose', 'createdAt'],
  properties: {
    id: { type: 'integer' },
    store: { type: 'string' },
    purpose: { type: 'string', enum: ['upload', 'kiosk'] },
    label: { type: ['string', 'null'] },
    createdBy: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    revokedAt: { type: ['string', 'null'] },
    lastUsedAt: { type: ['string', 'null'] },
  },
} as const;

const contact = {
  displayName: { type: ['string', 'null'], maxLength: 200 },
  email: { type: ['string', 'null'], maxLength: 254 },
  phone: { type: ['string', 'null'], maxLength: 32 },
} as const;

const usernameParams = {
  type: 'object',
  required: ['username'],
  properties: { username },
} as const;

export const userRoutes: FastifyPluginAsync = async (app) => {
  const database = () => app.ctx.database;

  app.get<{ Querystring: { includeDisabled?: boolean } }>(
    '/users',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['users'],
        summary: 'Every user, with role and stores',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { includeDisabled: { type: 'boolean', default: true } },
        },
        response: { 200: { type: 'array', items: User } },
      },
    },
    async (request) => listUsers(database(), { includeDisabled: request.query.includeDisabled }),
  );

  app.post<{
    Body: {
      username: string;
      password?: string;
      role: Role;
      stores?: string[];
      displayName?: string | null;
      email?: string | null;
      phone?: string | null;
    };
  }>(
    '/users',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['users'],
        summary: 'Create a user; without a password one is generated and returned once',
        body: {
          type: 'object',
          required: ['username', 'role'],
          additionalProperties: false,
          properties: {
            username,
            password: { type: 'string', minLength: 12, maxLength: 256 },
            role,
            stores: { type: 'array', items: storeCode, maxItems: 1000 },
            ...contact,
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['user'],
            properties: {
              user: User,
              password: { type: 'string', description: 'only when generated: shown this once' },
            },
          },
          400: problemResponse('a field is not valid, or a store does not exist'),
          409: problemResponse('the username is taken'),
        },
      },
    },
    async (request, reply) => {
      const { password, stores, ...rest } = request.body;
      const chosen = password ?? generatePassword();
      const user = await createUser(
        database(),
        { ...rest, password: chosen, stores: stores ?? [] },
        actorName(request.principal),
      );
      return reply.code(201).send(password ? { user } : { user, password: chosen });
    },
  );

  app.get<{ Params: { username: string } }>(
    '/users/:username',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['users'],
        summary: 'One user',
        params: usernameParams,
        response: { 200: User, 404: problemResponse('no such user') },
      },
    },
    async (request) => getUser(database(), request.params.username),
  );

  app.patch<{ Params: { username: string }; Body: UserChanges }>(
    '/users/:username',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['users'],
        summary: "Change a user's role, stores, contact, or disable/enable them (disabling ends their sessions)",
        params: usernameParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            role,
            stores: { type: 'array', items: storeCode, maxItems: 1000 },
            disabled: { type: 'boolean' },
            ...contact,
          },
        },
        response: {
          200: User,
          400: problemResponse('a field is not valid'),
          404: problemResponse('no such user'),
          409: problemResponse('the last enabled admin cannot be disabled or demoted'),
        },
      },
    },
    async (request) => updateUser(database(), request.params.username, request.body, actorName(request.principal)),
  );

  app.put<{ Params: { username: string }; Body: { password: string } }>(
    '/users/:username/password',
    {
      config: { access: ADMIN },
      schema: {
        tags: ['users'],
        summary: "Set a user's password: ends their sessions and clears a login lock",
        params: usernameParams,
        body: {
          type: 'object',
          required: ['password'],
          additionalProperties: false,
          properties: { password: { type: 'string', minLength: 12, maxLength: 256 } },
        },
        response: { 204: { type: 'null', description: 'set' }, 404: problemResponse('no such user') },
      },
    },
    async (request, reply) => {
      await setPassword(database(), request.params.username, request.body.password, actorName(request.principal));
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { store?: string; includeRevoked?: boolean } }>(
    '/tokens',
    {
      config: { access: { roles: MANAGERS, store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['tokens'],
        summary: 'API tokens of the stores I manage (never the secrets)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { store: storeCode, includeRevoked: { type: 'boolean', default: false } },
        },
        response: { 200: { type: 'array', items: Token } },
      },
    },
    async (request) => {
      const visible = visibleStoreIds(request.principal);
      const storeIds = request.accessStore ? [request.accessStore.id] : visible;
      return listTokens(database(), { storeIds, includeRevoked: request.query.includeRevoked });
    },
  );

  app.post<{ Body: { store: string; purpose: TokenPurpose; label?: string } }>(
    '/tokens',
    {
      config: { access: { roles: MANAGERS, store: { in: 'body', name: 'store' } } },
      schema: {
        tags: ['tokens'],
        summary: 'Create an API token for one store and purpose; the secret is in this response only',
        body: {
          type: 'object',
          required: ['store', 'purpose'],
          additionalProperties: false,
          properties: {
            store: storeCode,
            purpose: { type: 'string', enum: ['upload', 'kiosk'] },
            label: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          201: {
            type: 'object',
            required: [...Token.required, 'token'],
            properties: {
              ...Token.properties,
              token: { type: 'string', description: 'send as Authorization: Bearer <token>; shown once' },
            },
          },
          400: problemResponse('a field is not valid'),
        },
      },
    },
    async (request, reply) => {
      const created = await createToken(database(), request.body, actorName(request.principal));
      return reply.code(201).send(created);
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/tokens/:id',
    {
      config: { access: { roles: MANAGERS } },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token (effective at its next request)',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        response: { 200: Token, 404: problemResponse('no such token among the stores I manage') },
      },
    },
    async (request) =>
      revokeToken(database(), request.params.id, actorName(request.principal), {
        storeIds: visibleStoreIds(request.principal),
      }),
  );
};
