import { describe, expect, it } from 'vitest';
import {
  addressRefusal,
  connectRefusal,
  embeddedIPv4,
  endpointRefusal,
} from '../../lib/core/endpoint-policy.ts';

describe('factory endpoint policy', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data',
    'http://169.254.10.1',
    'http://127.0.0.1:8080',
    'http://127.8.9.10',
    'http://10.1.2.3',
    'http://172.20.0.5',
    'http://192.168.0.10',
    'http://100.64.0.1',
    'http://0.0.0.0',
    'http://[::1]:3000',
    'http://[fe80::1]',
    'http://[fd00::2]',
    'http://[::ffff:169.254.169.254]',
    'http://localhost:3000',
    'http://api.localhost',
    'http://metadata.google.internal',
  ])('refuses %s', (endpoint) => {
    expect(endpointRefusal(endpoint)).toMatch(/loopback|private|link-local|metadata|local name/);
  });

  it.each([
    'https://media.example.com',
    'http://203.0.113.7:5100',
    'http://[2001:db8::1]',
    'http://172.32.0.1',
  ])('accepts %s', (endpoint) => {
    expect(endpointRefusal(endpoint)).toBeUndefined();
  });

  it('lets an allow-list admit hosts, addresses and ranges, and nothing more', () => {
    const allowed = ['localhost', '10.0.0.0/8', '127.0.0.1'];
    expect(endpointRefusal('http://localhost:3000', allowed)).toBeUndefined();
    expect(endpointRefusal('http://10.20.30.40', allowed)).toBeUndefined();
    expect(endpointRefusal('http://127.0.0.1:9', allowed)).toBeUndefined();
    expect(endpointRefusal('http://127.0.0.2', allowed)).toMatch(/loopback/);
    expect(endpointRefusal('http://192.168.1.1', allowed)).toMatch(/private/);
    expect(endpointRefusal('http://169.254.169.254', allowed)).toMatch(/metadata/);
  });

  // Node's URL parser rewrites [::ffff:127.0.0.1] to [::ffff:7f00:1]: both spellings are refused.
  it.each([
    ['http://[::ffff:127.0.0.1]:8080', '127.0.0.1'],
    ['http://[::ffff:7f00:1]', '127.0.0.1'],
    ['http://[::ffff:a9fe:a9fe]', '169.254.169.254'],
    ['http://[::ffff:0:a00:1]', '10.0.0.1'],
    ['http://[::127.0.0.1]', '127.0.0.1'],
    ['http://[64:ff9b::a9fe:a9fe]', '169.254.169.254'],
    ['http://[64:ff9b::192.168.0.1]', '192.168.0.1'],
    ['http://[2002:7f00:1::]', '127.0.0.1'],
    ['http://[2002:a9fe:a9fe:1::5]', '169.254.169.254'],
    ['http://[2001:0:4136:e378:8000:63bf:80ff:fffe]', '127.0.0.1'],
  ])('refuses %s, an IPv6 address carrying %s', (endpoint, ipv4) => {
    const refusal = endpointRefusal(endpoint);
    expect(refusal).toMatch(/loopback|private|link-local|metadata/);
    const host = new URL(endpoint).hostname.slice(1, -1);
    expect(embeddedIPv4(host)).toContain(ipv4);
  });

  it.each(['http://[::ffff:8.8.8.8]', 'http://[64:ff9b::808:808]', 'http://[2002:cb00:7107::1]'])(
    'accepts %s, an IPv6 address carrying a public IPv4 address',
    (endpoint) => {
      expect(endpointRefusal(endpoint)).toBeUndefined();
    },
  );

  it('reads the IPv4 address in each embedding form, and none in a plain IPv6 address', () => {
    expect(embeddedIPv4('::ffff:7f00:1')).toEqual(['127.0.0.1']);
    expect(embeddedIPv4('64:ff9b::a9fe:a9fe')).toEqual(['169.254.169.254']);
    expect(embeddedIPv4('2002:c000:0204::')).toEqual(['192.0.2.4']);
    // Teredo: the server in bits 32-63, the client inverted in the last 32 bits.
    expect(embeddedIPv4('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toEqual(['65.54.227.120', '192.0.2.45']);
    expect(embeddedIPv4('2001:db8::1')).toEqual([]);
    expect(embeddedIPv4('2606:4700::1111')).toEqual([]);
  });

  it('refuses the local-use NAT64 prefix as a whole', () => {
    expect(endpointRefusal('http://[64:ff9b:1::808:808]')).toMatch(/private/);
  });

  it('checks one resolved address, with the allow-list matching the address or its range', () => {
    expect(addressRefusal('169.254.169.254')).toMatch(/169\.254\.169\.254 is .*metadata/);
    expect(addressRefusal('::1')).toMatch(/loopback/);
    expect(addressRefusal('fe80::1%eth0')).toMatch(/link-local/);
    expect(addressRefusal('93.184.215.14')).toBeUndefined();
    expect(addressRefusal('127.0.0.1', ['127.0.0.1'])).toBeUndefined();
    expect(addressRefusal('10.1.2.3', ['10.0.0.0/8'])).toBeUndefined();
    expect(addressRefusal('::ffff:7f00:1', ['127.0.0.1'])).toBeUndefined();
    expect(addressRefusal('127.0.0.2', ['127.0.0.1'])).toMatch(/loopback/);
    expect(addressRefusal('not-an-address')).toMatch(/not an IP address/);
  });

  it('judges a connection by the address a name resolved to; an allowed name admits any address', () => {
    expect(connectRefusal('metadata.example.test', '169.254.169.254')).toBe(
      "host 'metadata.example.test' resolves to 169.254.169.254: address 169.254.169.254 is loopback, private, link-local or metadata",
    );
    expect(connectRefusal('factory.example.test', '203.0.113.9')).toBeUndefined();
    expect(connectRefusal('localhost', '127.0.0.1', ['localhost'])).toBeUndefined();
    expect(connectRefusal('factory.internal', '10.0.0.7', ['10.0.0.0/8'])).toBeUndefined();
    expect(connectRefusal('factory.internal', '10.0.0.7', ['127.0.0.1'])).toMatch(/resolves to 10\.0\.0\.7/);
    expect(connectRefusal('[::1]', '::1')).toBe('address ::1 is loopback, private, link-local or metadata');
  });
});
