import { describe } from 'vitest';
import { pgliteTestDb } from '../helpers/db.js';
import { defineResultsAndBreachSuite } from './results-and-breach-suite.js';

describe('results back to pupils and breach scope on PGlite', () => defineResultsAndBreachSuite(pgliteTestDb));
