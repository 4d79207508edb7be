import type { Language } from './language.js';
import { escapeHtml, FAVICON_LINK, PAGE_STYLE, pageHeader, type PageContext } from './page.js';

// The where-are-you-from page: a search form (GET, so it works without
// script and with the back button) and the matching schools as a list of
// links. Links, not a POST form: the choice redirects to the school's own
// login page, which a form-action 'self' policy would block after a POST.

export interface PickerSchool {
  readonly id: string;
  readonly name: string;
}

export interface PickerView {
  readonly login: string;
  readonly query: string;
  readonly schools: readonly PickerSchool[];
  /** More schools matched than are shown. */
  readonly truncated: boolean;
  readonly language: Language;
  /** The service's name and the product being logged in to. */
  readonly context: PageContext;
}

const TEXT = {
  nl: {
    title: 'Kies je school',
    intro: 'Zoek je school en kies hem. Daarna log je in bij je school.',
    label: 'Naam of BRIN-nummer van je school',
    search: 'Zoeken',
    found: (n: number) => (n === 1 ? '1 school gevonden.' : `${n} scholen gevonden.`),
    none: 'Geen school gevonden. Probeer een andere zoekterm.',
    more: 'Er zijn meer scholen gevonden. Maak je zoekterm preciezer.',
    ask: 'Typ de naam of het BRIN-nummer van je school.',
    results: 'Scholen',
  },
  en: {
    title: 'Choose your school',
    intro: 'Find your school and choose it. You then log in at your school.',
    label: "Your school's name or BRIN number",
    search: 'Search',
    found: (n: number) => (n === 1 ? '1 school found.' : `${n} schools found.`),
    none: 'No school found. Try another search.',
    more: 'More schools match. Make your search more precise.',
    ask: "Type your school's name or BRIN number.",
    results: 'Schools',
  },
} as const;

export function renderPicker(view: PickerView): string {
  const t = TEXT[view.language];
  const login = escapeHtml(view.login);
  const link = (school: PickerSchool) =>
    `<li><a href="/school/select?login=${encodeURIComponent(view.login)}&amp;school=${encodeURIComponent(school.id)}">${escapeHtml(school.name)} <span class="brin">(${escapeHtml(school.id)})</span></a></li>`;
  const status = view.schools.length === 0 ? (view.query ? t.none : t.ask) : `${t.found(view.schools.length)}${view.truncated ? ` ${t.more}` : ''}`;
  return `<!doctype html>
<html lang="${view.language}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title} - ${escapeHtml(view.context.service[view.language])}</title>${FAVICON_LINK}<style>${PAGE_STYLE}
.brin{color:#555}ul.schools{list-style:none;padding:0}ul.schools li{margin:.4rem 0}
ul.schools a{display:block;padding:.6rem .8rem;border:1px solid #888;border-radius:.3rem;color:#00457c;text-decoration:none}
ul.schools a:focus,ul.schools a:hover{outline:3px solid #00457c;background:#eef4fa}
input,button{font:inherit;padding:.4rem .6rem}label{display:block;font-weight:600;margin-bottom:.3rem}</style></head>
<body>
${pageHeader(view.context, view.language)}
<main>
<h1>${t.title}</h1>
<p>${t.intro}</p>
<form method="get" action="/school/select" role="search">
<input type="hidden" name="login" value="${login}">
<label for="q">${t.label}</label>
<input id="q" name="q" type="search" value="${escapeHtml(view.query)}" autocomplete="off" autofocus maxlength="100">
<button type="submit">${t.search}</button>
</form>
<p id="status" role="status">${status}</p>
${view.schools.length ? `<h2>${t.results}</h2>\n<ul class="schools" aria-describedby="status">\n${view.schools.map(link).join('\n')}\n</ul>` : ''}
</main>
</body>
</html>
`;
}
