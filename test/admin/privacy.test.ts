import { describe } from 'vitest';
import { pgliteTestDb } from '../helpers/db.js';
import { definePrivacySuite } from './privacy-suite.js';

describe('privacy rights on PGlite', () => definePrivacySuite(pgliteTestDb));
