// The gateway's few HTML pages. Every value is escaped; pages load nothing
// from elsewhere (RFC 9700 section 4.2.4: nothing to leak a Referer to) and speak Dutch first, English second.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface Message {
  readonly nl: { readonly title: string; readonly body: string };
  readonly en: { readonly title: string; readonly body: string };
}

export const PAGE_STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}code{background:#f2f2f2;padding:.1rem .3rem}`;

/** A page in Dutch, then English; with an error code at the bottom when it reports a failure. */
export function renderPage(message: Message, code?: string, detail?: string): string {
  return `<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(message.nl.title)}</title><style>${PAGE_STYLE}</style></head>
<body>
<main>
<h1>${escapeHtml(message.nl.title)}</h1>
<p>${escapeHtml(message.nl.body)}</p>
<section lang="en"><h2>${escapeHtml(message.en.title)}</h2><p>${escapeHtml(message.en.body)}</p></section>
${detail === undefined ? '' : `<p>Melding van de inlogdienst van de school / the school login service said: <code>${escapeHtml(detail)}</code></p>\n`}${code === undefined ? '' : `<p>Foutcode / error code: <code>${escapeHtml(code)}</code></p>\n`}</main>
</body>
</html>
`;
}
