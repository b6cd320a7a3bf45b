// Response headers that every answer carries (OWASP ASVS; reliability check 28: HSTS ≥ 1 year, CSP with
// object-src 'none'). Installed on the root instance so encapsulated plugins (feature routes, the docs UI, static
// files) cannot escape it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DOCS_PREFIX = '/docs';

export const CSP = "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'";

// Swagger UI puts its logo in a data: URL and sets inline style attributes; everything else it loads is its own
// files under /docs/static, so 'self' still covers scripts and the spec fetch. Only /docs gets this policy.
export const DOCS_CSP = `${CSP}; img-src 'self' data:; style-src 'self' 'unsafe-inline'`;

const FIXED: Record<string, string> = {
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function isDocs(path: string): boolean {
  return path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`);
}

export function securityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0] ?? '';
  for (const [name, value] of Object.entries(FIXED)) reply.header(name, value);
  reply.header('content-security-policy', isDocs(path) ? DOCS_CSP : CSP);
  // API answers hold business data that no shared cache should keep. A route that really wants caching (a
  // public, immutable download) sets its own Cache-Control and keeps it.
  if ((path === '/api' || path.startsWith('/api/')) && !reply.hasHeader('cache-control')) {
    reply.header('cache-control', 'no-store');
  }
}

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    securityHeaders(request, reply);
    return payload;
  });
}
