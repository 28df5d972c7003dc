// Which scheme a request may use: https; plain HTTP only for loopback or with --insecure; never from
// https down to plain HTTP, whether a redirect or a token challenge asks for it.
import { RegistryError } from './errors.js';

/**
 * 127.0.0.0/8, ::1 and localhost, in any case, with or without a port (`127.0.0.1:5000`, `[::1]:5000`):
 * the machine itself, where plain HTTP crosses no network.
 */
export function isLoopback(host: string): boolean {
  const lower = host.toLowerCase();
  let name: string;
  if (lower.startsWith('[')) name = lower.slice(1, lower.indexOf(']'));
  // More than one colon and no brackets: an IPv6 address without a port.
  else if (lower.split(':').length > 2) name = lower;
  else name = lower.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export class SchemePolicy {
  constructor(
    /** Plain HTTP for any host, not only loopback. */
    private readonly insecure: boolean,
    /** The scheme to ask the registry's own host with, when the caller's address names one. */
    private readonly scheme: 'https' | 'http' | undefined,
  ) {}

  /** `scheme://host` for a registry host: the scheme asked for, else https, or plain HTTP where it is allowed. */
  originOf(host: string): string {
    return `${this.scheme ?? (this.allowsHttp(new URL(`http://${host}`).hostname) ? 'http' : 'https')}://${host}`;
  }

  /** Throws unless `from` may send ocilab on to `target` while `what`. */
  check(target: URL, from: URL, what: string): void {
    if (from.protocol === 'https:' && target.protocol === 'http:') {
      throw new RegistryError(`${from.origin} redirected to ${target.origin}, which is not https, while ${what}; refusing to downgrade.`);
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      throw new RegistryError(`${from.origin} sent ocilab to ${target.href} while ${what}; only https and http URLs are followed.`);
    }
    if (target.protocol === 'http:' && !this.allowsHttp(target.hostname)) {
      throw new RegistryError(
        `${from.origin} sent ocilab to ${target.origin} over plain HTTP while ${what}; plain HTTP is used only for loopback addresses or with --insecure.`,
      );
    }
  }

  private allowsHttp(hostname: string): boolean {
    return this.insecure || isLoopback(hostname);
  }
}
