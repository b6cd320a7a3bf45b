// Sales files from a browser or a store system (/api/v1/stores/{code}/sales-files/{date}):
//   PUT  …/{date}?name=x.csv  streams the body into the sales bucket at incoming/<code>/<date>/<name>; the ingest
//                             runs as for any other object. 202 with the file id; Location: /api/v1/files/{id}.
//   POST …/{date}/presign     on S3 only: a presigned PUT URL for exactly that key, so a big file goes straight to
//                             the bucket (and S3 notifies the ingest Lambda).
// Upload tokens of the store and managers or admins of it may call them.
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { isValidIsoDate } from '../../domain/dates.ts';
import { invalid, ShopflowError } from '../../errors.ts';
import { salesFileKey } from '../../ingest/key.ts';
import { receiveSalesFile, UPLOAD_NAME } from '../../sales/upload.ts';
import { S3ObjectStore } from '../../storage/s3.ts';
import { API_PREFIX } from '../app.ts';
import { actorName, MANAGERS } from '../auth/contract.ts';
import { problemResponse } from '../problem.ts';

/** Long enough for a slow store link to start the upload, short enough that a leaked URL soon stops working. */
export const PRESIGN_SECONDS = 15 * 60;

const params = {
  type: 'object',
  required: ['code', 'date'],
  additionalProperties: false,
  properties: {
    code: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'the store code' },
    date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the business date, YYYY-MM-DD' },
  },
} as const;

const fileName = {
  type: 'string',
  pattern: UPLOAD_NAME.source,
  description: 'the file name, ending in .csv or .csv.gz (default sales.csv, or sales.csv.gz for gzip content)',
} as const;

const access = { roles: MANAGERS, tokens: ['upload' as const], store: { in: 'params' as const, name: 'code' } };

type Params = { code: string; date: string };

function checkDate(date: string): void {
  if (!isValidIsoDate(date)) {
    throw invalid(`"${date}" is not a business date (YYYY-MM-DD)`, [{ where: 'params/date', problem: 'not a date' }]);
  }
}

/** The body as it arrives: the route streams it to the bucket instead of buffering it. */
const uploadBody: FastifyPluginAsync = async (app) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['text/csv', 'text/plain', 'application/octet-stream', 'application/gzip', 'application/x-gzip'],
    (_request, payload, done) => done(null, payload),
  );

  app.put<{ Params: Params; Querystring: { name?: string } }>(
    '/stores/:code/sales-files/:date',
    {
      config: { access },
      schema: {
        tags: ['files'],
        summary: "Upload a store-day's sales file (the body is the file)",
        description:
          'Content-Type text/csv (or application/octet-stream), or application/gzip for a .csv.gz. The body must be ' +
          'text: spreadsheets, PDFs, images and bodies with NUL bytes are refused. The ingest then runs as for any ' +
          'file put in the bucket: poll the Location for its result.',
        params,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { name: fileName },
        },
        response: {
          202: {
            type: 'object',
            required: ['fileId', 'key', 'versionId', 'sizeBytes', 'status'],
            properties: {
              fileId: { type: 'integer' },
              key: { type: 'string' },
              versionId: { type: 'string' },
              sizeBytes: { type: 'integer' },
              status: { type: 'string', description: 'received, or already further when the ingest was quick' },
            },
          },
          400: problemResponse('not a text CSV file, a bad date or file name'),
          404: problemResponse('no such store'),
          413: problemResponse('the file is over the size limit; nothing was stored'),
          415: problemResponse('a Content-Type other than text/csv, application/octet-stream or application/gzip'),
        },
      },
    },
    async (request, reply) => {
      checkDate(request.params.date);
      const body = request.body as NodeJS.ReadableStream | undefined;
      if (!body || typeof (body as { pipe?: unknown }).pipe !== 'function') throw invalid('the request has no body');
      const type = (request.headers['content-type'] ?? '').toLowerCase();
      const name = request.query.name ?? (type.includes('gzip') ? 'sales.csv.gz' : 'sales.csv');
      const declared = request.headers['content-length'];
      const result = await receiveSalesFile(app.ctx, {
        storeCode: request.params.code,
        businessDate: request.params.date,
        fileName: name,
        body: body as Readable,
        ...(declared !== undefined ? { declaredBytes: Number(declared) } : {}),
        actor: actorName(request.principal),
      });
      return reply.code(202).header('location', `${API_PREFIX}/files/${result.fileId}`).send(result);
    },
  );
};

