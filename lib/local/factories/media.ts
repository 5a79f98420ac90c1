import { createHash } from 'node:crypto';
import * as z from 'zod';
import { defineAction, EXAMPLE_NOTICE, exampleOutput, type FactoryDefinition } from './contract.ts';

/**
 * The example media factory: images, storyboards and speech made from the prompt alone. Every
 * output is a real, valid file (SVG, WAV) and the same input always gives the same bytes.
 */

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);
const style = z.string().trim().toLowerCase().min(1).max(64).default('modern');
const dimension = z.number().int().min(64).max(4_096);

/** Palettes by style name; any other style gets one derived from its name. */
const PALETTES: Readonly<Record<string, readonly string[]>> = {
  modern: ['#0d1b2a', '#1b263b', '#415a77', '#778da9', '#e0e1dd'],
  realistic: ['#2f3e46', '#354f52', '#52796f', '#84a98c', '#cad2c5'],
  abstract: ['#ff006e', '#fb5607', '#ffbe0b', '#8338ec', '#3a86ff'],
  minimal: ['#f8f9fa', '#dee2e6', '#adb5bd', '#495057', '#212529'],
  pastel: ['#cdb4db', '#ffc8dd', '#ffafcc', '#bde0fe', '#a2d2ff'],
  vivid: ['#f72585', '#7209b7', '#3a0ca3', '#4361ee', '#4cc9f0'],
  noir: ['#000000', '#1c1c1c', '#3d3d3d', '#8a8a8a', '#f5f5f5'],
};

/** A deterministic stream of numbers in [0, 1) from SHA-256 blocks of `seed`, chained as needed. */
function hashRandom(seed: string): () => number {
  let block = createHash('sha256').update(seed).digest();
  let at = 0;
  return () => {
    if (at + 4 > block.length) {
      block = createHash('sha256').update(block).digest();
      at = 0;
    }
    const value = block.readUInt32BE(at);
    at += 4;
    return value / 4_294_967_296;
  };
}

function paletteFor(styleName: string): readonly string[] {
  const known = PALETTES[styleName];
  if (known) return known;
  const random = hashRandom(`palette:${styleName}`);
  const hue = Math.floor(random() * 360);
  return [0, 30, 60, 180, 210].map(
    (shift, i) => `hsl(${(hue + shift) % 360},${55 + i * 6}%,${20 + i * 14}%)`,
  );
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Drops the characters XML 1.0 cannot hold at all: most control characters, lone surrogates. */
export function xmlSafe(value: string): string {
  let out = '';
  // for...of walks code points; a lone surrogate comes out on its own and is dropped.
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    const allowed =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      cp >= 0x10000;
    if (allowed) out += ch;
  }
  return out;
}

