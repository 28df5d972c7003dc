import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/oci/scheme.js';

describe('isLoopback', () => {
  it.each<[string, boolean]>([
    ['localhost', true],
    ['localhost:5000', true],
    ['LOCALHOST:5000', true],
    ['127.0.0.1', true],
    ['127.0.0.1:5000', true],
    ['127.1.2.3:443', true],
    ['[::1]', true],
    ['[::1]:5000', true],
    ['::1', true],
    ['registry.k8s.io', false],
    ['localhost.example.com:5000', false],
    ['128.0.0.1:5000', false],
    ['[::2]:5000', false],
    ['10.0.0.1', false],
  ])('%s: %s', (host, loopback) => {
    expect(isLoopback(host)).toBe(loopback);
  });
});
