import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOGIN_ID, loginFor, newLoginId } from '../../src/login/login-id.js';

// The login id (src/login/login-id.ts): random, then whom the login is for, sealed under k_login.

const key = randomBytes(32);
const made = { clientId: 'rekenapp', school: '12AB01' };

describe('login ids', () => {
  it('name the client and school they were made for, and are new each time', () => {
    const a = newLoginId(key, made);
    const b = newLoginId(key, made);
    expect(a).not.toBe(b);
    expect(a).toMatch(LOGIN_ID);
    expect(loginFor(key, a)).toEqual(made);
    // The longest ids: a 63-character client id and a school with a location.
    const longest = newLoginId(key, { clientId: `a${'b'.repeat(62)}`, school: '12AB01' });
    expect(longest).toMatch(LOGIN_ID);
    expect(loginFor(key, longest)).toEqual({ clientId: `a${'b'.repeat(62)}`, school: '12AB01' });
  });

  it('hold no readable client or school (the school sees the id)', () => {
    const id = newLoginId(key, made);
    expect(id).not.toContain('rekenapp');
    expect(Buffer.from(id, 'base64url').toString('latin1')).not.toContain('rekenapp');
  });

  it('name nobody under another key, altered, cut short, with another random part, or of the previous form', () => {
    const id = newLoginId(key, made);
    expect(loginFor(randomBytes(32), id)).toBeUndefined();
    const flipped = id.slice(0, 60) + (id[60] === 'A' ? 'B' : 'A') + id.slice(61);
    expect(loginFor(key, flipped)).toBeUndefined();
    expect(loginFor(key, id.slice(0, -4))).toBeUndefined();
    // The seal is bound to its random part: moved onto another, it opens nothing.
    expect(loginFor(key, newLoginId(key, made).slice(0, 43) + id.slice(43))).toBeUndefined();
    // Ids of the previous form (the random part alone) still match the pattern but name nobody.
    const previous = randomBytes(32).toString('base64url');
    expect(previous).toMatch(LOGIN_ID);
    expect(loginFor(key, previous)).toBeUndefined();
    expect(loginFor(key, 'not a login id')).toBeUndefined();
  });
});