/** Escapes text for XML content and attributes. */
export function escapeXml(value: string): string {
  return xmlSafe(value).replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

/** Splits text into at most `maxLines` lines of `width` characters; an overflow ends in an ellipsis. */
export function wrapText(value: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line: string[] = [];
  const flush = () => {
    if (line.length > 0) lines.push(line.join(''));
    line = [];
  };
  for (const word of value.split(/\s+/).filter(Boolean)) {
    const chars = Array.from(word);
    if (line.length > 0 && line.length + 1 + chars.length > width) flush();
    if (line.length > 0) line.push(' ');
    for (const ch of chars) {
      if (line.length >= width) flush();
      line.push(ch);
    }
  }
  flush();
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = Array.from(kept[maxLines - 1] ?? '');
  kept[maxLines - 1] = `${last.slice(0, Math.max(0, width - 1)).join('')}…`;
  return kept;
}

const num = (value: number) => String(Math.round(value * 10) / 10);

/** What an SVG image is drawn from. */
export interface ImageSpec {
  prompt: string;
  style: string;
  width: number;
  height: number;
  /** Shown in the caption band; the prompt when not given. */
  caption?: string;
  /** Kept in `<desc>`: context the image was made for, e.g. a research summary. */
  brief?: string;
}

/**
 * Draws an SVG: a gradient and shapes whose kinds, places and colours come from a hash of the
 * prompt and style, the caption in a band at the bottom, and an "example" label.
 */
export function renderImageSvg(spec: ImageSpec): string {
  const { width: w, height: h } = spec;
  const random = hashRandom(`${spec.style}\n${spec.prompt}`);
  const palette = paletteFor(spec.style);
  const pick = () => palette[Math.floor(random() * palette.length)] ?? '#888888';
  const id = `bg-${createHash('sha256').update(`${spec.style}\n${spec.prompt}`).digest('hex').slice(0, 8)}`;
  const small = Math.min(w, h);

  const shapes: string[] = [];
  const count = 4 + Math.floor(random() * 5);
  for (let i = 0; i < count; i++) {
    const kind = Math.floor(random() * 3);
    const fill = `fill="${pick()}" fill-opacity="${num(0.35 + random() * 0.5)}"`;
    const x = random() * w;
    const y = random() * h;
    const size = small * (0.06 + random() * 0.22);
    if (kind === 0) shapes.push(`<circle cx="${num(x)}" cy="${num(y)}" r="${num(size)}" ${fill}/>`);
    else if (kind === 1)
      shapes.push(
        `<rect x="${num(x - size)}" y="${num(y - size / 2)}" width="${num(size * 2)}" height="${num(size)}" transform="rotate(${Math.floor(random() * 180)} ${num(x)} ${num(y)})" ${fill}/>`,
      );
    else {
      const points = [0, 1, 2]
        .map((k) => {
          const angle = random() * 0.6 + (k * 2 * Math.PI) / 3;
          return `${num(x + size * Math.cos(angle))},${num(y + size * Math.sin(angle))}`;
        })
        .join(' ');
      shapes.push(`<polygon points="${points}" ${fill}/>`);
    }
  }

  const caption = spec.caption ?? spec.prompt;
  const fontSize = Math.max(9, Math.round(small / 22));
  const lineHeight = Math.round(fontSize * 1.3);
  // Wrapped before escaping, so a line never ends inside an entity.
  const lines = wrapText(xmlSafe(caption), Math.floor((w - 16) / (fontSize * 0.56)), 3);
  const band = lines.length * lineHeight + fontSize;
  const captionText = lines
    .map(
      (line, i) =>
        `<text x="${num(w / 2)}" y="${h - band + fontSize * 0.5 + lineHeight * (i + 0.8)}" font-family="sans-serif" font-size="${fontSize}" fill="#ffffff" text-anchor="middle">${escapeXml(line)}</text>`,
    )
    .join('');
  const label = Math.max(8, Math.round(fontSize * 0.55));
  const desc = `${EXAMPLE_NOTICE}. Style: ${spec.style}.${spec.brief ? ` Brief: ${spec.brief.slice(0, 500)}` : ''}`;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeXml(caption)}">`,
    `<title>${escapeXml(caption)}</title>`,
    `<desc>${escapeXml(desc)}</desc>`,
    `<defs><linearGradient id="${id}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${pick()}"/><stop offset="1" stop-color="${pick()}"/></linearGradient></defs>`,
    `<rect width="${w}" height="${h}" fill="url(#${id})"/>`,
    ...shapes,
    `<rect x="0" y="${h - band}" width="${w}" height="${band}" fill="#000000" fill-opacity="0.55"/>`,
    captionText,
    `<text x="6" y="${label + 4}" font-family="monospace" font-size="${label}" fill="#ffffff" fill-opacity="0.85">EXAMPLE · no AI model</text>`,
    '</svg>',
  ].join('');
}

/** An SVG with the facts a caller needs to store or check it. */
export function describeSvg(svg: string, width: number, height: number) {
  return {
    format: 'svg' as const,
    mimeType: 'image/svg+xml',
    width,
    height,
    bytes: Buffer.byteLength(svg, 'utf8'),
    sha256: createHash('sha256').update(svg).digest('hex'),
    svg,
  };
}

const imageParameters = {
  style,
  width: dimension.default(512),
  height: dimension.default(512),
  brief: text(2_000).optional(),
};

const generateImage = defineAction({
  description: 'An SVG image drawn from the prompt, with the prompt as its caption',
  parameters: z.object({ prompt: text(1_000), ...imageParameters }),
  run: (p) =>
    exampleOutput({
      prompt: p.prompt,
      style: p.style,
      ...describeSvg(renderImageSvg(p), p.width, p.height),
    }),
});

