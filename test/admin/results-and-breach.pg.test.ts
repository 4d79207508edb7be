import { describe } from 'vitest';
import { pgTestDb } from '../helpers/db.js';
import { defineResultsAndBreachSuite } from './results-and-breach-suite.js';

describe('results back to pupils and breach scope on PostgreSQL', () => defineResultsAndBreachSuite(pgTestDb));
