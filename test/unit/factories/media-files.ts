/**
 * Readers of the files the media factory writes, written from the format specifications and
 * independent of the factory's own code: PNG (ISO/IEC 15948), RIFF/WAVE PCM, YUV4MPEG2.
 */
import { inflateSync } from 'node:zlib';

/** CRC-32 as PNG defines it (ISO 3309, polynomial 0xEDB88320), table-driven. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlace: number;
  chunkTypes: string[];
  /** iTXt / tEXt text by keyword. */
  text: Record<string, string>;
  /** The filter type of each row. */
  filters: number[];
}

/**
 * Checks a PNG the way a strict decoder would: the signature, every chunk's CRC, IHDR first and
 * IEND last, and the image data inflating to exactly the rows IHDR announces, each starting with
 * a known filter type. Throws on the first problem.
 */
export function checkPng(file: Buffer): PngInfo {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!file.subarray(0, 8).equals(signature)) throw new Error('bad PNG signature');
  const chunks: Array<{ type: string; data: Buffer }> = [];
  let at = 8;
  while (at < file.length) {
    const length = file.readUInt32BE(at);
    const typeAndData = file.subarray(at + 4, at + 8 + length);
    const type = typeAndData.toString('latin1', 0, 4);
    if (crc32(typeAndData) !== file.readUInt32BE(at + 8 + length)) throw new Error(`bad CRC in ${type}`);
    chunks.push({ type, data: typeAndData.subarray(4) });
    at += 12 + length;
  }
  if (at !== file.length) throw new Error('PNG ends inside a chunk');
  const types = chunks.map((c) => c.type);
  if (types[0] !== 'IHDR' || types.at(-1) !== 'IEND') throw new Error(`bad chunk order: ${types.join(',')}`);
  const ihdr = (chunks[0] as { data: Buffer }).data;
  const info = {
    width: ihdr.readUInt32BE(0),
    height: ihdr.readUInt32BE(4),
    bitDepth: ihdr[8] as number,
    colourType: ihdr[9] as number,
    interlace: ihdr[12] as number,
  };
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[info.colourType];
  if (channels === undefined) throw new Error(`bad colour type ${info.colourType}`);
  const stride = Math.ceil((info.width * channels * info.bitDepth) / 8);
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  if (raw.length !== (stride + 1) * info.height)
    throw new Error(`image data is ${raw.length} bytes, not ${(stride + 1) * info.height}`);
  const filters = Array.from({ length: info.height }, (_, y) => raw[y * (stride + 1)] as number);
  if (filters.some((f) => f > 4)) throw new Error('unknown filter type');
  const text: Record<string, string> = {};
  for (const { type, data } of chunks) {
    if (type !== 'iTXt' && type !== 'tEXt') continue;
    const nul = data.indexOf(0);
    const keyword = data.toString('latin1', 0, nul);
    // iTXt: keyword, compression flag and method, language, translated keyword, UTF-8 text.
    if (type === 'tEXt') text[keyword] = data.toString('latin1', nul + 1);
    else {
      const language = data.indexOf(0, nul + 3);
      const translated = data.indexOf(0, language + 1);
      text[keyword] = data.toString('utf8', translated + 1);
    }
  }
  return { ...info, chunkTypes: types, text, filters };
}

/** The fields of a canonical 44-byte PCM WAV header. */
export function readWavHeader(wav: Buffer) {
  return {
    riff: wav.toString('ascii', 0, 4),
    riffSize: wav.readUInt32LE(4),
    wave: wav.toString('ascii', 8, 12),
    fmt: wav.toString('ascii', 12, 16),
    fmtSize: wav.readUInt32LE(16),
    audioFormat: wav.readUInt16LE(20),
    channels: wav.readUInt16LE(22),
    sampleRate: wav.readUInt32LE(24),
    byteRate: wav.readUInt32LE(28),
    blockAlign: wav.readUInt16LE(32),
    bitsPerSample: wav.readUInt16LE(34),
    data: wav.toString('ascii', 36, 40),
    dataSize: wav.readUInt32LE(40),
  };
}

export interface Y4m {
  width: number;
  height: number;
  /** Frame rate as numerator and denominator. */
  rate: [number, number];
  interlacing: string;
  chroma: string;
  frames: number;
  /** The Y, Cb and Cr planes of frame `i`. */
  frame(i: number): { y: Buffer; cb: Buffer; cr: Buffer };
}

/**
 * Parses a YUV4MPEG2 stream: the `YUV4MPEG2` header line with its tagged parameters, then frames
 * of `FRAME` lines and 4:2:0 planes until the end, with nothing left over.
 */
export function parseY4m(file: Buffer): Y4m {
  const end = file.indexOf(0x0a);
  const [magic, ...tags] = file.toString('ascii', 0, end).split(' ');
  if (magic !== 'YUV4MPEG2') throw new Error(`not YUV4MPEG2: ${magic}`);
  const tag = (letter: string) => tags.find((t) => t.startsWith(letter))?.slice(1);
  const width = Number(tag('W'));
  const height = Number(tag('H'));
  const rate = (tag('F') ?? '').split(':').map(Number) as [number, number];
  const chroma = tag('C') ?? '420jpeg';
  if (!chroma.startsWith('420')) throw new Error(`unexpected chroma ${chroma}`);
  const planes = width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
  const offsets: number[] = [];
  let at = end + 1;
  while (at < file.length) {
    const line = file.indexOf(0x0a, at);
    if (line < 0 || !file.toString('ascii', at, line).startsWith('FRAME'))
      throw new Error(`no FRAME header at byte ${at}`);
    offsets.push(line + 1);
    at = line + 1 + planes;
  }
  if (at !== file.length) throw new Error('the last frame is cut short');
  return {
    width,
    height,
    rate,
    interlacing: tag('I') ?? '?',
    chroma,
    frames: offsets.length,
    frame(i) {
      const start = offsets[i] as number;
      const luma = width * height;
      const c = Math.ceil(width / 2) * Math.ceil(height / 2);
      return {
        y: file.subarray(start, start + luma),
        cb: file.subarray(start + luma, start + luma + c),
        cr: file.subarray(start + luma + c, start + luma + 2 * c),
      };
    },
  };
}
