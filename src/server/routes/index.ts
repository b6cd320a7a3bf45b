// Every feature's routes, mounted under /api/v1 by buildServer. Add a feature by adding its plugin here.
import type { FastifyPluginAsync } from 'fastify';
import { alertRoutes } from './alerts.ts';
import { authRoutes } from './auth.ts';
import { checkoutRoutes } from './checkout.ts';
import { reportRoutes } from './reports.ts';
import { dataRoutes } from './reports-data.ts';
import { restockRoutes } from './restock.ts';
import { salesRoutes } from './sales.ts';
import { stockRoutes } from './stock.ts';
import { storeRoutes } from './stores.ts';
import { uploadRoutes } from './uploads.ts';
import { userRoutes } from './users.ts';

export const allRoutes: FastifyPluginAsync[] = [
  authRoutes,
  userRoutes,
  dataRoutes,
  storeRoutes,
  stockRoutes,
  checkoutRoutes,
  alertRoutes,
  restockRoutes,
  salesRoutes,
  uploadRoutes,
  reportRoutes,
];
