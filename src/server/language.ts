// The language an API answer's human sentences are said in (a file's or line's reason, a refusal that has a reason
// code, a schema's complaints): the first of Portuguese and English an Accept-Language header prefers, English when
// it names neither.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Lang } from '../domain/reasons.ts';

export function preferredLang(header: string | undefined): Lang {
  let best: { lang: Lang; q: number } | undefined;
  for (const part of (header ?? '').split(',')) {
    const [range = '', ...options] = part.trim().toLowerCase().split(';');
    const q = Number(
      options
        .find((o) => o.trim().startsWith('q='))
        ?.trim()
        .slice(2) ?? '1',
    );
    const primary = range.split('-')[0];
    const lang = primary === 'pt' ? 'pt' : primary === 'en' ? 'en' : undefined;
    if (lang && Number.isFinite(q) && q > 0 && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'en';
}

/** The language of this request's answer, which says so in Content-Language (and that it depends on the header). */
export function answerLang(req: FastifyRequest, reply: FastifyReply): Lang {
  const lang = preferredLang(req.headers['accept-language']);
  reply.header('content-language', lang === 'pt' ? 'pt-BR' : 'en');
  reply.header('vary', 'accept-language');
  return lang;
}
