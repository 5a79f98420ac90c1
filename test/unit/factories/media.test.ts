import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../lib/core/random.ts';
import { EXAMPLE_NOTICE, prepareCall } from '../../../lib/local/factories/contract.ts';
import {
  encodeWav,
  escapeXml,
  MAX_AUDIO_BYTES,
  MAX_IMAGE_PIXELS,
  MAX_IMAGES_INPUT_BYTES,
  MAX_INLINE_VIDEO_BYTES,
  MAX_VIDEO_BYTES,
  mediaFactory,
  planTimeline,
  renderImageSvg,
  synthesizeTones,
  wrapText,
} from '../../../lib/local/factories/media.ts';
import { decodePng, encodePng, pngText } from '../../../lib/local/factories/png.ts';
import { checkPng, crc32, parseY4m, readWavHeader } from './media-files.ts';
import { actionsOf, uploadOffer } from './support.ts';

const { run, rejection } = actionsOf(mediaFactory);

/**
 * XML 1.0 (Fifth Edition) section 2.2, production [2]:
 * `Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`.
 * With the `u` flag a lone surrogate is one code point, outside every range.
 */
const XML_TEXT = /^[\t\n\r\u{20}-\u{D7FF}\u{E000}-\u{FFFD}\u{10000}-\u{10FFFF}]*$/u;

/** The five predefined entities and numeric character references, decoded. */
function decodeXml(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(?:#x([0-9a-fA-F]+)|#(\d+)|(\w+));/g, (reference, hex, decimal, name) => {
    if (hex ?? decimal) return String.fromCodePoint(Number.parseInt(hex ?? decimal, hex ? 16 : 10));
    const ch = named[name];
    if (ch === undefined) throw new Error(`unknown entity ${reference}`);
    return ch;
  });
}

/**
 * A strict well-formedness check for the XML this factory writes (no DTD, no CDATA): one root,
 * tags nested and closed, attributes quoted, text free of bare `<` and unknown entities, and only
 * the characters XML 1.0 allows. Returns the root's name and attributes.
 */
