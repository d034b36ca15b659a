// The address classification behind the private-network rule (src/oauth/addressClass.ts):
// every spelling of an address lands in its class. Pure: no network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAddress, parseIPv4 } from '../dist/oauth/addressClass.js';

const CASES = {
  loopback: [
    '127.0.0.1',
    '127.1',
    '127.255.255.254',
    '2130706433',
    '0x7f000001',
    '0x7F.0.0.1',
    '017700000001',
    '0177.0.0.01',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '[::ffff:7f00:1]',
    '0:0:0:0:0:ffff:7f00:1',
    '::127.0.0.2',
  ],
  private: [
    '10.0.0.1',
    '10.255.255.255',
    '167772161',
    '0xa000001',
    '012.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '0xc0a80101',
    '::ffff:10.0.0.1',
    '[::ffff:a00:1]',
    '::ffff:c0a8:101',
    '64:ff9b::10.0.0.1',
  ],
  'carrier-grade NAT': ['100.64.0.1', '100.127.255.255', '::ffff:100.64.0.1'],
  'link-local': [
    '169.254.169.254',
    '2852039166',
    '0xa9fea9fe',
    '025177524776',
    '169.254.43518',
    '::ffff:169.254.169.254',
    '[::ffff:a9fe:a9fe]',
    'fe80::1',
    'fe80::1%eth0',
    '[fe80::abcd]',
  ],
  'unique-local': ['fd00:ec2::254', '[fd00:ec2::254]', 'fc00::1', 'fdff:ffff::1', 'fec0::1'],
  multicast: ['224.0.0.1', '239.255.255.250', 'ff02::1', '::ffff:224.0.0.251'],
  unspecified: ['0.0.0.0', '0', '0x0', '::', '[::]', '0.1.2.3', '::ffff:0.0.0.0'],
  reserved: ['255.255.255.255', '240.0.0.1', '4294967295'],
  public: [
    '93.184.215.14',
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '169.253.255.255',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '[2001:db8::1]',
    '11.0.0.1',
  ],
};

for (const [kind, addresses] of Object.entries(CASES)) {
  test(`${kind}: every spelling`, () => {
    for (const address of addresses) assert.equal(classifyAddress(address), kind, address);
  });
}

test('host names and malformed addresses are no address (the resolver decides)', () => {
  for (const name of [
    'localhost',
    'example.com',
    'metadata.google.internal',
    '1.2.3.4.5',
    '0x100000000',
    '4294967296',
    '256.0.0.1',
    '08.0.0.1',
    'fe80::1::2',
    '',
    '1.2.3.04x',
  ]) {
    assert.equal(classifyAddress(name), undefined, name);
  }
});

test('the IPv4 parser follows the URL Standard and inet_aton', () => {
  assert.equal(parseIPv4('127.1'), '127.0.0.1');
  assert.equal(parseIPv4('10.1.258'), '10.1.1.2');
  assert.equal(parseIPv4('0x7f.0x0.0x0.0x1'), '127.0.0.1');
  assert.equal(parseIPv4('127.0.0.1.'), '127.0.0.1');
  // The WHATWG URL parser agrees with every form above.
  for (const form of ['127.1', '10.1.258', '0x7f.0x0.0x0.0x1', '2130706433', '017700000001', '0xa9fea9fe']) {
    assert.equal(new URL(`http://${form}/`).hostname, parseIPv4(form), form);
  }
});
