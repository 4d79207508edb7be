import { pgTestDb } from '../helpers/db.js';
import { defineLedgerSuite } from './ledger-suite.js';

defineLedgerSuite(pgTestDb);
