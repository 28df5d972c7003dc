// The format of an image cache tarball (`ocilab cache export`): a table of contents, then every blob
// under its digest, regular files only; how each is named, written and judged. Pure functions.
//
//   ocilab-cache.json        {"ocilab-cache": 1, "blobs": [{digest, size}], "tags": [{image, digest, mediaType, size, pulledAt}]}
//   blobs/sha256/<hex>       the blobs it lists, in its order
import { Header, Pax } from 'tar';
import type { CachedBlob, CachedTag } from './cache.js';
import { isDigest, splitDigest } from './digest.js';
import { CacheArchiveError, InvalidReferenceError } from './errors.js';
import { MANIFEST_MAX_BYTES } from './manifest.js';
import { formatReference, parseReference } from './reference.js';

/** The first entry: what the tarball holds. */
export const CONTENTS_NAME = 'ocilab-cache.json';
/** The format version this ocilab writes and reads; a newer one is refused with "upgrade ocilab". */
export const ARCHIVE_FORMAT = 1;
/** A table of contents larger than this is not one ocilab wrote (it lists 100 bytes or so per blob). */
export const CONTENTS_MAX_BYTES = 16 << 20;

const BLOCK = 512;
/** Two zero blocks end a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
/** Fixed, so that the same cache exports to the same bytes (and Ansible's copy sees nothing changed). */
const ENTRY_TIME = new Date(0);

/** What a tarball holds: the blobs, in the order they follow, and the tags that name manifests among them. */
export interface Contents {
  blobs: CachedBlob[];
  tags: CachedTag[];
}

/** Says what to do about a tarball refused for what it holds. */
export const NOT_AS_EXPORTED =
  'It was changed or damaged after `ocilab cache export` wrote it, or not made by it: copy it again, or export it again on the machine that pulled the images.';

/** `blobs/sha256/<hex>`: where a blob goes in the tarball, as in the cache and in an OCI image layout. */
export function blobEntryName(digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

/** An entry of a tarball as its header gives it. */
export interface EntryHeader {
  path: string;
  type: string;
  linkpath?: string | undefined;
}

export type EntryKind = { kind: 'contents' } | { kind: 'blob'; digest: string } | { kind: 'refused'; reason: string };

const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);
const WHAT_TYPE: Record<string, string> = {
  SymbolicLink: 'a symbolic link',
  Link: 'a hard link',
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a FIFO',
  Directory: 'a directory',
};

/** Whether an entry is the table of contents, a blob, or something a cache tarball never holds (and why). */
export function entryKind({ path, type, linkpath }: EntryHeader): EntryKind {
  const refused = (reason: string): EntryKind => ({ kind: 'refused', reason });
  if (path.startsWith('/')) return refused('an absolute path');
  if (path.split('/').includes('..')) return refused("a path that climbs out with '..'");
  if (!REGULAR.has(type)) {
    const what = WHAT_TYPE[type] ?? `an entry of the type ${type}`;
    return refused(linkpath ? `${what} (to ${linkpath})` : what);
  }
  if (path === CONTENTS_NAME) return { kind: 'contents' };
  const blob = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(path);
  const digest = blob ? `${blob[1] ?? ''}:${blob[2] ?? ''}` : '';
  if (isDigest(digest)) return { kind: 'blob', digest };
  return refused(`not part of an ocilab cache tarball, which holds only ${CONTENTS_NAME} and blobs/<algorithm>/<hex>`);
}