const generateImages = defineAction({
  description: 'One SVG image per prompt',
  parameters: z.object({ prompts: z.array(text(1_000)).min(1).max(8), ...imageParameters }),
  run: (p) =>
    exampleOutput({
      style: p.style,
      count: p.prompts.length,
      images: p.prompts.map((prompt, index) => ({
        index,
        prompt,
        ...describeSvg(renderImageSvg({ ...p, prompt }), p.width, p.height),
      })),
    }),
});

const SHOTS = ['Wide shot', 'Medium shot', 'Close-up', 'Detail shot', 'Tracking shot', 'Overhead shot'];
const TRANSITIONS = ['cut', 'crossfade', 'dissolve', 'wipe'];
const SCENE_WIDTH = 320;
const SCENE_HEIGHT = 180;

/** What a storyboard is made from; `images` are earlier outputs (or prompts) to build scenes on. */
export interface StoryboardSpec {
  prompt: string;
  style: string;
  durationSeconds: number;
  fps: number;
  scenes?: number | undefined;
  images?: Array<string | { prompt?: string | undefined; sha256?: string | undefined }> | undefined;
}

/**
 * A storyboard instead of a video: a few small scene SVGs and a timeline saying which frames each
 * covers. Rendering every frame would be megabytes; a storyboard stays a few kilobytes.
 */
export function buildStoryboard(spec: StoryboardSpec) {
  const random = hashRandom(`video\n${spec.style}\n${spec.prompt}`);
  const sources = (spec.images ?? []).map((image, index) =>
    typeof image === 'string' ? { index, prompt: image } : { index, ...image },
  );
  const sceneCount = spec.scenes ?? Math.min(8, Math.max(1, Math.ceil(spec.durationSeconds / 5)));
  const totalFrames = Math.max(sceneCount, Math.round(spec.durationSeconds * spec.fps));
  const seconds = (frame: number) => Math.round((frame / spec.fps) * 1000) / 1000;

  const scenes = Array.from({ length: sceneCount }, (_, index) => {
    const source = sources.length > 0 ? sources[index % sources.length] : undefined;
    const subject = source?.prompt ?? spec.prompt;
    const shot =
      index === 0 && sceneCount > 1
        ? 'Establishing shot'
        : index === sceneCount - 1 && sceneCount > 1
          ? 'Closing shot'
          : (SHOTS[Math.floor(random() * SHOTS.length)] ?? 'Wide shot');
    const caption = `${index + 1}/${sceneCount} ${shot}: ${subject}`;
    const startFrame = Math.round((index * totalFrames) / sceneCount);
    const endFrame = Math.round(((index + 1) * totalFrames) / sceneCount);
    const svg = renderImageSvg({
      prompt: `${subject}\n${index}`,
      style: spec.style,
      width: SCENE_WIDTH,
      height: SCENE_HEIGHT,
      caption,
    });
    return {
      timeline: {
        index,
        shot,
        caption,
        startFrame,
        frameCount: endFrame - startFrame,
        startSeconds: seconds(startFrame),
        endSeconds: seconds(endFrame),
        transition: index === sceneCount - 1 ? 'fade-out' : (TRANSITIONS[Math.floor(random() * 4)] ?? 'cut'),
        ...(source ? { sourceImage: { index: source.index, sha256: source.sha256 } } : {}),
      },
      frame: { index, caption, ...describeSvg(svg, SCENE_WIDTH, SCENE_HEIGHT) },
    };
  });

  return {
    timeline: {
      durationSeconds: spec.durationSeconds,
      fps: spec.fps,
      totalFrames,
      scenes: scenes.map((s) => s.timeline),
    },
    scenes: scenes.map((s) => s.frame),
  };
}

const generateVideo = defineAction({
  description: 'A storyboard (scene SVGs and a frame timeline) for a video of the prompt',
  parameters: z.object({
    prompt: text(1_000),
    style,
    duration: z.number().positive().max(600).default(10),
    fps: z.number().int().min(1).max(120).default(24),
    scenes: z.number().int().min(1).max(12).optional(),
    images: z
      .array(
        z.union([
          text(1_000),
          z.object({ prompt: z.string().max(1_000).optional(), sha256: z.string().max(64).optional() }),
        ]),
      )
      .max(24)
      .optional(),
  }),
  run: (p) => {
    const storyboard = buildStoryboard({ ...p, durationSeconds: p.duration });
    return exampleOutput({
      format: 'storyboard',
      prompt: p.prompt,
      style: p.style,
      durationSeconds: p.duration,
      fps: p.fps,
      totalFrames: storyboard.timeline.totalFrames,
      width: SCENE_WIDTH,
      height: SCENE_HEIGHT,
      bytes: storyboard.scenes.reduce((sum, scene) => sum + scene.bytes, 0),
      ...storyboard,
    });
  },
});