const presign: FastifyPluginAsync = async (app) => {
  app.post<{ Params: Params; Body: { name?: string; contentLength: number; contentType?: string } }>(
    '/stores/:code/sales-files/:date/presign',
    {
      config: { access },
      schema: {
        tags: ['files'],
        summary: 'On S3: a presigned PUT URL for the sales file of a store-day',
        description:
          'The URL writes exactly incoming/<code>/<date>/<name>, for 15 minutes, with the declared size and type ' +
          '(both signed). The ingest runs when S3 announces the object; find its result with GET /files?store=&date=.',
        params,
        body: {
          type: 'object',
          required: ['contentLength'],
          additionalProperties: false,
          properties: {
            name: fileName,
            contentLength: { type: 'integer', minimum: 1, description: 'the exact size of the file in bytes' },
            contentType: { type: 'string', enum: ['text/csv', 'application/gzip'], default: 'text/csv' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['url', 'method', 'key', 'headers', 'expiresAt'],
            properties: {
              url: { type: 'string' },
              method: { type: 'string', enum: ['PUT'] },
              key: { type: 'string' },
              headers: {
                type: 'object',
                description: 'send exactly these with the PUT',
                properties: { 'content-type': { type: 'string' }, 'content-length': { type: 'string' } },
              },
              expiresAt: { type: 'string' },
            },
          },
          400: problemResponse('a bad date or file name'),
          404: problemResponse('no such store'),
          409: problemResponse('the buckets are local: PUT the file to this server instead'),
          413: problemResponse('the declared size is over the limit'),
        },
      },
    },
    async (request) => {
      checkDate(request.params.date);
      const store = app.ctx.store;
      if (!(store instanceof S3ObjectStore)) {
        throw new ShopflowError(
          'conflict',
          `the sales bucket is on the local disk, so there is nothing to presign: PUT the file to ${API_PREFIX}/stores/${request.params.code}/sales-files/${request.params.date}`,
        );
      }
      const contentType = request.body.contentType ?? 'text/csv';
      const name = request.body.name ?? (contentType === 'application/gzip' ? 'sales.csv.gz' : 'sales.csv');
      const lower = name.toLowerCase();
      if (!(lower.endsWith('.csv') || lower.endsWith('.csv.gz'))) {
        throw invalid(`${name} must end in .csv or .csv.gz`, [{ where: 'body/name', problem: 'not .csv or .csv.gz' }]);
      }
      if (lower.endsWith('.gz') !== (contentType === 'application/gzip')) {
        throw invalid('a .csv.gz file is sent as application/gzip, a .csv file as text/csv', [
          { where: 'body/contentType', problem: `does not match ${name}` },
        ]);
      }
      const key = salesFileKey(request.params.code, request.params.date, name);
      const url = await store.presignPut(app.ctx.config.buckets.sales, key, {
        expiresSeconds: PRESIGN_SECONDS,
        maxBytes: app.ctx.config.maxFileBytes,
        contentLength: request.body.contentLength,
        contentType,
      });
      return {
        url,
        method: 'PUT',
        key,
        headers: { 'content-type': contentType, 'content-length': String(request.body.contentLength) },
        expiresAt: new Date(Date.now() + PRESIGN_SECONDS * 1000).toISOString(),
      };
    },
  );
};

export const uploadRoutes: FastifyPluginAsync = async (app) => {
  await app.register(uploadBody);
  await app.register(presign);
};
