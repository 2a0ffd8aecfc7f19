// Types for the two codec packages that ship none (CommonJS modules; only what codecs.ts uses).

declare module 'snappyjs' {
  const snappy: {
    /** One raw Snappy block. */
    compress(input: Uint8Array): Uint8Array;
    uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
  };
  export = snappy;
}

declare module 'lz4js' {
  const lz4: {
    /** An LZ4 frame. */
    compress(input: Uint8Array, maxSize?: number): Uint8Array;
    /** Every block of an LZ4 frame; sized from the frame's content size, else its blocks. */
    decompress(input: Uint8Array, maxSize?: number): Uint8Array;
    compressBound(n: number): number;
    /** One raw LZ4 block of src[sIndex, sIndex + sLength) into dst from 0; its size, 0 when it did not compress. */
    compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  };
  export = lz4;
}

declare module 'lz4js/xxh32.js' {
  const xxh32: { hash(seed: number, src: Uint8Array, index: number, len: number): number };
  export = xxh32;
}