/** The largest clip returned inline: base64 of it stays far below the 256 KB workflow payload limit. */
export const MAX_AUDIO_BYTES = 131_072;
const MS_PER_CHARACTER = 50;
const VOICES = { low: 110, neutral: 220, high: 330 } as const;
export type Voice = keyof typeof VOICES;

/**
 * One short tone per character (its pitch from the code point; silence for spaces and
 * punctuation), 8-bit mono PCM. The clip lasts `characters × 50 ms / speed`.
 */
export function synthesizeTones(
  value: string,
  options: { sampleRate: number; voice: Voice; speed: number },
): Uint8Array {
  const chars = Array.from(value);
  const perChar = Math.round((options.sampleRate * MS_PER_CHARACTER) / 1000 / options.speed);
  const ramp = Math.max(1, Math.round(options.sampleRate * 0.005));
  const samples = new Uint8Array(chars.length * perChar).fill(128);
  chars.forEach((ch, i) => {
    if (/[\s\p{P}]/u.test(ch)) return;
    const frequency = VOICES[options.voice] * 2 ** (((ch.codePointAt(0) ?? 0) % 24) / 12);
    // The last tenth of each slot stays silent, so neighbouring tones are heard apart.
    const sounding = Math.floor(perChar * 0.9);
    for (let n = 0; n < sounding; n++) {
      const envelope = Math.min(1, n / ramp, (sounding - n) / ramp);
      const wave = 0.6 * envelope * Math.sin((2 * Math.PI * frequency * n) / options.sampleRate);
      samples[i * perChar + n] = Math.round(128 + 127 * wave);
    }
  });
  return samples;
}

/** Wraps 8-bit mono PCM samples in a RIFF/WAVE file (44-byte header). */
export function encodeWav(samples: Uint8Array, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate, 28); // byte rate: one byte per sample
  header.writeUInt16LE(1, 32); // block align
  header.writeUInt16LE(8, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]);
}

const textToSpeech = defineAction({
  description: 'A WAV clip: one tone per character of the text',
  parameters: z
    .object({
      text: text(5_000),
      voice: z.enum(['low', 'neutral', 'high']).default('neutral'),
      speed: z.number().min(0.5).max(2).default(1),
      sampleRate: z.union([z.literal(8_000), z.literal(11_025), z.literal(16_000)]).default(8_000),
    })
    .superRefine((p, ctx) => {
      const perChar = Math.round((p.sampleRate * MS_PER_CHARACTER) / 1000 / p.speed);
      const most = Math.floor(MAX_AUDIO_BYTES / perChar);
      if (Array.from(p.text).length > most)
        ctx.addIssue({
          code: 'custom',
          path: ['text'],
          message: `is too long for an inline example clip: at most ${most} characters at ${p.sampleRate} Hz and speed ${p.speed}`,
        });
    }),
  run: (p) => {
    const wav = encodeWav(synthesizeTones(p.text, p), p.sampleRate);
    const samples = wav.length - 44;
    return exampleOutput({
      text: p.text,
      voice: p.voice,
      speed: p.speed,
      format: 'wav',
      mimeType: 'audio/wav',
      encoding: 'base64',
      sampleRate: p.sampleRate,
      bitsPerSample: 8,
      channels: 1,
      durationSeconds: Math.round((samples / p.sampleRate) * 1000) / 1000,
      bytes: wav.length,
      sha256: createHash('sha256').update(wav).digest('hex'),
      audio: wav.toString('base64'),
    });
  },
});

/** The example media factory: images, storyboards and speech, without any model. */
export const mediaFactory: FactoryDefinition = {
  name: 'media-factory',
  factoryType: 'media',
  version: '0.1.0',
  actions: {
    generate_image: generateImage,
    generate_images: generateImages,
    generate_video: generateVideo,
    text_to_speech: textToSpeech,
  },
  taskTypes: {
    image_generation: 'generate_image',
    video_generation: 'generate_video',
    speech_synthesis: 'text_to_speech',
  },
};
