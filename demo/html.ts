// The demo's pages: plain HTML, Dutch first, English second.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Each demo site's icon, in its accent colour, inline: no request, so no 404. */
const icon = (accent: string) =>
  `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="${accent}"/></svg>`)}`;

/** The page's header as its banner and the rest as its main content (every part of a page in a landmark). */
function landmarks(body: string): string {
  const end = body.indexOf('</header>');
  if (end === -1) return `<main>${body}</main>`;
  const split = end + '</header>'.length;
  return `${body.slice(0, split)}<main>${body.slice(split)}</main>`;
}

export function layout(title: string, body: string, accent = '#00457c'): string {
  return `<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<link rel="icon" href="${icon(accent)}">
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
header{border-bottom:4px solid ${accent};margin-bottom:1rem}h1{font-size:1.5rem}.en{color:#555}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
code{background:#f2f2f2;padding:.1rem .3rem;word-break:break-all}button,.button{font:inherit;padding:.5rem .9rem;margin:.2rem;border:1px solid ${accent};
border-radius:.3rem;background:#fff;color:${accent};cursor:pointer;text-decoration:none;display:inline-block}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}.card{border:1px solid #ccc;border-radius:.4rem;padding:1rem}</style></head>
<body>${landmarks(body)}</body></html>
`;
}

/** A page that posts a form on load (with a button for browsers without script). */
export function autoPost(action: string, fields: Record<string, string>, label: string): string {
  const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
  return layout(label, `<form method="post" action="${esc(action)}">${inputs}<p>${esc(label)}</p><button type="submit">Doorgaan / Continue</button></form>
<script>document.forms[0].submit()</script>`);
}
