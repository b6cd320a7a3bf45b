// Inventory of one store over HTTP (/api/v1/stock/{store}/…): what is on hand, one product's movements, counts,
// goods receipts, transfers to another store and the reorder levels. Every change records who (the principal),
// when and why, in the movements and the audit log.
import type { FastifyPluginAsync } from 'fastify';
import { findProduct, findStore } from '../../inventory/catalog.ts';
import {
  type CountInput,
  type LevelsInput,
  type ReceiptInput,
  receiveGoods,
  recordCount,
  setLevels,
  type TransferInput,
  transferStock,
} from '../../inventory/operations.ts';
import { listStock, movementHistory, productStock } from '../../inventory/queries.ts';
import { ALL_ROLES, actorName, canSeeStore, MANAGERS } from '../auth/contract.ts';
import { problemResponse } from '../problem.ts';
import { scopedProblems, storeCode } from './schemas.ts';

const sku = { type: 'string', minLength: 1, maxLength: 64 } as const;
/** units or kg: a JSON number, or a decimal string such as "0.435" (at most 3 decimals) */
const quantity = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: '^\\d{1,9}(\\.\\d{1,3})?$' },
  ],
  description: 'units, or kg for products sold by weight (up to 3 decimals); a number or a decimal string',
} as const;
const reason = { type: 'string', minLength: 1, maxLength: 300 } as const;
const storeParams = {
  type: 'object',
  required: ['store'],
  additionalProperties: false,
  properties: { store: storeCode },
} as const;
const productParams = {
  type: 'object',
  required: ['store', 'sku'],
  additionalProperties: false,
  properties: { store: storeCode, sku },
} as const;

const StockItem = {
  type: 'object',
  required: ['store', 'sku', 'name', 'unit', 'onHand', 'reorderPoint', 'targetLevel', 'low'],
  properties: {
    store: { type: 'string' },
    sku: { type: 'string' },
    name: { type: 'string' },
    category: { type: ['string', 'null'] },
    unit: { type: 'string', enum: ['UN', 'KG'] },
    onHand: { type: 'number', description: 'units or kg' },
    reorderPoint: { type: ['number', 'null'] },
    targetLevel: { type: ['number', 'null'] },
    low: { type: 'boolean', description: 'on hand is at or below the reorder point' },
  },
} as const;

const Movement = {
  type: 'object',
  required: ['id', 'kind', 'delta', 'ref', 'reason', 'actor', 'at'],
  properties: {
    id: { type: 'integer' },
    kind: {
      type: 'string',
      enum: [
        'sale',
        'return',
        'checkout',
        'void',
        'receipt',
        'count',
        'adjustment',
        'transfer_in',
        'transfer_out',
        'reversal',
      ],
    },
    delta: { type: 'number', description: 'units or kg; negative takes stock out' },
    ref: { type: 'string', description: 'what caused it (unique)' },
    reason: { type: ['string', 'null'] },
    actor: { type: ['string', 'null'], description: 'who: user:<name>, token:<id>, or null for sales files' },
    at: { type: 'string', format: 'date-time' },
  },
} as const;

const changeProblems = scopedProblems('no such store');

