// Restock orders over HTTP (/api/v1/restock-orders): list, one order with the reasoning behind each line, approve
// (managers: issues the purchase order, or the next revision of one changed since it was issued), receive goods
// against it (partial deliveries allowed), cancel; and the suppliers' e-mail addresses purchase orders go to
// (/api/v1/suppliers). Orders of stores the caller may not see are "not found".
import type { FastifyPluginAsync } from 'fastify';
import { approveOrder } from '../../restock/issue.ts';
import {
  cancelOrder,
  getOrder,
  listOrders,
  RESTOCK_STATUSES,
  type RestockStatus,
  receiveAgainstOrder,
} from '../../restock/orders.ts';
import { listSuppliers, setSupplierEmail } from '../../restock/suppliers.ts';
import { ALL_ROLES, actorName, MANAGERS, visibleStoreIds } from '../auth/contract.ts';
import { problemResponse } from '../problem.ts';
import { idParams, nullableString, scopedProblems, storeCode } from './schemas.ts';

const quantity = {
  anyOf: [
    { type: 'number', exclusiveMinimum: 0 },
    { type: 'string', pattern: '^\\d{1,9}(\\.\\d{1,3})?$' },
  ],
  description: 'units, or kg for products sold by weight (up to 3 decimals); a number or a decimal string',
} as const;

const Summary = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    store: { type: 'string' },
    storeName: { type: 'string' },
    supplier: { type: 'string' },
    status: { type: 'string', enum: [...RESTOCK_STATUSES] },
    lineCount: { type: 'integer' },
    revision: { type: 'integer', description: 'the revision the supplier was last sent: 0 before the first issue' },
    pendingChanges: {
      type: 'boolean',
      description:
        'an issued order changed by a later need: the change awaits approval, which issues it as the next revision',
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    issuedAt: nullableString,
    closedAt: nullableString,
  },
} as const;

const Line = {
  type: 'object',
  properties: {
    sku: { type: 'string' },
    name: { type: 'string' },
    ean: nullableString,
    unit: { type: 'string', enum: ['UN', 'KG'] },
    quantity: { type: 'number', description: 'ordered, units or kg' },
    received: { type: 'number' },
    outstanding: { type: 'number' },
    issued: {
      type: 'number',
      description:
        'what the supplier was sent in the latest revision; less than quantity while a change awaits approval',
    },
    rationale: {
      description:
        'why this quantity: method (target_level or sales_rate), the figures used in thousandths, and a sentence explaining the sum',
    },
  },
} as const;

const Order = {
  type: 'object',
  properties: {
    ...Summary.properties,
    supplierEmail: nullableString,
    approvedBy: nullableString,
    approvedAt: nullableString,
    amendedAt: { ...nullableString, description: 'when the first change awaiting approval was made' },
    receipts: { type: 'integer' },
    emailedTo: nullableString,
    emailedAt: nullableString,
    emailedRevision: { type: 'integer', description: 'the revision last e-mailed to the supplier (0: none)' },
    cancelledAt: nullableString,
    documents: {
      type: ['object', 'null'],
      properties: { pdf: { type: 'string' }, csv: { type: 'string' } },
      description: "keys of the latest revision's purchase order in the reports bucket",
    },
    lines: { type: 'array', items: Line },
  },
} as const;

const Supplier = {
  type: 'object',
  properties: { name: { type: 'string' }, email: nullableString, products: { type: 'integer' } },
} as const;

const problems = scopedProblems('no such order, or not one of your stores');

