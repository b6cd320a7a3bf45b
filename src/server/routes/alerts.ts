// The alerts inbox over HTTP (/api/v1/alerts): list with filters, one alert with its deliveries, acknowledge,
// snooze; and who is told about which alerts (/api/v1/alert-subscriptions). Everything is limited to the stores the
// caller may see; an alert of another store is "not found", never "forbidden", so ids reveal nothing.
import type { FastifyPluginAsync } from 'fastify';
import { ALERT_KINDS, acknowledgeAlert, getAlert, listAlerts, snoozeAlert } from '../../alerts/inbox.ts';
import {
  addSubscription,
  CHANNELS,
  listSubscriptions,
  type NewSubscription,
  removeSubscription,
} from '../../alerts/subscriptions.ts';
import type { AlertKind } from '../../db/schema.ts';
import { ALL_ROLES, actorName, MANAGERS, visibleStoreIds } from '../auth/contract.ts';
import { problemResponse } from '../problem.ts';
import { idParams, nullableString, scopedProblems, storeCode } from './schemas.ts';

const Alert = {
  type: 'object',
  required: ['id', 'kind', 'severity', 'status', 'store', 'message', 'raisedAt'],
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: [...ALERT_KINDS] },
    severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    status: { type: 'string', enum: ['open', 'resolved'] },
    store: { ...nullableString, description: 'store code; null for chain-wide alerts (dead events)' },
    storeName: nullableString,
    sku: nullableString,
    productName: nullableString,
    message: { type: 'string' },
    details: { description: 'the figures behind the alert (on hand, reorder point, file, event…)' },
    raisedAt: { type: 'string', format: 'date-time' },
    resolvedAt: nullableString,
    acknowledgedAt: nullableString,
    acknowledgedBy: nullableString,
    snoozedUntil: { ...nullableString, description: 'no message is sent before this instant' },
    notifiedAt: { ...nullableString, description: 'when the digest took it (sent it, or decided nothing was due)' },
  },
} as const;

const Delivery = {
  type: 'object',
  properties: {
    channel: { type: 'string', enum: [...CHANNELS] },
    recipient: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'sent', 'failed'] },
    attempts: { type: 'integer' },
    lastError: nullableString,
    createdAt: { type: 'string' },
    sentAt: nullableString,
  },
} as const;

const Subscription = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    store: { ...nullableString, description: 'null: every store' },
    kind: { type: ['string', 'null'], enum: [...ALERT_KINDS, null], description: 'null: every kind' },
    channel: { type: 'string', enum: [...CHANNELS] },
    recipient: { type: 'string' },
    createdBy: nullableString,
    createdAt: { type: 'string' },
  },
} as const;

const problems = scopedProblems('no such alert, or not one of your stores');

export const alertRoutes: FastifyPluginAsync = async (app) => {
  const { database } = app.ctx;

  app.get<{
    Querystring: {
      status?: 'open' | 'resolved' | 'all';
      kind?: AlertKind;
      store?: string;
      acknowledged?: boolean;
      limit?: number;
      offset?: number;
    };
  }>(
    '/alerts',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['alerts'],
        summary: 'The alerts inbox, newest first: open ones by default',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['open', 'resolved', 'all'], default: 'open' },
            kind: { type: 'string', enum: [...ALERT_KINDS] },
            store: storeCode,
            acknowledged: { type: 'boolean' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'array', items: Alert }, ...problems },
      },
    },
    async (req) => listAlerts(database.db, { ...req.query, storeIds: visibleStoreIds(req.principal) }),
  );

  app.get<{ Params: { id: number } }>(
    '/alerts/:id',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['alerts'],
        summary: 'One alert and every message sent about it',
        params: idParams,
        response: {
          200: { type: 'object', properties: { ...Alert.properties, deliveries: { type: 'array', items: Delivery } } },
          ...problems,
        },
      },
    },
    async (req) => getAlert(database.db, req.params.id, visibleStoreIds(req.principal)),
  );

  app.post<{ Params: { id: number } }>(
    '/alerts/:id/ack',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an alert: someone is on it (no message is sent about it any more)',
        params: idParams,
        response: { 200: Alert, ...problems },
      },
    },
    async (req) => acknowledgeAlert(database, req.params.id, actorName(req.principal), visibleStoreIds(req.principal)),
  );

  app.post<{ Params: { id: number }; Body: { until: string } }>(
    '/alerts/:id/snooze',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['alerts'],
        summary: 'Snooze an open alert: no message about it before `until` (at most 30 days ahead)',
        params: idParams,
        body: {
          type: 'object',
          required: ['until'],
          additionalProperties: false,
          properties: { until: { type: 'string', format: 'date-time' } },
        },
        response: { 200: Alert, ...problems, 409: problemResponse('the alert is resolved') },
      },
    },
    async (req) =>
      snoozeAlert(database, req.params.id, req.body.until, actorName(req.principal), visibleStoreIds(req.principal)),
  );

  app.get(
    '/alert-subscriptions',
    {
      config: { access: { roles: MANAGERS } },
      schema: {
        tags: ['alerts'],
        summary: 'Who is told about which alerts, by which channel (managers see their stores)',
        response: { 200: { type: 'array', items: Subscription }, ...problems },
      },
    },
    async (req) => listSubscriptions(database.db, visibleStoreIds(req.principal)),
  );

  app.post<{ Body: NewSubscription }>(
    '/alert-subscriptions',
    {
      config: { access: { roles: MANAGERS } },
      schema: {
        tags: ['alerts'],
        summary:
          'Tell a recipient about a store’s alerts (of one kind, or all): replaces the default (the store’s managers) for what it matches',
        body: {
          type: 'object',
          required: ['channel', 'recipient'],
          additionalProperties: false,
          properties: {
            store: { anyOf: [storeCode, { type: 'null' }], description: 'omit or null: every store (admins only)' },
            kind: { anyOf: [{ type: 'string', enum: [...ALERT_KINDS] }, { type: 'null' }] },
            channel: { type: 'string', enum: [...CHANNELS] },
            recipient: {
              type: 'string',
              minLength: 3,
              maxLength: 300,
              description: 'an e-mail address, an E.164 phone number or SNS topic ARN, or a webhook URL (admins only)',
            },
          },
        },
        response: { 201: Subscription, ...problems, 409: problemResponse('webhooks need SHOPFLOW_WEBHOOK_SECRET') },
      },
    },
    async (req, reply) => {
      const created = await addSubscription(
        database,
        app.ctx.config,
        req.body,
        actorName(req.principal),
        visibleStoreIds(req.principal),
      );
      return reply.code(201).send(created);
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/alert-subscriptions/:id',
    {
      config: { access: { roles: MANAGERS } },
      schema: {
        tags: ['alerts'],
        summary: 'Remove a subscription',
        params: idParams,
        response: { 204: { type: 'null' }, ...problems },
      },
    },
    async (req, reply) => {
      await removeSubscription(database, req.params.id, actorName(req.principal), visibleStoreIds(req.principal));
      return reply.code(204).send();
    },
  );
};
