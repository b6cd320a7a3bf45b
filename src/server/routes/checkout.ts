// Self-checkout over HTTP (/api/v1/checkouts): product lookup (barcodes, SKUs, scale labels), registering a
// purchase exactly once per Idempotency-Key, reading and voiding one, and the store's scale-label profile.
import type { FastifyPluginAsync } from 'fastify';
import { type CheckoutRequest, getCheckout, registerCheckout, voidCheckout } from '../../checkout/checkouts.ts';
import { lookupCode } from '../../checkout/resolve.ts';
import { getScaleProfile, setScaleProfile } from '../../checkout/scale-profile.ts';
import { toUnits } from '../../domain/basket.ts';
import { PAYMENT_METHODS } from '../../domain/payment.ts';
import { findStore } from '../../inventory/catalog.ts';
import { ALL_ROLES, actorName, MANAGERS } from '../auth/contract.ts';
import { problemResponse } from '../problem.ts';
import { storeCode } from './schemas.ts';

const CheckoutLine = {
  type: 'object',
  required: ['lineNo', 'sku', 'ean', 'name', 'unit', 'quantity', 'unitPriceCents', 'totalCents'],
  properties: {
    lineNo: { type: 'integer' },
    sku: { type: 'string' },
    ean: { type: ['string', 'null'] },
    name: { type: 'string' },
    unit: { type: 'string', enum: ['UN', 'KG'] },
    quantity: { type: 'number', description: 'units or kg' },
    unitPriceCents: { type: 'integer', description: 'shelf price per unit or per kg' },
    totalCents: { type: 'integer' },
  },
} as const;

const Checkout = {
  type: 'object',
  required: [
    'id',
    'store',
    'receiptId',
    'businessDate',
    'status',
    'paymentMethod',
    'totalCents',
    'createdAt',
    'voidedAt',
    'voidDate',
    'voidReason',
    'lines',
  ],
  properties: {
    id: { type: 'integer' },
    store: { type: 'string' },
    receiptId: { type: 'string' },
    businessDate: { type: 'string', description: "the store's local date of the sale" },
    status: { type: 'string', enum: ['completed', 'voided'] },
    paymentMethod: { type: 'string' },
    totalCents: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    voidedAt: { type: ['string', 'null'] },
    voidDate: { type: ['string', 'null'], description: 'business date the reversing lines were booked on' },
    voidReason: { type: ['string', 'null'] },
    lines: { type: 'array', items: CheckoutLine },
  },
} as const;

const ScaleProfile = {
  type: 'object',
  required: ['prefix', 'codeLength', 'mode', 'decimals'],
  additionalProperties: false,
  properties: {
    prefix: { type: 'string', pattern: '^2\\d?$', description: '1–2 digits starting with 2' },
    codeLength: { type: 'integer', minimum: 4, maximum: 6 },
    mode: { type: 'string', enum: ['weight', 'price'] },
    decimals: { type: 'integer', minimum: 0, maximum: 3, description: 'weight: 0–3 (kg); price: 0–2' },
    skuPrefix: { type: 'string', maxLength: 32, description: "put before the item code to form the SKU (default '')" },
    skuDigits: {
      type: ['integer', 'null'],
      minimum: 1,
      maximum: 32,
      description: 'zero-pad the item code to this width in the SKU (default null: as printed)',
    },
  },
} as const;

const problems = {
  400: problemResponse('a field is wrong: each one is named'),
  401: problemResponse('not logged in and no API token'),
  403: problemResponse('not allowed for this role, token or store'),
  404: problemResponse('no such store'),
} as const;