export const stockRoutes: FastifyPluginAsync = async (app) => {
  const { database } = app.ctx;

  app.get<{
    Params: { store: string };
    Querystring: { low?: boolean; category?: string; search?: string; limit?: number; offset?: number };
  }>(
    '/stock/:store',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'params', name: 'store' } } },
      schema: {
        tags: ['stock'],
        summary: "A store's stock with its levels; only the low ones, a category, or a search in name, SKU and EAN",
        params: storeParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            low: { type: 'boolean' },
            category: { type: 'string', maxLength: 120 },
            search: { type: 'string', maxLength: 100 },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'array', items: StockItem }, ...changeProblems },
      },
    },
    async (request) => listStock(database.db, { ...request.query, store: request.params.store }),
  );

  app.get<{ Params: { store: string; sku: string } }>(
    '/stock/:store/products/:sku',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'params', name: 'store' } } },
      schema: {
        tags: ['stock'],
        summary: "One product's stock and levels at a store",
        params: productParams,
        response: { 200: StockItem, ...changeProblems, 404: problemResponse('no such store or product') },
      },
    },
    async (request) => {
      const store = await findStore(database.db, request.params.store);
      const product = await findProduct(database.db, request.params.sku);
      return productStock(database.db, store, product);
    },
  );

  app.get<{ Params: { store: string; sku: string }; Querystring: { limit?: number; before?: number } }>(
    '/stock/:store/products/:sku/movements',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'params', name: 'store' } } },
      schema: {
        tags: ['stock'],
        summary: "One product's stock movements at a store, newest first; page with `before`",
        params: productParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            before: { type: 'integer', minimum: 1, description: 'nextBefore of the previous page' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['store', 'sku', 'items', 'nextBefore'],
            properties: {
              store: { type: 'string' },
              sku: { type: 'string' },
              items: { type: 'array', items: Movement },
              nextBefore: { type: ['integer', 'null'] },
            },
          },
          ...changeProblems,
          404: problemResponse('no such store or product'),
        },
      },
    },
    async (request) => {
      const store = await findStore(database.db, request.params.store);
      const product = await findProduct(database.db, request.params.sku);
      return movementHistory(database.db, {
        storeId: store.id,
        storeCode: store.code,
        productId: product.id,
        sku: product.sku,
        limit: request.query.limit ?? 50,
        before: request.query.before,
      });
    },
  );

  app.post<{ Params: { store: string }; Body: CountInput }>(
    '/stock/:store/counts',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'params', name: 'store' } } },
      schema: {
        tags: ['stock'],
        summary:
          'Record a stock count: each product is set to the counted quantity (a count movement of the difference)',
        params: storeParams,
        body: {
          type: 'object',
          required: ['reason', 'lines'],
          additionalProperties: false,
          properties: {
            reason: { ...reason, description: 'why: "weekly count", "damaged goods found", …' },
            lines: {
              type: 'array',
              minItems: 1,
              maxItems: 1000,
              items: {
                type: 'object',
                required: ['sku', 'counted'],
                additionalProperties: false,
                properties: { sku, counted: quantity },
              },
            },
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['id', 'store', 'at', 'actor', 'reason', 'lines'],
            properties: {
              id: { type: 'string' },
              store: { type: 'string' },
              at: { type: 'string' },
              actor: { type: 'string' },
              reason: { type: 'string' },
              lines: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['sku', 'name', 'previous', 'counted', 'difference'],
                  properties: {
                    sku: { type: 'string' },
                    name: { type: 'string' },
                    previous: { type: 'number' },
                    counted: { type: 'number' },
                    difference: { type: 'number' },
                  },
                },
              },
            },
          },
          ...changeProblems,
        },
      },
    },
    async (request, reply) => {
      const r = await recordCount(database, request.params.store, request.body, actorName(request.principal));
      return reply.code(201).send(r);
    },
  );

  const QuantityLines = {
    type: 'array',
    minItems: 1,
    maxItems: 1000,
    items: {
      type: 'object',
      required: ['sku', 'quantity'],
      additionalProperties: false,
      properties: { sku, quantity },
    },
  } as const;

  app.post<{ Params: { store: string }; Body: ReceiptInput }>(
    '/stock/:store/receipts',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'params', name: 'store' } } },
      schema: {
        tags: ['stock'],
        summary: 'Record a goods receipt: stock comes in under the delivery document (invoice) number',
        params: storeParams,
        body: {
          type: 'object',
          required: ['reference', 'lines'],
          additionalProperties: false,
          properties: {
            reference: {
              type: 'string',
              minLength: 1,
              maxLength: 60,
              pattern: '^[^:]+$',
              description: 'invoice or delivery-note number; one document is received once per store',
            },
            supplier: { type: 'string', maxLength: 200 },
            reason: reason,
            lines: QuantityLines,
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['store', 'reference', 'supplier', 'at', 'actor', 'lines'],
            properties: {
              store: { type: 'string' },
              reference: { type: 'string' },
              supplier: { type: ['string', 'null'] },
              at: { type: 'string' },
              actor: { type: 'string' },
              lines: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['sku', 'name', 'quantity', 'onHand'],
                  properties: {
                    sku: { type: 'string' },
                    name: { type: 'string' },
                    quantity: { type: 'number' },
                    onHand: { type: 'number', description: 'after the receipt' },
                  },
                },
              },
            },
          },
          ...changeProblems,
          409: problemResponse('this document was already received at the store'),
        },
      },
    },
    async (request, reply) => {
      const r = await receiveGoods(database, request.params.store, request.body, actorName(request.principal));
      return reply.code(201).send(r);
    },
  );

  app.post<{ Params: { store: string }; Body: TransferInput }>(
    '/stock/:store/transfers',
    {
      config: { access: { roles: MANAGERS, store: { in: 'params', name: 'store' } } },
      schema: {
        tags: ['stock'],
        summary: 'Transfer stock from this store to another one (both must be visible to you), in one transaction',
        params: storeParams,
        body: {
          type: 'object',
          required: ['to', 'reason', 'lines'],
          additionalProperties: false,
          properties: { to: storeCode, reason, lines: QuantityLines },
        },
        response: {
          201: {
            type: 'object',
            required: ['id', 'from', 'to', 'at', 'actor', 'reason', 'lines'],
            properties: {
              id: { type: 'string' },
              from: { type: 'string' },
              to: { type: 'string' },
              at: { type: 'string' },
              actor: { type: 'string' },
              reason: { type: 'string' },
              lines: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['sku', 'name', 'quantity', 'fromOnHand', 'toOnHand'],
                  properties: {
                    sku: { type: 'string' },
                    name: { type: 'string' },
                    quantity: { type: 'number' },
                    fromOnHand: { type: 'number' },
                    toOnHand: { type: 'number' },
                  },
                },
              },
            },
          },
          ...changeProblems,
          404: problemResponse('no such store (sending or receiving)'),
          409: problemResponse('the sending store does not have enough of a product'),
        },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      const r = await transferStock(database, request.params.store, request.body, actorName(principal), (s) =>
        canSeeStore(principal, s.id),
      );
      return reply.code(201).send(r);
    },
  );

  app.put<{ Params: { store: string; sku: string }; Body: LevelsInput }>(
    '/stock/:store/products/:sku/levels',
    {
      config: { access: { roles: MANAGERS, store: { in: 'params', name: 'store' } } },
      schema: {
        tags: ['stock'],
        summary: "Set a product's reorder point and target level at a store (target ≥ reorder point)",
        params: productParams,
        // null first: with type coercion on, a null tried against `number` first would become 0
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            reorderPoint: {
              anyOf: [{ type: 'null' }, ...quantity.anyOf],
              description: 'absent: unchanged; null: none',
            },
            targetLevel: { anyOf: [{ type: 'null' }, ...quantity.anyOf], description: 'absent: unchanged; null: none' },
            reason,
          },
        },
        response: {
          200: { type: 'object', properties: { ...StockItem.properties } },
          ...changeProblems,
          404: problemResponse('no such store or product'),
        },
      },
    },
    async (request) =>
      setLevels(database, request.params.store, request.params.sku, request.body, actorName(request.principal)),
  );
};
