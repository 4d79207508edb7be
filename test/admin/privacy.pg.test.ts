import { describe } from 'vitest';
import { pgTestDb } from '../helpers/db.js';
import { definePrivacySuite } from './privacy-suite.js';

describe('privacy rights on PostgreSQL', () => definePrivacySuite(pgTestDb));
