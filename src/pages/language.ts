import type { FastifyRequest } from 'fastify';

export type Language = 'nl' | 'en';

/**
 * Dutch unless the browser prefers English (RFC 9110 section 12.5.4): the
 * highest-weighted of nl and en in Accept-Language, Dutch on a tie or when
 * neither is named.
 */
export function preferredLanguage(request: FastifyRequest): Language {
  const header = request.headers['accept-language'];
  if (typeof header !== 'string' || header.length > 512) return 'nl';
  let best: { lang: Language; q: number } = { lang: 'nl', q: 0 };
  for (const part of header.split(',')) {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const lang = tag.split('-')[0];
    if (lang !== 'nl' && lang !== 'en') continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (Number.isFinite(q) && (q > best.q || (q === best.q && lang === 'nl'))) best = { lang, q };
  }
  return best.lang;
}
