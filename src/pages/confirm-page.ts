import { escapeHtml, FAVICON_LINK, PAGE_STYLE, pageHeader, type Message, type PageContext } from './page.js';

// A question with one button that POSTs to the gateway itself (form-action
// 'self'), Dutch first, English second: a state change never happens on a GET.
// The page's referrer policy is same-origin, not the gateway's no-referrer: under
// no-referrer a browser sends `Origin: null` even on a same-origin form POST
// (Fetch standard, "serializing a request origin"), and the receiving route
// checks that Origin. Nothing in this page's URL is secret.

export interface Confirmation extends Message {
  readonly button: { readonly nl: string; readonly en: string };
}

export function renderConfirmPage(message: Confirmation, action: string, context: PageContext): string {
  const form = (label: string, id: string) =>
    `<form method="post" action="${escapeHtml(action)}"><button type="submit" id="${id}">${escapeHtml(label)}</button></form>`;
  return `<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(message.nl.title)} - ${escapeHtml(context.service.nl)}</title>${FAVICON_LINK}<style>${PAGE_STYLE}
button{font:inherit;padding:.5rem 1.2rem;border:1px solid #00457c;border-radius:.3rem;background:#00457c;color:#fff;cursor:pointer}
button:focus,button:hover{outline:3px solid #00457c;outline-offset:2px}</style></head>
<body>
${pageHeader(context)}
<main>
<h1>${escapeHtml(message.nl.title)}</h1>
<p>${escapeHtml(message.nl.body)}</p>
${form(message.button.nl, 'confirm')}
<section lang="en"><h2>${escapeHtml(message.en.title)}</h2><p>${escapeHtml(message.en.body)}</p>
${form(message.button.en, 'confirm-en')}</section>
</main>
</body>
</html>
`;
}
