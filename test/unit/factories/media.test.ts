import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_NOTICE } from '../../../lib/local/factories/contract.ts';
import {
  buildStoryboard,
  encodeWav,
  escapeXml,
  MAX_AUDIO_BYTES,
  mediaFactory,
  renderImageSvg,
  synthesizeTones,
  wrapText,
} from '../../../lib/local/factories/media.ts';
import { actionsOf } from './support.ts';

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
  it('draws a well-formed SVG with an <svg> root, the stated size and the prompt as caption', () => {
    const output = run('generate_image', { prompt: 'Product mockup', style: 'realistic' });
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

  it('is the same image for the same prompt and style, and another for another prompt or style', () => {
    const a = run('generate_image', { prompt: 'Sunset landscape', style: 'vivid' });
    const b = run('generate_image', { prompt: 'Sunset landscape', style: 'vivid' });
    const otherPrompt = run('generate_image', { prompt: 'Sunrise landscape', style: 'vivid' });
    const otherStyle = run('generate_image', { prompt: 'Sunset landscape', style: 'pastel' });
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

describe('generate_images', () => {
  it('draws one image per prompt, each described by its own bytes and hash', () => {
    const output = run('generate_images', {
      prompts: ['Product hero', 'Product detail'],
      brief: 'Market insight: growing fast',
    });
    const images = output.images as Array<Record<string, unknown>>;
    expect(output.count).toBe(2);
    expect(images.map((i) => i.prompt)).toEqual(['Product hero', 'Product detail']);
    for (const image of images) {
      expect(parseXmlRoot(image.svg as string).name).toBe('svg');
      expect(image.svg).toContain('Brief: Market insight: growing fast');
    }
    expect(images[0]?.sha256).not.toBe(images[1]?.sha256);
  });

  it('rejects an empty list and an empty prompt in it, naming the field', () => {
    expect(rejection('generate_images', { prompts: [] })?.field).toBe('parameters.prompts');
    expect(rejection('generate_images', { prompts: ['ok', ''] })?.field).toBe('parameters.prompts.1');
  });
});

describe('generate_video', () => {
  it('makes a storyboard whose scenes cover every frame exactly once, far below 256 KB', () => {
    const output = run('generate_video', { prompt: 'Product showcase', duration: 30 });
    const timeline = output.timeline as {
      totalFrames: number;
      scenes: Array<{ startFrame: number; frameCount: number; startSeconds: number; endSeconds: number }>;
    };
    expect(output).toMatchObject({ format: 'storyboard', durationSeconds: 30, fps: 24, totalFrames: 720 });
    expect(timeline.scenes).toHaveLength(6);
    let next = 0;
    for (const scene of timeline.scenes) {
      expect(scene.startFrame).toBe(next);
      next += scene.frameCount;
    }
    expect(next).toBe(720);
    expect(timeline.scenes.at(-1)?.endSeconds).toBe(30);
    for (const scene of output.scenes as Array<{ svg: string }>)
      expect(parseXmlRoot(scene.svg).name).toBe('svg');
    expect(Buffer.byteLength(JSON.stringify(output))).toBeLessThan(64 * 1024);
  });

  it('builds scenes on earlier images when given, and keeps the largest request small', () => {
    const storyboard = buildStoryboard({
      prompt: 'Product showcase',
      style: 'modern',
      durationSeconds: 12,
      fps: 30,
      scenes: 3,
      images: [{ prompt: 'Product hero', sha256: 'a'.repeat(64) }, 'Product detail'],
    });
    expect(storyboard.scenes.map((s) => s.caption)).toEqual([
      '1/3 Establishing shot: Product hero',
      expect.stringMatching(/^2\/3 .+: Product detail$/),
      '3/3 Closing shot: Product hero',
    ]);
    expect(storyboard.timeline.scenes[0]?.sourceImage).toEqual({ index: 0, sha256: 'a'.repeat(64) });
    const largest = run('generate_video', {
      prompt: 'p'.repeat(1_000),
      duration: 600,
      fps: 120,
      scenes: 12,
    });
    expect(Buffer.byteLength(JSON.stringify(largest))).toBeLessThan(256 * 1024);
  });

  it('rejects a non-positive duration, naming the field', () => {
    expect(rejection('generate_video', { prompt: 'x', duration: 0 })?.field).toBe('parameters.duration');
    expect(rejection('generate_video', { prompt: 'x', images: 'not a list' })?.field).toBe(
      'parameters.images',
    );
  });
});

describe('text_to_speech', () => {
  /** The fields of a canonical 44-byte PCM WAV header. */
  function readWavHeader(wav: Buffer) {
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

  it('returns a RIFF/WAVE file whose header states the sample rate and whose length is the duration', () => {
    const textToSay = 'Welcome to VoBee';
    const output = run('text_to_speech', { text: textToSay, sampleRate: 16_000 });
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
    expect(output).toMatchObject({ example: true, format: 'wav', sampleRate: 16_000, bytes: wav.length });
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

  it('refuses a text too long for an inline clip, naming the field', () => {
    const error = rejection('text_to_speech', { text: 'x'.repeat(2_000) });
    expect(error?.field).toBe('parameters.text');
    expect(error?.message).toMatch(/at most \d+ characters/);
    const most = Number(/at most (\d+)/.exec(error?.message ?? '')?.[1]);
    const longest = run('text_to_speech', { text: 'x'.repeat(most) });
    expect(longest.bytes as number).toBeLessThanOrEqual(MAX_AUDIO_BYTES + 44);
    expect(rejection('text_to_speech', { text: 'hi', sampleRate: 44_100 })?.field).toBe(
      'parameters.sampleRate',
    );
  });
});
