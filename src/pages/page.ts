// The gateway's few HTML pages. Every value is escaped; pages load nothing
// from elsewhere (RFC 9700 section 4.2.4: nothing to leak a Referer to) and speak Dutch first, English second.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface Message {
  readonly nl: { readonly title: string; readonly body: string };
  readonly en: { readonly title: string; readonly body: string };
}

/** The gateway's own name on its pages (SERVICE_NAME; else a plain description in each language). */
export interface ServiceName {
  readonly nl: string;
  readonly en: string;
}

export const serviceName = (configured: string | undefined): ServiceName =>
  ({ nl: configured ?? 'Inlogdienst', en: configured ?? 'Login service' });

/** The product the pupil is logging in to, and its publisher (the client's supplier), when the request names one. */
export interface Product {
  readonly name: string;
  readonly publisher?: string;
}

/** What every page says besides its message: whose service it is, and what the pupil is doing. */
export interface PageContext {
  readonly service: ServiceName;
  readonly product?: Product;
}

export const PAGE_STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}code{background:#f2f2f2;padding:.1rem .3rem}
header.service{border-bottom:1px solid #ccc;margin-bottom:1.5rem}header.service p{margin:.2rem 0}.service-name{font-weight:600;color:#00457c}`;

/** The icon every page names, so no browser asks for a missing /favicon.ico (src/pages/favicon.ts serves it). */
export const FAVICON_LINK = '<link rel="icon" href="/favicon.svg" type="image/svg+xml">';

/** "Rekenmeester of Uitgeverij Rekenwijs", in one language. */
export function productLine(product: Product, language: 'nl' | 'en'): string {
  const name = `<strong class="product-name">${escapeHtml(product.name)}</strong>`;
  const publisher = product.publisher === undefined ? '' : ` ${language === 'nl' ? 'van' : 'by'} ${escapeHtml(product.publisher)}`;
  return language === 'nl' ? `Je logt in bij ${name}${publisher}.` : `You are logging in to ${name}${publisher}.`;
}

/** The top of every page: the service's name and, when known, the product being logged in to (Dutch; English follows in the page's English part). */
export function pageHeader(context: PageContext, language: 'nl' | 'en' = 'nl'): string {
  const product = context.product === undefined ? '' : `<p class="product">${productLine(context.product, language)}</p>`;
  return `<header class="service"><p class="service-name">${escapeHtml(context.service[language])}</p>${product}</header>`;
}

/** A page in Dutch, then English; with an error code at the bottom when it reports a failure. */
export function renderPage(message: Message, code: string | undefined, context: PageContext, detail?: string): string {
  const productEn = context.product === undefined ? '' : `<p>${productLine(context.product, 'en')}</p>`;
  return `<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(message.nl.title)} - ${escapeHtml(context.service.nl)}</title>${FAVICON_LINK}<style>${PAGE_STYLE}</style></head>
<body>
${pageHeader(context)}
<main>
<h1>${escapeHtml(message.nl.title)}</h1>
<p>${escapeHtml(message.nl.body)}</p>
<section lang="en"><h2>${escapeHtml(message.en.title)}</h2>${productEn}<p>${escapeHtml(message.en.body)}</p></section>
${detail === undefined ? '' : `<p>Melding van de inlogdienst van de school / the school login service said: <code>${escapeHtml(detail)}</code></p>\n`}${code === undefined ? '' : `<p>Foutcode / error code: <code>${escapeHtml(code)}</code></p>\n`}</main>
</body>
</html>
`;
}

/** The page context of a request that names a client (`request.product`): its name and its supplier's, from the registry. */
export function pageContextFor(
  service: ServiceName,
  registry: { clients: ReadonlyMap<string, { name: string; supplier: string }>; suppliers: ReadonlyMap<string, { name: string }> },
  clientId: string | undefined,
): PageContext {
  const client = clientId === undefined ? undefined : registry.clients.get(clientId);
  if (!client) return { service };
  const publisher = registry.suppliers.get(client.supplier)?.name;
  return { service, product: { name: client.name, ...(publisher === undefined ? {} : { publisher }) } };
}
