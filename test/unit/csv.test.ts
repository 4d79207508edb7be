import { describe, expect, it } from 'vitest';
import { accessRequestCsv } from '../../src/admin/access-request-csv.js';
import { csvCell } from '../../src/admin/csv.js';
import { daysBefore } from '../../src/privacy/disclosures.js';

describe('the access request CSV', () => {
  it.each([
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+31 6 1234', "'+31 6 1234"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['a;b', '"a;b"'],
    ['say "hi"', '"say ""hi"""'],
    ['Uitgever A', 'Uitgever A'],
  ])('cell %j is written as %j (formulas made text, separators quoted)', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('starts with a UTF-8 BOM and a header row only when there is nothing to show; a deleted product is named by its id', () => {
    const empty = accessRequestCsv([]);
    expect(empty.startsWith('\uFEFFProduct (product);')).toBe(true);
    expect(empty.split('\r\n')).toHaveLength(2);
    const row = accessRequestCsv([{ client: 'weg-app', clientName: null, supplier: 'uitgever-x', supplierName: 'Uitgever X', claims: ['school', 'given_name'], firstDay: '2026-01-05', lastDay: '2026-01-06', count: 4 }]);
    expect(row.split('\r\n')[1]).toBe('weg-app;weg-app;Uitgever X;uitgever-x;"school (school), voornaam (given_name)";2026-01-05;2026-01-06;4');
  });
});

describe('school-day arithmetic of the ledger', () => {
  it.each([
    ['2026-03-01', 1, '2026-02-28'],
    ['2028-03-01', 1, '2028-02-29'],
    ['2026-01-01', 730, '2024-01-02'],
    ['2026-10-25', 0, '2026-10-25'],
  ])('%s minus %i days is %s', (day, days, expected) => {
    expect(daysBefore(day, days)).toBe(expected);
  });
});
