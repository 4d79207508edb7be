import { describe, expect, it } from 'vitest';
import { destinationPolicy, isPublicAddress, refuseDestination } from '../../src/outbound/destination-policy.js';

// Where a remote JWKS may be fetched from (docs/remote-jwks.md). Pure checks:
// nothing here connects anywhere.

describe('isPublicAddress', () => {
  it.each([
    '93.184.215.14',
    '145.97.39.155',
    '2606:4700:4700::1111',
    '2a00:1450:400e:80e::200e',
    // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
    '::ffff:93.184.215.14',
  ])('%s is public', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback range'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'RFC 1918'],
    ['172.16.0.1', 'RFC 1918'],
    ['172.31.255.255', 'RFC 1918'],
    ['192.168.1.1', 'RFC 1918'],
    ['169.254.169.254', 'link-local: cloud metadata'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['192.0.0.1', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
    ['2002:a00:1::1', '6to4 of 10.0.0.1'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['::2', 'outside global unicast (2000::/3)'],
    ['localhost', 'not an address at all'],
    ['', 'empty'],
  ])('%s is not public (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe('refuseDestination', () => {
  const production = destinationPolicy(true);
  const development = destinationPolicy(false);

  it('production: https to a public address only', () => {
    expect(refuseDestination(production, 'https:', 'keys.school.example', '93.184.215.14')).toBeUndefined();
    expect(refuseDestination(production, 'http:', 'keys.school.example', '93.184.215.14')).toBe('not_https');
    expect(refuseDestination(production, 'https:', 'keys.school.example', '10.0.0.7')).toBe('not_public');
    expect(refuseDestination(production, 'https:', '127.0.0.1', '127.0.0.1')).toBe('not_public');
    expect(refuseDestination(production, 'http:', 'localhost', '127.0.0.1')).toBe('not_https');
  });

  it('outside production the registration rules alone apply: loopback peers for development and tests', () => {
    expect(refuseDestination(development, 'http:', 'localhost', '127.0.0.1')).toBeUndefined();
    expect(refuseDestination(development, 'https:', 'keys.school.example', '10.0.0.7')).toBeUndefined();
  });

  it('an allowed host name lifts both rules for that name, whatever it resolves to', () => {
    const policy = destinationPolicy(true, ['Keys.Intranet.Example']);
    expect(refuseDestination(policy, 'http:', 'keys.intranet.example', '10.0.0.7')).toBeUndefined();
    expect(refuseDestination(policy, 'https:', 'other.intranet.example', '10.0.0.7')).toBe('not_public');
  });

  it('an allowed range or address lifts both rules for the addresses in it', () => {
    const policy = destinationPolicy(true, ['10.20.0.0/16', '192.168.5.5', 'fd00::/8', '::ffff:172.16.0.0/108']);
    expect(refuseDestination(policy, 'https:', 'idp.example', '10.20.3.4')).toBeUndefined();
    expect(refuseDestination(policy, 'https:', 'idp.example', '10.21.0.1')).toBe('not_public');
    expect(refuseDestination(policy, 'http:', '192.168.5.5', '192.168.5.5')).toBeUndefined();
    expect(refuseDestination(policy, 'https:', '192.168.5.6', '192.168.5.6')).toBe('not_public');
    expect(refuseDestination(policy, 'https:', 'v6.example', 'fd12::1')).toBeUndefined();
    // A mapped range allows the IPv4 addresses it carries, in either spelling.
    expect(refuseDestination(policy, 'https:', 'mapped.example', '172.16.9.9')).toBeUndefined();
    expect(refuseDestination(policy, 'https:', 'mapped.example', '::ffff:172.16.9.9')).toBeUndefined();
    expect(refuseDestination(policy, 'https:', 'mapped.example', '::ffff:10.20.1.1')).toBeUndefined();
  });
});