/** The header block(s) of a regular file: a PAX header first when the name is too long for ustar (sha512 digests). */
export function entryHeader(path: string, size: number): Buffer {
  const header = new Header({ path, type: 'File', mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', size, mtime: ENTRY_TIME });
  const needPax = header.encode();
  const block = header.block as Buffer;
  return needPax ? Buffer.concat([new Pax({ path, size, mtime: ENTRY_TIME }).encode(), block]) : block;
}

/** The zeros that fill an entry of `size` bytes up to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

export function serializeContents({ blobs, tags }: Contents): Buffer {
  const json = {
    'ocilab-cache': ARCHIVE_FORMAT,
    blobs: blobs.map(({ digest, size }) => ({ digest, size })),
    tags: tags.map(({ ref, record }) => ({ image: formatReference(ref), ...record })),
  };
  return Buffer.from(`${JSON.stringify(json, null, 1)}\n`);
}

/**
 * Reads a table of contents, strictly: unknown fields, a blob listed twice, a reference that is not one,
 * a tag that does not name a manifest, are all refused, every problem named (`tags[0].digest ...`).
 */
export function parseContents(bytes: Uint8Array, file: string): Contents {
  const refuse = (problem: string) =>
    new CacheArchiveError(`ocilab refused ${file}: ${problem}. Nothing of it was imported.`, CONTENTS_NAME);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw refuse(`its ${CONTENTS_NAME} is not JSON. ${NOT_AS_EXPORTED}`);
  }
  if (!isRecord(json)) throw refuse(`its ${CONTENTS_NAME} is not a JSON object. ${NOT_AS_EXPORTED}`);
  const format = json['ocilab-cache'];
  if (typeof format === 'number' && Number.isInteger(format) && format > ARCHIVE_FORMAT) {
    throw refuse(
      `it is in the format ${format} of ocilab cache tarballs, and this ocilab reads the format ${ARCHIVE_FORMAT}: upgrade ocilab on this machine.`,
    );
  }
  const problems: string[] = [];
  if (format !== ARCHIVE_FORMAT) problems.push(`"ocilab-cache" is ${JSON.stringify(format)}, not ${ARCHIVE_FORMAT}`);
  problems.push(...unknownFields(json, ['ocilab-cache', 'blobs', 'tags'], ''));
  const blobs = listOf(json.blobs, 'blobs', problems).flatMap((value, i) => blobAt(value, `blobs[${i}]`, problems));
  const tags = listOf(json.tags, 'tags', problems).flatMap((value, i) => tagAt(value, `tags[${i}]`, problems));
  problems.push(
    ...duplicates(
      blobs.map((b) => b.digest),
      'blob',
    ),
    ...duplicates(
      tags.map((t) => formatReference(t.ref)),
      'tag',
    ),
  );
  if (problems.length > 0) throw refuse(`its ${CONTENTS_NAME} is not valid: ${problems.join('; ')}. ${NOT_AS_EXPORTED}`);
  return { blobs, tags };
}

function listOf(value: unknown, where: string, problems: string[]): unknown[] {
  if (Array.isArray(value)) return value;
  problems.push(`"${where}" is not a list`);
  return [];
}

function blobAt(value: unknown, where: string, problems: string[]): CachedBlob[] {
  if (!isRecord(value)) return fail(problems, `${where} is not an object`);
  const before = problems.length;
  problems.push(...unknownFields(value, ['digest', 'size'], where));
  const { digest, size } = value;
  if (typeof digest !== 'string' || !isDigest(digest)) problems.push(`${where}.digest is ${JSON.stringify(digest)}, not a digest`);
  if (!isSize(size)) problems.push(`${where}.size is ${JSON.stringify(size)}, not a size in bytes`);
  return problems.length === before ? [{ digest: digest as string, size: size as number }] : [];
}

function tagAt(value: unknown, where: string, problems: string[]): CachedTag[] {
  if (!isRecord(value)) return fail(problems, `${where} is not an object`);
  const before = problems.length;
  problems.push(...unknownFields(value, ['image', 'digest', 'mediaType', 'size', 'pulledAt'], where));
  const { image, digest, mediaType, size, pulledAt } = value;
  const ref = typeof image === 'string' ? tagReference(image, `${where}.image`, problems) : undefined;
  if (typeof image !== 'string') problems.push(`${where}.image is ${JSON.stringify(image)}, not an image reference`);
  if (typeof digest !== 'string' || !isDigest(digest)) problems.push(`${where}.digest is ${JSON.stringify(digest)}, not a digest`);
  if (typeof mediaType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(mediaType))
    problems.push(`${where}.mediaType is ${JSON.stringify(mediaType)}, not a media type`);
  if (!isSize(size) || size > MANIFEST_MAX_BYTES) problems.push(`${where}.size is ${JSON.stringify(size)}, not the size of a manifest`);
  if (typeof pulledAt !== 'string' || Number.isNaN(Date.parse(pulledAt)))
    problems.push(`${where}.pulledAt is ${JSON.stringify(pulledAt)}, not a date`);
  if (problems.length > before || !ref) return [];
  return [
    { ref, record: { digest: digest as string, mediaType: mediaType as string, size: size as number, pulledAt: pulledAt as string } },
  ];
}

/** `registry/repository:tag` in full, as export writes it: with a tag, without a digest, nothing left to normalise. */
function tagReference(image: string, where: string, problems: string[]): CachedTag['ref'] | undefined {
  try {
    const ref = parseReference(image);
    if (ref.tag !== undefined && ref.digest === undefined && formatReference(ref) === image) return ref;
    problems.push(`${where} is ${JSON.stringify(image)}, not a reference in full with a tag (e.g. docker.io/library/busybox:1.36)`);
  } catch (error) {
    if (!(error instanceof InvalidReferenceError)) throw error;
    problems.push(`${where}: ${error.message.replace(/\.$/, '')}`);
  }
  return undefined;
}

function unknownFields(value: Record<string, unknown>, known: readonly string[], where: string): string[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => `${where ? `${where}.` : ''}${key} is not a field of ${CONTENTS_NAME}`);
}

function duplicates(names: readonly string[], what: string): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const name of names) (seen.has(name) ? twice : seen).add(name);
  return [...twice].map((name) => `the ${what} ${name} is listed twice`);
}

function fail<T>(problems: string[], problem: string): T[] {
  problems.push(problem);
  return [];
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
