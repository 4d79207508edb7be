import { pgliteTestDb } from '../helpers/db.js';
import { defineLedgerSuite } from './ledger-suite.js';

defineLedgerSuite(pgliteTestDb);