export const checkoutRoutes: FastifyPluginAsync = async (app) => {
  const { database } = app.ctx;

  app.get<{ Querystring: { store: string; code: string } }>(
    '/checkouts/products',
    {
      config: { access: { roles: ALL_ROLES, tokens: ['kiosk'], store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['checkout'],
        summary: 'Look up a product by EAN/GTIN, SKU or in-store scale label, as a kiosk scans it',
        querystring: {
          type: 'object',
          required: ['store', 'code'],
          additionalProperties: false,
          properties: { store: storeCode, code: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['sku', 'ean', 'name', 'unit', 'category', 'priceCents', 'matchedBy', 'label'],
            properties: {
              sku: { type: 'string' },
              ean: { type: ['string', 'null'] },
              name: { type: 'string' },
              unit: { type: 'string', enum: ['UN', 'KG'] },
              category: { type: ['string', 'null'] },
              priceCents: { type: 'integer', description: 'per unit or per kg' },
              matchedBy: { type: 'string', enum: ['ean', 'sku', 'scale_label'] },
              label: {
                type: ['object', 'null'],
                description: 'for scale labels: what the label stands for',
                properties: {
                  itemCode: { type: 'string' },
                  mode: { type: 'string', enum: ['weight', 'price'] },
                  quantity: { type: 'number', description: 'kg that leave stock' },
                  totalCents: { type: 'integer', description: 'amount to pay' },
                },
              },
            },
          },
          ...problems,
          404: problemResponse('no product has this code (or no such store)'),
        },
      },
    },
    async (request) => {
      const store = await findStore(database.db, request.query.store);
      const r = await lookupCode(database.db, store, request.query.code.trim());
      return {
        sku: r.product.sku,
        ean: r.product.ean,
        name: r.product.name,
        unit: r.product.unit,
        category: r.product.category,
        priceCents: r.product.priceCents,
        matchedBy: r.matchedBy,
        label: r.label && {
          itemCode: r.label.itemCode,
          mode: r.label.mode,
          quantity: toUnits(r.label.quantityMilli),
          totalCents: r.label.totalCents,
        },
      };
    },
  );

  app.post<{ Body: CheckoutRequest; Headers: { 'idempotency-key'?: string } }>(
    '/checkouts',
    {
      config: { access: { roles: ALL_ROLES, tokens: ['kiosk'], store: { in: 'body', name: 'store' } } },
      schema: {
        tags: ['checkout'],
        summary:
          'Register a purchase: sales lines and stock decrement in one transaction, once per Idempotency-Key (a retry gets the first response)',
        headers: {
          type: 'object',
          required: ['idempotency-key'],
          properties: {
            'idempotency-key': {
              type: 'string',
              minLength: 1,
              maxLength: 128,
              pattern: '^[\\x21-\\x7e]+$',
              description: 'a new unique value (e.g. a UUID) per purchase; resend the same one when retrying',
            },
          },
        },
        body: {
          type: 'object',
          required: ['store', 'paymentMethod', 'lines'],
          additionalProperties: false,
          properties: {
            store: storeCode,
            paymentMethod: { type: 'string', enum: [...PAYMENT_METHODS] },
            lines: {
              type: 'array',
              minItems: 1,
              maxItems: 200,
              items: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  ean: {
                    type: 'string',
                    pattern: '^\\d{8,14}$',
                    description: 'the scanned barcode: a product EAN/GTIN or a scale label',
                  },
                  sku: { type: 'string', minLength: 1, maxLength: 64 },
                  quantity: {
                    anyOf: [
                      { type: 'number', exclusiveMinimum: 0 },
                      { type: 'string', pattern: '^\\d{1,9}(\\.\\d{1,3})?$' },
                    ],
                    description:
                      'units (default 1) or kg (required for weighed products scanned without a scale label); omit for scale labels',
                  },
                },
              },
            },
          },
        },
        response: {
          201: Checkout,
          ...problems,
          409: problemResponse('not enough stock of a product at a self-service store (named, with what is available)'),
          422: problemResponse('the Idempotency-Key was already used with a different request'),
        },
      },
    },
    async (request, reply) => {
      const r = await registerCheckout(database, request.body, {
        actor: actorName(request.principal),
        idempotencyKey: request.headers['idempotency-key'],
      });
      if (r.replayed) reply.header('idempotent-replayed', 'true');
      // the stored text itself, so every replay is byte-identical to the first answer
      return reply.code(r.statusCode).type('application/json; charset=utf-8').send(r.body);
    },
  );

  app.get<{ Params: { id: number }; Querystring: { store: string } }>(
    '/checkouts/:id',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['checkout'],
        summary: 'One checkout of a store, with its lines',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        querystring: {
          type: 'object',
          required: ['store'],
          additionalProperties: false,
          properties: { store: storeCode },
        },
        response: { 200: Checkout, ...problems, 404: problemResponse('no such checkout at this store') },
      },
    },
    async (request) => getCheckout(database, request.query.store, request.params.id),
  );

  app.post<{ Params: { id: number }; Body: { store: string; reason: string } }>(
    '/checkouts/:id/void',
    {
      config: { access: { roles: MANAGERS, tokens: ['kiosk'], store: { in: 'body', name: 'store' } } },
      schema: {
        tags: ['checkout'],
        summary:
          'Void (return) a whole checkout: reversing lines on today’s business date and the goods back to stock; repeating it changes nothing',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        body: {
          type: 'object',
          required: ['store', 'reason'],
          additionalProperties: false,
          properties: { store: storeCode, reason: { type: 'string', minLength: 1, maxLength: 300 } },
        },
        response: { 200: Checkout, ...problems, 404: problemResponse('no such checkout at this store') },
      },
    },
    async (request) =>
      voidCheckout(database, request.body.store, request.params.id, request.body.reason, actorName(request.principal)),
  );

  app.get<{ Querystring: { store: string } }>(
    '/checkouts/scale-profile',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['checkout'],
        summary: "The store's scale-label profile (null when the store has none)",
        querystring: {
          type: 'object',
          required: ['store'],
          additionalProperties: false,
          properties: { store: storeCode },
        },
        response: {
          200: {
            type: 'object',
            required: ['store', 'profile'],
            properties: { store: { type: 'string' }, profile: { anyOf: [{ type: 'null' }, ScaleProfile] } },
          },
          ...problems,
        },
      },
    },
    async (request) => ({
      store: request.query.store,
      profile: await getScaleProfile(database, request.query.store),
    }),
  );

  app.put<{ Body: { store: string; profile: unknown } }>(
    '/checkouts/scale-profile',
    {
      config: { access: { roles: MANAGERS, store: { in: 'body', name: 'store' } } },
      schema: {
        tags: ['checkout'],
        summary: "Set (or with null, remove) the store's scale-label profile",
        body: {
          type: 'object',
          required: ['store', 'profile'],
          additionalProperties: false,
          properties: { store: storeCode, profile: { anyOf: [{ type: 'null' }, ScaleProfile] } },
        },
        response: {
          200: {
            type: 'object',
            required: ['store', 'profile'],
            properties: { store: { type: 'string' }, profile: { anyOf: [{ type: 'null' }, ScaleProfile] } },
          },
          ...problems,
        },
      },
    },
    async (request) => ({
      store: request.body.store,
      profile: await setScaleProfile(database, request.body.store, request.body.profile, actorName(request.principal)),
    }),
  );
};
