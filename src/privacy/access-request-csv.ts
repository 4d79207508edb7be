import type { DisclosureSummary } from './access-request.js';

// The access request as a spreadsheet a school can hand to parents: Dutch
// first with the English in brackets, semicolon-separated (what a Dutch
// spreadsheet program expects), UTF-8 with a byte order mark so it reads the
// accents right, CRLF lines (RFC 4180). Pure: no I/O.

const COLUMNS: readonly [string, (d: DisclosureSummary) => string][] = [
  ['Product (product)', (d) => d.clientName ?? d.client],
  ['Product-id (client id)', (d) => d.client],
  ['Leverancier (supplier)', (d) => d.supplierName ?? d.supplier],
  ['Leverancier-id (supplier id)', (d) => d.supplier],
  ['Gegevens (claims)', (d) => d.claims.map(claimLabel).join(', ')],
  ['Eerste dag (first day)', (d) => d.firstDay],
  ['Laatste dag (last day)', (d) => d.lastDay],
  ['Aantal keer (count)', (d) => String(d.count)],
];

const CLAIM_LABELS: Record<string, string> = {
  school: 'school',
  role: 'rol',
  grade: 'jaargroep',
  groups: 'groepen als pseudoniem',
  group_names: 'groepsnamen',
  given_name: 'voornaam',
  family_name: 'achternaam',
  tussenvoegsel: 'tussenvoegsel',
  birthdate: 'geboortedatum',
  gender: 'geslacht',
};

const claimLabel = (name: string): string => `${CLAIM_LABELS[name] ?? name} (${name})`;

// OWASP "CSV injection": a cell a spreadsheet would read as a formula is made text.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[;,"\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const BOM = '\uFEFF';

/** A whole CSV document in the shape above: BOM, a header line, ';' between cells, CRLF lines. */
export function csvDocument(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const lines = [headers, ...rows.map((row) => row.map(String))];
  return BOM + lines.map((cells) => cells.map(csvCell).join(';')).join('\r\n') + '\r\n';
}

export function accessRequestCsv(disclosures: readonly DisclosureSummary[]): string {
  return csvDocument(COLUMNS.map(([header]) => header), disclosures.map((d) => COLUMNS.map(([, cell]) => cell(d))));
}