export const restockRoutes: FastifyPluginAsync = async (app) => {
  const { database } = app.ctx;

  app.get<{
    Querystring: {
      store?: string;
      status?: RestockStatus | 'open';
      supplier?: string;
      limit?: number;
      offset?: number;
    };
  }>(
    '/restock-orders',
    {
      config: { access: { roles: ALL_ROLES, store: { in: 'query', name: 'store' } } },
      schema: {
        tags: ['restock'],
        summary: 'Restock orders, newest first (status `open`: draft, approved, issued or partly received)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            store: storeCode,
            status: { type: 'string', enum: [...RESTOCK_STATUSES, 'open'] },
            supplier: { type: 'string', minLength: 1, maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'array', items: Summary }, ...problems },
      },
    },
    async (req) => listOrders(database.db, { ...req.query, storeIds: visibleStoreIds(req.principal) }),
  );

  app.get<{ Params: { id: number } }>(
    '/restock-orders/:id',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['restock'],
        summary: 'One restock order, each line with the figures behind its quantity',
        params: idParams,
        response: { 200: Order, ...problems },
      },
    },
    async (req) => getOrder(database.db, req.params.id, visibleStoreIds(req.principal)),
  );

  app.post<{ Params: { id: number } }>(
    '/restock-orders/:id/approve',
    {
      config: { access: { roles: MANAGERS } },
      schema: {
        tags: ['restock'],
        summary:
          'Approve a draft, or the pending changes of an issued order: it is issued at once as a PDF and CSV purchase order (the next revision) in the reports bucket and e-mailed to the supplier when an address is on file',
        params: idParams,
        response: {
          200: Order,
          ...problems,
          409: problemResponse('neither a draft nor an order with pending changes, or no lines'),
        },
      },
    },
    async (req) => approveOrder(app.ctx, req.params.id, actorName(req.principal), visibleStoreIds(req.principal)),
  );

  app.post<{
    Params: { id: number };
    Body: { lines: Array<{ sku: string; quantity: number | string }>; reference?: string };
  }>(
    '/restock-orders/:id/receive',
    {
      config: { access: { roles: ALL_ROLES } },
      schema: {
        tags: ['restock'],
        summary:
          'Goods received against an issued order (part of it is fine): stock moves by receipt movements; the order closes when everything arrived',
        params: idParams,
        body: {
          type: 'object',
          required: ['lines'],
          additionalProperties: false,
          properties: {
            lines: {
              type: 'array',
              minItems: 1,
              maxItems: 1000,
              items: {
                type: 'object',
                required: ['sku', 'quantity'],
                additionalProperties: false,
                properties: { sku: { type: 'string', minLength: 1, maxLength: 64 }, quantity },
              },
            },
            reference: {
              type: 'string',
              pattern: '^[A-Za-z0-9._/-]{1,64}$',
              description: "the supplier's delivery note: the same one is never received twice",
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              receipt: { type: 'integer' },
              reference: nullableString,
              order: Order,
            },
          },
          ...problems,
          409: problemResponse('the order is not issued, or more than outstanding, or the delivery note was received'),
        },
      },
    },
    async (req) => {
      const storeIds = visibleStoreIds(req.principal);
      const r = await receiveAgainstOrder(database, req.params.id, {
        lines: req.body.lines,
        reference: req.body.reference,
        actor: actorName(req.principal),
        storeIds,
      });
      return {
        receipt: r.receipt,
        reference: r.reference,
        order: await getOrder(database.db, req.params.id, storeIds),
      };
    },
  );

  app.post<{ Params: { id: number } }>(
    '/restock-orders/:id/cancel',
    {
      config: { access: { roles: MANAGERS } },
      schema: {
        tags: ['restock'],
        summary: 'Cancel an open order; what was received stays, what was not no longer counts as on order',
        params: idParams,
        response: { 200: Order, ...problems, 409: problemResponse('already closed or cancelled') },
      },
    },
    async (req) => {
      const storeIds = visibleStoreIds(req.principal);
      await cancelOrder(database, req.params.id, actorName(req.principal), storeIds);
      return getOrder(database.db, req.params.id, storeIds);
    },
  );

  app.get(
    '/suppliers',
    {
      config: { access: { roles: MANAGERS } },
      schema: {
        tags: ['restock'],
        summary: 'Suppliers (as products name them) and where their purchase orders are e-mailed',
        response: { 200: { type: 'array', items: Supplier }, ...problems },
      },
    },
    async () => listSuppliers(database.db),
  );

  app.put<{ Params: { name: string }; Body: { email: string | null } }>(
    '/suppliers/:name',
    {
      config: { access: { roles: ['admin'] } },
      schema: {
        tags: ['restock'],
        summary: "Set (or clear, with null) the address a supplier's purchase orders are e-mailed to",
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        body: {
          type: 'object',
          required: ['email'],
          additionalProperties: false,
          properties: { email: { anyOf: [{ type: 'string', maxLength: 254 }, { type: 'null' }] } },
        },
        response: { 200: Supplier, ...problems },
      },
    },
    async (req) => setSupplierEmail(database, req.params.name, req.body.email, actorName(req.principal)),
  );
};