function parseXmlRoot(xml: string): { name: string; attributes: Record<string, string> } {
  if (!XML_TEXT.test(xml)) {
    const bad = Array.from(xml).find((ch) => !XML_TEXT.test(ch)) ?? '';
    throw new Error(`character U+${bad.codePointAt(0)?.toString(16)} is not allowed in XML`);
  }
  const entity = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"<]*")*)\s*(\/?)>/y;
  const stack: string[] = [];
  let root: { name: string; attributes: Record<string, string> } | undefined;
  let at = 0;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const text = xml.slice(at, lt === -1 ? xml.length : lt);
    if (entity.test(text)) throw new Error(`bare & in text: ${text.slice(0, 60)}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error('text outside the root element');
    if (lt === -1) break;
    tag.lastIndex = lt;
    const match = tag.exec(xml);
    if (!match) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [, closing, name = '', attributeText = '', selfClosing] = match;
    const attributes: Record<string, string> = {};
    for (const [, key = '', value = ''] of attributeText.matchAll(/([A-Za-z_][\w.:-]*)="([^"]*)"/g)) {
      if (key in attributes) throw new Error(`attribute ${key} repeated on <${name}>`);
      if (entity.test(value)) throw new Error(`bare & in attribute ${key}`);
      attributes[key] = value;
    }
    if (closing) {
      if (attributeText || selfClosing) throw new Error(`closing tag </${name}> with extras`);
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      if (stack.length === 0) {
        if (root) throw new Error('more than one root element');
        root = { name, attributes };
      }
      if (!selfClosing) stack.push(name);
    }
    at = tag.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Strings rich in what XML escaping must handle: markup, entities, forbidden characters. */
const nasty = fc.oneof(
  fc.constantFrom(
    '<',
    '>',
    '&',
    '"',
    "'",
    '&amp;',
    ']]>',
    '\u0000',
    '\u0008',
    '\uD800',
    '\uDFFF',
    '\uFFFE',
    '\uFFFF',
    '\u{1F600}',
    '\n',
    ' ',
  ),
  fc.string({ unit: 'binary', maxLength: 3 }),
);

describe('escapeXml', () => {
  it('escapes the five markup characters and drops what XML cannot hold', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    expect(escapeXml('\u0000x\u0008\uD800y\uFFFE\u{1F600}\t')).toBe('xy\u{1F600}\t');
  });

  it('leaves no markup character bare, and decodes back to its input less the characters XML forbids', () => {
    fc.assert(
      fc.property(fc.string({ unit: nasty, maxLength: 40 }), (value) => {
        const escaped = escapeXml(value);
        expect(escaped).not.toMatch(/[<>"']/);
        expect(escaped).not.toMatch(/&(?!(?:amp|lt|gt|quot|apos);)/);
        expect(escaped).toMatch(XML_TEXT);
        const allowed = Array.from(value)
          .filter((ch) => XML_TEXT.test(ch))
          .join('');
        expect(decodeXml(escaped)).toBe(allowed);
      }),
      { numRuns: 300 },
    );
  });
});

describe('generate_image', () => {
  it('draws a well-formed SVG with an <svg> root, the stated size and the prompt as caption', async () => {
    const output = await run('generate_image', { prompt: 'Product mockup', style: 'realistic' });
    const svg = output.svg as string;
    const root = parseXmlRoot(svg);
    expect(root.name).toBe('svg');
    expect(root.attributes).toMatchObject({
      xmlns: 'http://www.w3.org/2000/svg',
      width: '512',
      height: '512',
      'aria-label': 'Product mockup',
    });
    expect(svg).toContain('>Product mockup</text>');
    expect(output).toMatchObject({
      example: true,
      notice: EXAMPLE_NOTICE,
      format: 'svg',
      mimeType: 'image/svg+xml',
      width: 512,
      height: 512,
      bytes: Buffer.byteLength(svg),
    });
    expect(output.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same image for the same prompt and style, and another for another prompt or style', async () => {
    const a = await run('generate_image', { prompt: 'Sunset landscape', style: 'vivid' });
    const b = await run('generate_image', { prompt: 'Sunset landscape', style: 'vivid' });
    const otherPrompt = await run('generate_image', { prompt: 'Sunrise landscape', style: 'vivid' });
    const otherStyle = await run('generate_image', { prompt: 'Sunset landscape', style: 'pastel' });
    expect(a.sha256).toBe(b.sha256);
    expect(new Set([a.sha256, otherPrompt.sha256, otherStyle.sha256]).size).toBe(3);
  });

  it('escapes markup in the prompt and stays well-formed for any prompt', () => {
    fc.assert(
      fc.property(fc.string({ unit: nasty, minLength: 1, maxLength: 80 }), fc.string(), (prompt, style) => {
        const svg = renderImageSvg({ prompt, style: style || 'modern', width: 256, height: 128 });
        return parseXmlRoot(svg).name === 'svg';
      }),
      { numRuns: 60 },
    );
    const svg = renderImageSvg({ prompt: 'Fish & <chips>', style: 'noir', width: 512, height: 512 });
    expect(svg).toContain('>Fish &amp; &lt;chips&gt;</text>');
  });

  it('is checked by a checker that does refuse malformed XML', () => {
    expect(() => parseXmlRoot('<svg><g></svg>')).toThrow(/closes/);
    expect(() => parseXmlRoot('<svg>a & b</svg>')).toThrow(/bare &/);
    expect(() => parseXmlRoot('<svg a=1></svg>')).toThrow(/malformed/);
    expect(() => parseXmlRoot('<svg/><svg/>')).toThrow(/more than one root/);
    expect(() => parseXmlRoot('<svg>\u0001</svg>')).toThrow(/not allowed/);
    expect(() => parseXmlRoot('<svg>\uD800</svg>')).toThrow(/not allowed/);
    expect(() => parseXmlRoot('<svg>\uFFFE</svg>')).toThrow(/not allowed/);
    expect(parseXmlRoot('<svg>\u{1F600}\t&#x1F600;&amp;</svg>').name).toBe('svg');
    expect(() => decodeXml('&nbsp;')).toThrow(/unknown entity/);
  });

  it('wraps a long caption into at most three lines, ending in an ellipsis', () => {
    const lines = wrapText('word '.repeat(60), 20, 3);
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => Array.from(line).length <= 20)).toBe(true);
    expect(lines[2]?.endsWith('…')).toBe(true);
    expect(wrapText('x'.repeat(45), 20, 3)).toEqual(['x'.repeat(20), 'x'.repeat(20), 'x'.repeat(5)]);
  });

  it('rejects a missing prompt and an impossible size, naming the field', () => {
    expect(rejection('generate_image', { style: 'modern' })?.field).toBe('parameters.prompt');
    expect(rejection('generate_image', { prompt: '   ' })?.field).toBe('parameters.prompt');
    expect(rejection('generate_image', { prompt: 'x', width: 10 })?.field).toBe('parameters.width');
  });
});

/** A PNG's bytes from an image of generate_images' output. */
const pngOf = (image: Record<string, unknown>) => Buffer.from(image.data as string, 'base64');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('generate_images', () => {
  it('draws one valid 512×512 PNG per prompt, described by its own bytes and hash, the brief in its description', async () => {
    const output = await run('generate_images', {
      prompts: ['Product hero', 'Product detail'],
      brief: 'Market insight: growing fast',
    });
    const images = output.images as Array<Record<string, unknown>>;
    expect(output.count).toBe(2);
    expect(images.map((i) => i.prompt)).toEqual(['Product hero', 'Product detail']);
    for (const image of images) {
      const png = pngOf(image);
      expect(image).toMatchObject({
        format: 'png',
        mimeType: 'image/png',
        encoding: 'base64',
        width: 512,
        height: 512,
        bytes: png.length,
        sha256: sha256(png),
      });
      const info = checkPng(png);
      expect(info).toMatchObject({ width: 512, height: 512, bitDepth: 8, colourType: 2, interlace: 0 });
      expect(info.chunkTypes).toContain('IDAT');
      expect(info.text.Title).toBe(image.prompt);
      expect(info.text.Description).toContain(EXAMPLE_NOTICE);
      expect(info.text.Description).toContain('Brief: Market insight: growing fast');
    }
    expect(images[0]?.sha256).not.toBe(images[1]?.sha256);
    // Too large to be kept inline by the orchestrator (it becomes a JSON artifact), small enough to answer.
    const json = Buffer.byteLength(JSON.stringify(output));
    expect(json).toBeGreaterThan(96 * 1024);
    expect(json).toBeLessThan(256 * 1024);
  });

  it('is the same image for the same input, and decodes back to pixels of the stated size', async () => {
    const input = { prompts: ['Sunset landscape'], style: 'vivid', width: 96, height: 64 };
    const [a, b] = await Promise.all([run('generate_images', input), run('generate_images', input)]);
    const first = (a.images as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    expect(first.sha256).toBe((b.images as Array<Record<string, unknown>>)[0]?.sha256);
    const raster = decodePng(pngOf(first));
    expect([raster.width, raster.height, raster.rgb.length]).toEqual([96, 64, 96 * 64 * 3]);
    // Not one flat colour: the shapes and gradient are there.
    expect(new Set(raster.rgb).size).toBeGreaterThan(20);
  });

  it('rejects an empty list, an empty prompt and too many pixels, naming the field', () => {
    expect(rejection('generate_images', { prompts: [] })?.field).toBe('parameters.prompts');
    expect(rejection('generate_images', { prompts: ['ok', ''] })?.field).toBe('parameters.prompts.1');
    const large = rejection('generate_images', { prompts: Array(8).fill('x'), width: 2_048, height: 2_048 });
    expect(large?.field).toBe('parameters.width');
    expect(large?.message).toContain(`above the ${MAX_IMAGE_PIXELS}`);
    expect(rejection('generate_images', { prompts: Array(8).fill('x'), width: 1_024, height: 1_024 })).toBe(
      undefined,
    );
  });
});

/** The PNG filters as the specification defines them, to build test files row by row. */
function filterRow(type: number, row: Uint8Array, prior: Uint8Array, bpp: number): Uint8Array {
  return row.map((x, i) => {
    const a = i >= bpp ? (row[i - bpp] as number) : 0;
    const b = prior[i] as number;
    const c = i >= bpp ? (prior[i - bpp] as number) : 0;
    const p = a + b - c;
    const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
    const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    return (x - ([0, a, b, (a + b) >> 1, paeth][type] as number)) & 0xff;
  });
}

/** A PNG built by hand: the given samples, row `y` filtered with type `y % 5`. */
function handMadePng(
  width: number,
  height: number,
  colourType: number,
  depth: number,
  samples: Uint8Array,
  extra: Array<[string, Buffer]> = [],
) {
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType] as number;
  const bpp = (channels * depth) / 8;
  const stride = width * bpp;
  const rows: Buffer[] = [];
  let prior: Uint8Array = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = samples.subarray(y * stride, (y + 1) * stride);
    rows.push(Buffer.from([y % 5]), Buffer.from(filterRow(y % 5, row, prior, bpp)));
    prior = row;
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colourType, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra.map(([type, data]) => chunk(type, data)),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('PNG files', () => {
  it('round-trips any RGB raster, and every file passes an independent check', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (width, height, seed) => {
          const random = mulberry32(seed);
          // Mostly smooth with some noise, so that every filter gets chosen somewhere.
          const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) =>
            random() < 0.3 ? Math.floor(random() * 256) : (i * 7) % 256,
          );
          const png = encodePng({ width, height, rgb }, { Title: 'tëst ✓' });
          const info = checkPng(png);
          expect([info.width, info.height, info.colourType, info.bitDepth]).toEqual([width, height, 2, 8]);
          expect(info.text.Title).toBe('tëst ✓');
          expect(pngText(png).Title).toBe('tëst ✓');
          expect(decodePng(png)).toEqual({ width, height, rgb });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads every filter type, greyscale, palette, alpha and 16-bit samples', () => {
    const width = 7;
    const height = 10;
    const random = mulberry32(42);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
    const pixels = width * height;
    const rgb = bytes(pixels * 3);
    const expectRgb = (png: Buffer, expected: Uint8Array) =>
      expect(decodePng(png)).toEqual({ width, height, rgb: expected });

    expectRgb(handMadePng(width, height, 2, 8, rgb), rgb);
    const grey = bytes(pixels);
    const greyRgb = Uint8Array.from({ length: pixels * 3 }, (_, i) => grey[Math.floor(i / 3)] as number);
    expectRgb(handMadePng(width, height, 0, 8, grey), greyRgb);
    const greyAlpha = Uint8Array.from({ length: pixels * 2 }, (_, i) =>
      i % 2 ? 99 : (grey[i / 2] as number),
    );
    expectRgb(handMadePng(width, height, 4, 8, greyAlpha), greyRgb);
    const rgba = Uint8Array.from({ length: pixels * 4 }, (_, i) =>
      i % 4 === 3 ? 7 : (rgb[i - Math.floor(i / 4)] as number),
    );
    expectRgb(handMadePng(width, height, 6, 8, rgba), rgb);
    const wide = Uint8Array.from({ length: pixels * 6 }, (_, i) => (i % 2 ? 0xab : (rgb[i / 2] as number)));
    expectRgb(handMadePng(width, height, 2, 16, wide), rgb);
    const palette = bytes(16 * 3);
    const indices = Uint8Array.from({ length: pixels }, () => Math.floor(random() * 16));
    const paletted = Uint8Array.from(
      { length: pixels * 3 },
      (_, i) => palette[(indices[Math.floor(i / 3)] as number) * 3 + (i % 3)] as number,
    );
    expectRgb(handMadePng(width, height, 3, 8, indices, [['PLTE', Buffer.from(palette)]]), paletted);
  });

  it('refuses a damaged, truncated, interlaced or oversized file', () => {
    const png = encodePng({ width: 4, height: 4, rgb: new Uint8Array(48).fill(200) });
    const damaged = Buffer.from(png);
    const idat = damaged.indexOf('IDAT');
    damaged[idat + 6] = (damaged[idat + 6] as number) ^ 0xff;
    expect(() => checkPng(damaged)).toThrow(/bad CRC in IDAT/);
    expect(() => decodePng(damaged)).toThrow(/bad CRC in IDAT/);
    expect(() => decodePng(png.subarray(0, png.length - 20))).toThrow(/truncated|IEND/);
    expect(() => decodePng(Buffer.from('GIF89a'))).toThrow(/not a PNG/);
    const interlaced = handMadePng(2, 2, 2, 8, new Uint8Array(12));
    interlaced[8 + 8 + 12] = 1;
    interlaced.writeUInt32BE(crc32(interlaced.subarray(12, 12 + 17)), 8 + 8 + 13);
    expect(() => decodePng(interlaced)).toThrow(/interlaced/);
    const huge = handMadePng(1, 1, 2, 8, new Uint8Array(3));
    huge.writeUInt32BE(100_000, 16);
    huge.writeUInt32BE(crc32(huge.subarray(12, 12 + 17)), 8 + 8 + 13);
    expect(() => decodePng(huge)).toThrow(/each side/);
  });
});

describe('generate_video', () => {
  it('makes a real YUV4MPEG2 video, inline when it is this small, with a frame per 1/fps second', async () => {
    const output = await run('generate_video', {
      prompt: 'Product showcase',
      duration: 2,
      fps: 3,
      width: 32,
      height: 18,
    });
    const file = Buffer.from(output.video as string, 'base64');
    expect(output).toMatchObject({
      example: true,
      format: 'y4m',
      mimeType: 'video/x-yuv4mpeg',
      encoding: 'base64',
      durationSeconds: 2,
      fps: 3,
      totalFrames: 6,
      width: 32,
      height: 18,
      bytes: file.length,
      sha256: sha256(file),
    });
    const video = parseY4m(file);
    expect(video).toMatchObject({
      width: 32,
      height: 18,
      rate: [3, 1],
      interlacing: 'p',
      chroma: '420jpeg',
      frames: 6,
    });
    expect(file.length).toBeLessThanOrEqual(MAX_INLINE_VIDEO_BYTES);
    // Luma stays in the studio range BT.601 players expect.
    for (let i = 0; i < video.frames; i++) expect(Math.min(...video.frame(i).y)).toBeGreaterThanOrEqual(16);
    const again = await run('generate_video', {
      prompt: 'Product showcase',
      duration: 2,
      fps: 3,
      width: 32,
      height: 18,
    });
    expect(again.sha256).toBe(output.sha256);
  });

  it('films the images it is given: a still of one colour gives frames of that colour', async () => {
    const red = encodePng({
      width: 40,
      height: 30,
      rgb: Uint8Array.from({ length: 40 * 30 * 3 }, (_, i) => (i % 3 === 0 ? 255 : 0)),
    });
    const images = [{ prompt: 'Red', sha256: sha256(red), data: red.toString('base64') }];
    const output = await run('generate_video', {
      prompt: 'x',
      duration: 2,
      fps: 4,
      width: 16,
      height: 16,
      scenes: 1,
      images,
    });
    const video = parseY4m(Buffer.from(output.video as string, 'base64'));
    // Red in BT.601 studio range: Y' 81, Cb 90, Cr 240.
    const first = video.frame(0);
    expect(new Set(first.y)).toEqual(new Set([81]));
    expect(new Set(first.cb)).toEqual(new Set([90]));
    expect(new Set(first.cr)).toEqual(new Set([240]));
    // The last scene fades to black.
    const last = video.frame(video.frames - 1);
    expect(Math.max(...last.y)).toBeLessThan(81);
    expect((output.timeline as { scenes: Array<{ sourceImage?: unknown }> }).scenes[0]?.sourceImage).toEqual({
      index: 0,
      sha256: sha256(red),
    });
    // Drawn from the prompt instead when the images hold no picture.
    const drawn = await run('generate_video', {
      prompt: 'x',
      duration: 2,
      fps: 4,
      width: 16,
      height: 16,
      scenes: 1,
      images: ['Red'],
    });
    expect(drawn.sha256).not.toBe(output.sha256);
  });

  it('takes the images as a list, or as the output of generate_images that holds them', async () => {
    const images = await run('generate_images', {
      prompts: ['Product hero', 'Product detail'],
      width: 64,
      height: 64,
    });
    const spec = { prompt: 'Product showcase', duration: 1, fps: 4, width: 16, height: 16, scenes: 2 };
    const fromOutput = await run('generate_video', { ...spec, images });
    const fromList = await run('generate_video', { ...spec, images: images.images });
    expect(fromOutput.sha256).toBe(fromList.sha256);
    expect(
      (fromOutput.timeline as { scenes: Array<{ caption: string }> }).scenes.map((s) => s.caption),
    ).toEqual(['1/2 Establishing shot: Product hero', '2/2 Closing shot: Product detail']);
  });

  it('refuses images whose data does not match their sha256, or is not a PNG, with a 422', async () => {
    const refused = async (images: unknown) => {
      const prepared = prepareCall(mediaFactory, {
        action: 'generate_video',
        parameters: { prompt: 'x', duration: 1, fps: 2, width: 16, height: 16, images },
        taskId: 'task-1',
      });
      if (!prepared.ok) throw new Error(prepared.error.message);
      return prepared.call.run();
    };
    const png = encodePng({ width: 2, height: 2, rgb: new Uint8Array(12) });
    expect(await refused([{ sha256: 'a'.repeat(64), data: png.toString('base64') }])).toEqual({
      httpStatus: 422,
      outcome: {
        status: 'failed',
        error: 'generate_video failed: images.0: its data does not match its sha256',
      },
    });
    const notPng = await refused([{ data: Buffer.from('hello').toString('base64') }]);
    expect(notPng).toMatchObject({
      httpStatus: 422,
      outcome: { error: expect.stringContaining('images.0: not a PNG') },
    });
  });

  it('plans scenes that cover every frame exactly once', () => {
    const timeline = planTimeline({
      prompt: 'Product showcase',
      style: 'modern',
      durationSeconds: 30,
      fps: 24,
    });
    expect(timeline).toMatchObject({ durationSeconds: 30, fps: 24, totalFrames: 720 });
    expect(timeline.scenes).toHaveLength(6);
    let next = 0;
    for (const scene of timeline.scenes) {
      expect(scene.startFrame).toBe(next);
      next += scene.frameCount;
    }
    expect(next).toBe(720);
    expect(timeline.scenes.at(-1)).toMatchObject({ endSeconds: 30, transition: 'fade-out' });
  });

  it('builds scenes on earlier images when given', () => {
    const timeline = planTimeline({
      prompt: 'Product showcase',
      style: 'modern',
      durationSeconds: 12,
      fps: 30,
      scenes: 3,
      images: [{ prompt: 'Product hero', sha256: 'a'.repeat(64) }, 'Product detail'],
    });
    expect(timeline.scenes.map((s) => s.caption)).toEqual([
      '1/3 Establishing shot: Product hero',
      expect.stringMatching(/^2\/3 .+: Product detail$/),
      '3/3 Closing shot: Product hero',
    ]);
    expect(timeline.scenes[0]?.sourceImage).toEqual({ index: 0, sha256: 'a'.repeat(64) });
  });

  it('refuses, before making anything, a video too large to answer without an upload offer', () => {
    const error = rejection('generate_video', { prompt: 'Product showcase', duration: 30 });
    expect(error?.field).toBe('upload');
    expect(error?.message).toMatch(
      /^is needed: the video \(720 frames of 160×90\) is \d+ bytes, above the 131072 bytes answered inline; call with an upload offer/,
    );
    const small = { ...uploadOffer, maxBytes: 1_000_000 };
    expect(rejection('generate_video', { prompt: 'x', duration: 30 }, { upload: small })?.field).toBe(
      'upload.maxBytes',
    );
    expect(
      rejection('generate_video', { prompt: 'x', duration: 30 }, { upload: uploadOffer }),
    ).toBeUndefined();
    const huge = rejection(
      'generate_video',
      { prompt: 'x', duration: 600, fps: 120, width: 1_920, height: 1_080 },
      { upload: uploadOffer },
    );
    expect(huge?.field).toBe('parameters.duration');
    expect(huge?.message).toContain(`above the ${MAX_VIDEO_BYTES} bytes`);
  });

  it('rejects wrong parameters and an images artifact it will not read, naming the field', () => {
    const reference = {
      id: uploadOffer.artifact.id,
      uri: uploadOffer.artifact.uri,
      bytes: 1_000,
      sha256: 'a'.repeat(64),
      mimeType: 'application/json',
      url: 'http://127.0.0.1:9/artifact',
    };
    const field = (parameters: Record<string, unknown>) =>
      rejection('generate_video', { prompt: 'x', duration: 1, fps: 1, ...parameters })?.field;
    expect(field({ duration: 0 })).toBe('parameters.duration');
    expect(field({ images: 'not a list' })).toBe('parameters.images');
    expect(field({ width: 33 })).toBe('parameters.width');
    expect(field({ images: { artifact: { ...reference, bytes: MAX_IMAGES_INPUT_BYTES + 1 } } })).toBe(
      'parameters.images.artifact.bytes',
    );
    expect(field({ images: { artifact: { ...reference, mimeType: 'text/plain' } } })).toBe(
      'parameters.images.artifact.mimeType',
    );
    expect(field({ images: { artifact: reference } })).toBeUndefined();
  });
});

describe('text_to_speech', () => {
  it('returns a RIFF/WAVE file whose header states the sample rate and whose length is the duration', async () => {
    const textToSay = 'Welcome to VoBee';
    const output = await run('text_to_speech', { text: textToSay, sampleRate: 16_000 });
    const wav = Buffer.from(output.audio as string, 'base64');
    const header = readWavHeader(wav);
    expect(header).toEqual({
      riff: 'RIFF',
      riffSize: wav.length - 8,
      wave: 'WAVE',
      fmt: 'fmt ',
      fmtSize: 16,
      audioFormat: 1,
      channels: 1,
      sampleRate: 16_000,
      byteRate: 16_000,
      blockAlign: 1,
      bitsPerSample: 8,
      data: 'data',
      dataSize: wav.length - 44,
    });
    // 50 ms per character at speed 1.
    expect(output.durationSeconds).toBe(textToSay.length * 0.05);
    expect(header.dataSize / header.sampleRate).toBeCloseTo(output.durationSeconds as number, 3);
    expect(output).toMatchObject({
      example: true,
      format: 'wav',
      encoding: 'base64',
      sampleRate: 16_000,
      bitsPerSample: 8,
      bytes: wav.length,
      sha256: sha256(wav),
    });
  });

  it('lasts in proportion to the text, sounds for letters, and is silent for spaces', () => {
    const options = { sampleRate: 8_000, voice: 'neutral', speed: 1 } as const;
    const short = synthesizeTones('ab', options);
    const long = synthesizeTones('abcd', options);
    expect(long.length).toBe(short.length * 2);
    const spaced = synthesizeTones('a b', options);
    const slot = spaced.length / 3;
    expect(spaced.slice(slot, 2 * slot).every((s) => s === 128)).toBe(true);
    expect(spaced.slice(0, slot).some((s) => s !== 128)).toBe(true);
    expect(Buffer.from(synthesizeTones('same', options))).toEqual(
      Buffer.from(synthesizeTones('same', options)),
    );
    expect(encodeWav(new Uint8Array(10), 8_000).readUInt32LE(40)).toBe(10);
  });

  it('lasts exactly the duration asked, 48 kHz 16-bit by default, saying the text again after a pause', async () => {
    const output = await run('text_to_speech', { text: 'ab', duration: 1 });
    const wav = Buffer.from(output.audio as string, 'base64');
    expect(readWavHeader(wav)).toMatchObject({
      riffSize: wav.length - 8,
      sampleRate: 48_000,
      byteRate: 96_000,
      blockAlign: 2,
      bitsPerSample: 16,
      dataSize: 96_000,
    });
    expect(output).toMatchObject({
      durationSeconds: 1,
      sampleRate: 48_000,
      bitsPerSample: 16,
      bytes: 96_044,
    });
    // 2 400 samples per character at 48 kHz; 'a', 'b', six silent slots, then 'a' again.
    const samples = wav.subarray(44);
    const slot = (n: number) => samples.subarray(n * 4_800, (n + 1) * 4_800);
    expect(slot(0).some((b) => b !== 0)).toBe(true);
    expect(slot(0)).not.toEqual(slot(1));
    for (let n = 2; n < 8; n++) expect(slot(n).every((b) => b === 0)).toBe(true);
    expect(slot(8)).toEqual(slot(0));
    const eightBit = await run('text_to_speech', {
      text: 'ab',
      duration: 2,
      sampleRate: 8_000,
      bitsPerSample: 8,
    });
    expect(eightBit).toMatchObject({ bytes: 16_044, bitsPerSample: 8, durationSeconds: 2 });
  });

  it('refuses, without an upload offer, a clip too long to answer inline, saying it needs one', () => {
    const error = rejection('text_to_speech', { text: 'x'.repeat(2_000) });
    expect(error?.field).toBe('parameters.text');
    expect(error?.message).toMatch(
      /at most \d+ characters at 8000 Hz, 8-bit and speed 1; a longer clip needs an upload offer/,
    );
    const most = Number(/at most (\d+)/.exec(error?.message ?? '')?.[1]);
    expect(rejection('text_to_speech', { text: 'x'.repeat(most) })).toBeUndefined();
    expect(rejection('text_to_speech', { text: 'x'.repeat(most + 1) })?.field).toBe('parameters.text');
    expect(rejection('text_to_speech', { text: 'x'.repeat(2_000) }, { upload: uploadOffer })).toBeUndefined();

    const long = rejection('text_to_speech', { text: 'hi', duration: 30 });
    expect(long).toEqual({
      field: 'upload',
      message:
        "is needed: the clip's audio (1440000 samples at 48000 Hz, 16-bit) is 2880000 bytes, above the 131072 bytes answered inline; call with an upload offer or ask for a smaller one",
    });
    expect(
      rejection('text_to_speech', { text: 'hi', duration: 30 }, { upload: uploadOffer }),
    ).toBeUndefined();
    expect(rejection('text_to_speech', { text: 'hi', sampleRate: 12_345 })?.field).toBe(
      'parameters.sampleRate',
    );
    expect(rejection('text_to_speech', { text: 'hi', duration: 601 })?.field).toBe('parameters.duration');
  });

  it('keeps the longest inline clip within the inline size', async () => {
    const error = rejection('text_to_speech', { text: 'x'.repeat(2_000), sampleRate: 16_000 });
    const most = Number(/at most (\d+)/.exec(error?.message ?? '')?.[1]);
    const longest = await run('text_to_speech', { text: 'x'.repeat(most), sampleRate: 16_000 });
    expect(longest.bytes as number).toBeLessThanOrEqual(MAX_AUDIO_BYTES + 44);
    expect(longest.encoding).toBe('base64');
  });
});
