/** Compresses a request body: gzip bytes of `bytes`. The seam lets an app plug in its own (or none). */
export type Compressor = (bytes: Uint8Array) => Promise<Uint8Array>;

/**
 * gzip with the platform's CompressionStream (browsers, Node ≥ 18, React Native with a polyfill), else
 * node:zlib (loaded only then, so browser bundles never need it).
 */
export const gzip: Compressor = async (bytes) => {
  if (typeof CompressionStream !== 'undefined') {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  const zlib = await import('node:zlib');
  return new Uint8Array(zlib.gzipSync(bytes));
};
