import { crc32, deflateSync, inflateSync } from 'node:zlib';

/**
 * PNG files by hand (ISO/IEC 15948): writing 8-bit RGB images, and reading the common
 * non-interlaced kinds back (greyscale, RGB, palette, with or without alpha; 8 or 16 bits).
 */

/** Pixels, three bytes (R, G, B) each, row after row. */
export interface Raster {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The largest side and pixel count read back: a decoded image is held whole in memory. */
export const MAX_DECODED_SIDE = 4_096;
export const MAX_DECODED_PIXELS = 4_096 * 4_096;

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0);
  return Buffer.concat([head, data, crc]);
}

/** An `iTXt` chunk: UTF-8 text under a Latin-1 keyword, uncompressed, no language tag. */
function textChunk(keyword: string, text: string): Buffer {
  // NUL separates the fields; the text itself may not hold one.
  const body = Buffer.from(text.replaceAll('\u0000', ''), 'utf8');
  return chunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), body]));
}

/** The five PNG row filters applied to one row (`bpp` bytes per pixel), into `out`. */
function filterRow(type: number, row: Uint8Array, prior: Uint8Array, bpp: number, out: Uint8Array): void {
  for (let i = 0; i < row.length; i++) {
    const x = row[i] as number;
    const a = i >= bpp ? (row[i - bpp] as number) : 0;
    const b = prior[i] as number;
    const c = i >= bpp ? (prior[i - bpp] as number) : 0;
    out[i] = (x - predict(type, a, b, c)) & 0xff;
  }
}

