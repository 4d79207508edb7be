import type { DisclosureSummary } from '../privacy/access-request.js';
import { csvDocument } from './csv.js';

// The access request as a spreadsheet a school can hand to parents: Dutch
// first with the English in brackets, in the admin API's CSV shape (./csv.ts).
// Pure: no I/O.

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

export function accessRequestCsv(disclosures: readonly DisclosureSummary[]): string {
  return csvDocument(COLUMNS.map(([header]) => header), disclosures.map((d) => COLUMNS.map(([, cell]) => cell(d))));
}
