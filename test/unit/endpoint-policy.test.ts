import { describe, expect, it } from 'vitest';
import { endpointRefusal } from '../../lib/core/endpoint-policy.ts';

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
});