/** What PNG filter `type` predicts a byte to be from the bytes left (a), above (b) and above-left (c). */
function predict(type: number, a: number, b: number, c: number): number {
  if (type === 1) return a;
  if (type === 2) return b;
  if (type === 3) return (a + b) >> 1;
  if (type === 4) return paeth(a, b, c);
  return 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/**
 * An 8-bit RGB PNG of the raster, with `text` as iTXt chunks (Title, Description...). Each row
 * takes the filter whose output has the smallest sum of magnitudes, the usual heuristic.
 */
export function encodePng(raster: Raster, text: Readonly<Record<string, string>> = {}): Buffer {
  const { width, height, rgb } = raster;
  if (rgb.length !== width * height * 3) throw new Error('raster size does not match its pixels');
  const stride = width * 3;
  const filtered = Buffer.alloc((stride + 1) * height);
  const candidates = Array.from({ length: 5 }, () => new Uint8Array(stride));
  let prior: Uint8Array = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = rgb.subarray(y * stride, (y + 1) * stride);
    let best = 0;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let type = 0; type < 5; type++) {
      const out = candidates[type] as Uint8Array;
      filterRow(type, row, prior, 3, out);
      let cost = 0;
      for (const v of out) cost += v < 128 ? v : 256 - v;
      if (cost < bestCost) {
        bestCost = cost;
        best = type;
      }
    }
    filtered[y * (stride + 1)] = best;
    filtered.set(candidates[best] as Uint8Array, y * (stride + 1) + 1);
    prior = row;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  header[10] = 0; // deflate
  header[11] = 0; // adaptive filtering
  header[12] = 0; // no interlace
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    ...Object.entries(text).map(([keyword, value]) => textChunk(keyword, value)),
    chunk('IDAT', deflateSync(filtered, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** One chunk of a PNG file, its CRC checked. */
export interface PngChunk {
  type: string;
  data: Buffer;
}

/** The chunks of a PNG file in order; throws on a bad signature, a truncated chunk or a bad CRC. */
export function readPngChunks(file: Uint8Array): PngChunk[] {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG file');
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error('truncated PNG chunk');
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > bytes.length) throw new Error(`truncated PNG chunk ${type}`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    const stored = bytes.readUInt32BE(at + 8 + length);
    if (crc32(data, crc32(bytes.subarray(at + 4, at + 8))) !== stored) throw new Error(`bad CRC in ${type}`);
    chunks.push({ type, data });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  if (chunks[0]?.type !== 'IHDR') throw new Error('PNG does not start with IHDR');
  if (chunks.at(-1)?.type !== 'IEND') throw new Error('PNG does not end with IEND');
  return chunks;
}

/** Samples per pixel of each colour type. */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Reads a PNG into an RGB raster: colour types 0, 2, 4 and 6 at 8 or 16 bits, and 3 (palette)
 * at 8 bits, not interlaced. Alpha is dropped (the colour is kept as is); 16-bit samples keep
 * their high byte. Throws on anything else, or on an image above {@link MAX_DECODED_PIXELS}.
 */
export function decodePng(file: Uint8Array): Raster {
  const chunks = readPngChunks(file);
  const ihdr = (chunks[0] as PngChunk).data;
  if (ihdr.length !== 13) throw new Error('IHDR must be 13 bytes');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [depth = 0, colourType = 0, compression, filterMethod, interlace] = ihdr.subarray(8);
  const channels = CHANNELS[colourType];
  if (width < 1 || height < 1 || width > MAX_DECODED_SIDE || height > MAX_DECODED_SIDE)
    throw new Error(`PNG of ${width}×${height}: each side must be 1 to ${MAX_DECODED_SIDE} pixels`);
  if (width * height > MAX_DECODED_PIXELS) throw new Error(`PNG above ${MAX_DECODED_PIXELS} pixels`);
  if (channels === undefined) throw new Error(`PNG colour type ${colourType} is not supported`);
  if (!(depth === 8 || (depth === 16 && colourType !== 3)))
    throw new Error(`PNG bit depth ${depth} with colour type ${colourType} is not supported`);
  if (compression !== 0 || filterMethod !== 0) throw new Error('unknown PNG compression or filter method');
  if (interlace !== 0) throw new Error('interlaced PNG is not supported');

  const palette = chunks.find((c) => c.type === 'PLTE')?.data;
  if (colourType === 3 && (palette === undefined || palette.length % 3 !== 0))
    throw new Error('palette PNG without a valid PLTE chunk');
  const bpp = (channels * depth) / 8;
  const stride = width * bpp;
  const expected = (stride + 1) * height;
  const compressed = Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
  let raw: Buffer;
  try {
    raw = inflateSync(compressed, { maxOutputLength: expected });
  } catch (error) {
    throw new Error(`PNG image data does not inflate to ${expected} bytes: ${(error as Error).message}`);
  }
  if (raw.length !== expected) throw new Error(`PNG image data is ${raw.length} bytes, not ${expected}`);

  const rgb = new Uint8Array(width * height * 3);
  let prior = new Uint8Array(stride);
  const row = new Uint8Array(stride);
  const step = depth / 8;
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    if (type > 4) throw new Error(`unknown PNG filter ${type} on row ${y}`);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? (row[i - bpp] as number) : 0;
      const b = prior[i] as number;
      const c = i >= bpp ? (prior[i - bpp] as number) : 0;
      row[i] = ((line[i] as number) + predict(type, a, b, c)) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const at = x * bpp;
      const sample = (k: number) => row[at + k * step] as number;
      const out = (y * width + x) * 3;
      if (colourType === 3) {
        const index = sample(0) * 3;
        if (!palette || index + 2 >= palette.length) throw new Error('PNG palette index out of range');
        rgb[out] = palette[index] as number;
        rgb[out + 1] = palette[index + 1] as number;
        rgb[out + 2] = palette[index + 2] as number;
      } else if (channels >= 3) {
        rgb[out] = sample(0);
        rgb[out + 1] = sample(1);
        rgb[out + 2] = sample(2);
      } else {
        rgb.fill(sample(0), out, out + 3);
      }
    }
    prior = row.slice();
  }
  return { width, height, rgb };
}

/** The text of the iTXt and tEXt chunks by keyword (uncompressed ones only). */
export function pngText(file: Uint8Array): Record<string, string> {
  const text: Record<string, string> = {};
  for (const { type, data } of readPngChunks(file)) {
    const nul = data.indexOf(0);
    if (nul < 0) continue;
    const keyword = data.toString('latin1', 0, nul);
    if (type === 'tEXt') text[keyword] = data.toString('latin1', nul + 1);
    if (type === 'iTXt' && data[nul + 1] === 0) {
      const language = data.indexOf(0, nul + 3);
      const translated = language < 0 ? -1 : data.indexOf(0, language + 1);
      if (translated >= 0) text[keyword] = data.toString('utf8', translated + 1);
    }
  }
  return text;
}

/** The raster made smaller (nearest pixel, same shape) to fit `maxWidth × maxHeight`; as is if it does. */
export function shrinkRaster(raster: Raster, maxWidth: number, maxHeight: number): Raster {
  const scale = Math.min(1, maxWidth / raster.width, maxHeight / raster.height);
  if (scale >= 1) return raster;
  const width = Math.max(1, Math.round(raster.width * scale));
  const height = Math.max(1, Math.round(raster.height * scale));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = Math.min(raster.height - 1, Math.floor(((y + 0.5) * raster.height) / height));
    for (let x = 0; x < width; x++) {
      const column = Math.min(raster.width - 1, Math.floor(((x + 0.5) * raster.width) / width));
      const source = (from * raster.width + column) * 3;
      rgb.set(raster.rgb.subarray(source, source + 3), (y * width + x) * 3);
    }
  }
  return { width, height, rgb };
}
