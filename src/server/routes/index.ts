// Every feature's routes, mounted under /api/v1 by buildServer. Add a feature by adding its plugin here.
import type { FastifyPluginAsync } from 'fastify';
import { dataRoutes } from './reports-data.ts';

export const allRoutes: FastifyPluginAsync[] = [dataRoutes];
