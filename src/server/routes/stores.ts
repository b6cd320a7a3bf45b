// The stores a caller may see, with what a client needs to speak of their days: each store's time zone and the
// business day it is there now (a page defaults its dates to it; a store system names its day's file by it).
import type { FastifyPluginAsync } from 'fastify';
import { todayIn } from '../../domain/dates.ts';
import { ALL_ROLES, visibleStoreIds } from '../auth/contract.ts';

const Store = {
  type: 'object',
  required: ['code', 'name', 'kind', 'timezone', 'today'],
  properties: {
    code: { type: 'string' },
    name: { type: 'string' },
    kind: {
      type: 'string',
      enum: ['file', 'selfservice'],
      description: 'file: sends a daily sales file; selfservice: sells through the kiosks',
    },
    city: { type: ['string', 'null'] },
    timezone: { type: 'string', description: 'IANA time zone, e.g. America/Sao_Paulo' },
    today: { type: 'string', format: 'date', description: "the store's business day now, in its time zone" },
  },
} as const;

export const storeRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/stores',
    {
      config: { access: { roles: ALL_ROLES, tokens: ['upload', 'kiosk'] } },
      schema: {
        tags: ['stores'],
        summary: "The stores the caller may see, each with its time zone and today's business day there",
        response: { 200: { type: 'array', items: Store } },
      },
    },
    async (request) => {
      const ids = visibleStoreIds(request.principal);
      if (ids?.length === 0) return [];
      let q = app.ctx.database.db
        .selectFrom('stores')
        .select(['code', 'name', 'kind', 'city', 'timezone'])
        .orderBy('code');
      if (ids) q = q.where('id', 'in', ids);
      const now = new Date();
      return (await q.execute()).map((s) => ({ ...s, today: todayIn(s.timezone, now) }));
    },
  );
};
