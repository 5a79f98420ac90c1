import { createHash } from 'node:crypto';
import * as z from 'zod';
import { type ArtifactRef, artifactRefSchema } from '../../core/artifacts.ts';
import type { FieldIssue } from '../../core/errors.ts';
import { mulberry32 } from '../../core/random.ts';
import {
  defineAction,
  EXAMPLE_NOTICE,
  type ExecuteRequest,
  exampleOutput,
  type FactoryDefinition,
  presignedUrl,
  RefusedError,
} from './contract.ts';
import { decodePng, encodePng, type Raster, shrinkRaster } from './png.ts';
import { downloadArtifact, uploadArtifact } from './transfer.ts';
import {
  type Plate,
  plateOf,
  type Shot,
  type Transition,
  Y4M_MIME_TYPE,
  y4mBytes,
  y4mChunks,
} from './video.ts';

/**
 * The example media factory: images, videos and speech made from the prompt alone. Every output
 * is a real, valid file (SVG, PNG, YUV4MPEG2 video, WAV) and the same input always gives the same
 * bytes. A file too large to answer inline (a long clip, any real video) is uploaded through the
 * presigned PUT the call offers, and the answer carries its artifact reference instead.
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

/** One shape of an image: where it is, its colour and its opacity. */
type Shape = { fill: string; opacity: number } & (
  | { kind: 'circle'; x: number; y: number; size: number }
  /** A `2·size × size` rectangle centred on (x, y), turned by `angle` degrees. */
  | { kind: 'rect'; x: number; y: number; size: number; angle: number }
  | { kind: 'triangle'; points: Array<[number, number]> }
);

/** What an image is made of, drawn as SVG or as pixels alike. */
interface Scene {
  /** Top-left and bottom-right colours of the background gradient. */
  gradient: [string, string];
  shapes: Shape[];
  /** The caption, wrapped, and the band it sits in at the bottom. */
  lines: string[];
  fontSize: number;
  lineHeight: number;
  band: number;
}

/**
 * The scene of an image: shapes whose kinds, places and colours come from a hash of the prompt
 * and style, over a gradient, with the caption in a band at the bottom.
 */
function sceneOf(spec: ImageSpec): Scene {
  const { width: w, height: h } = spec;
  const random = hashRandom(`${spec.style}\n${spec.prompt}`);
  const palette = paletteFor(spec.style);
  const pick = () => palette[Math.floor(random() * palette.length)] ?? '#888888';
  const small = Math.min(w, h);

  const shapes: Shape[] = [];
  const count = 4 + Math.floor(random() * 5);
  for (let i = 0; i < count; i++) {
    const kind = Math.floor(random() * 3);
    const fill = pick();
    const opacity = Number(num(0.35 + random() * 0.5));
    const x = random() * w;
    const y = random() * h;
    const size = small * (0.06 + random() * 0.22);
    if (kind === 0) shapes.push({ kind: 'circle', fill, opacity, x, y, size });
    else if (kind === 1)
      shapes.push({ kind: 'rect', fill, opacity, x, y, size, angle: Math.floor(random() * 180) });
    else {
      const points = [0, 1, 2].map((k): [number, number] => {
        const angle = random() * 0.6 + (k * 2 * Math.PI) / 3;
        return [x + size * Math.cos(angle), y + size * Math.sin(angle)];
      });
      shapes.push({ kind: 'triangle', fill, opacity, points });
    }
  }
  const gradient: [string, string] = [pick(), pick()];

  const fontSize = Math.max(9, Math.round(small / 22));
  const lineHeight = Math.round(fontSize * 1.3);
  // Wrapped before escaping, so a line never ends inside an entity.
  const lines = wrapText(xmlSafe(spec.caption ?? spec.prompt), Math.floor((w - 16) / (fontSize * 0.56)), 3);
  return { gradient, shapes, lines, fontSize, lineHeight, band: lines.length * lineHeight + fontSize };
}

/** The text an image describes itself with: the example notice, the style and the brief. */
function descriptionOf(spec: ImageSpec): string {
  return `${EXAMPLE_NOTICE}. Style: ${spec.style}.${spec.brief ? ` Brief: ${spec.brief.slice(0, 500)}` : ''}`;
}

/**
 * Draws an SVG: a gradient and shapes whose kinds, places and colours come from a hash of the
 * prompt and style, the caption in a band at the bottom, and an "example" label.
 */
export function renderImageSvg(spec: ImageSpec): string {
  const { width: w, height: h } = spec;
  const scene = sceneOf(spec);
  const id = `bg-${createHash('sha256').update(`${spec.style}\n${spec.prompt}`).digest('hex').slice(0, 8)}`;
  const shapes = scene.shapes.map((shape) => {
    const fill = `fill="${shape.fill}" fill-opacity="${num(shape.opacity)}"`;
    if (shape.kind === 'circle')
      return `<circle cx="${num(shape.x)}" cy="${num(shape.y)}" r="${num(shape.size)}" ${fill}/>`;
    if (shape.kind === 'rect') {
      const { x, y, size } = shape;
      return `<rect x="${num(x - size)}" y="${num(y - size / 2)}" width="${num(size * 2)}" height="${num(size)}" transform="rotate(${shape.angle} ${num(x)} ${num(y)})" ${fill}/>`;
    }
    return `<polygon points="${shape.points.map(([x, y]) => `${num(x)},${num(y)}`).join(' ')}" ${fill}/>`;
  });

  const caption = spec.caption ?? spec.prompt;
  const { fontSize, lineHeight, band } = scene;
  const captionText = scene.lines
    .map(
      (line, i) =>
        `<text x="${num(w / 2)}" y="${h - band + fontSize * 0.5 + lineHeight * (i + 0.8)}" font-family="sans-serif" font-size="${fontSize}" fill="#ffffff" text-anchor="middle">${escapeXml(line)}</text>`,
    )
    .join('');
  const label = Math.max(8, Math.round(fontSize * 0.55));

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeXml(caption)}">`,
    `<title>${escapeXml(caption)}</title>`,
    `<desc>${escapeXml(descriptionOf(spec))}</desc>`,
    `<defs><linearGradient id="${id}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${scene.gradient[0]}"/><stop offset="1" stop-color="${scene.gradient[1]}"/></linearGradient></defs>`,
    `<rect width="${w}" height="${h}" fill="url(#${id})"/>`,
    ...shapes,
    `<rect x="0" y="${h - band}" width="${w}" height="${band}" fill="#000000" fill-opacity="0.55"/>`,
    captionText,
    `<text x="6" y="${label + 4}" font-family="monospace" font-size="${label}" fill="#ffffff" fill-opacity="0.85">EXAMPLE · no AI model</text>`,
    '</svg>',
  ].join('');
}

/** An RGB colour from `#rrggbb` or `hsl(h,s%,l%)`, the two forms the palettes use. */
export function parseColour(colour: string): [number, number, number] {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(colour);
  if (hex) return [1, 2, 3].map((i) => Number.parseInt(hex[i] as string, 16)) as [number, number, number];
  const hsl = /^hsl\((\d+(?:\.\d+)?),(\d+(?:\.\d+)?)%,(\d+(?:\.\d+)?)%\)$/.exec(colour);
  if (!hsl) throw new Error(`unknown colour ${colour}`);
  const hue = Number(hsl[1]) / 360;
  const sat = Number(hsl[2]) / 100;
  const light = Number(hsl[3]) / 100;
  const q = light < 0.5 ? light * (1 + sat) : light + sat - light * sat;
  const p = 2 * light - q;
  const channel = (t: number) => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    const v = u < 1 / 6 ? p + (q - p) * 6 * u : u < 1 / 2 ? q : u < 2 / 3 ? p + (q - p) * (2 / 3 - u) * 6 : p;
    return Math.round(v * 255);
  };
  return [channel(hue + 1 / 3), channel(hue), channel(hue - 1 / 3)];
}

/** How far a grain pixel is from its neighbours, in levels of 255. */
const GRAIN_LEVELS = 2;
/**
 * The share of grain pixels in generated PNGs: a 512×512 image then takes some 20 to 70 KB, and
 * the pair the Product Launch Campaign asks for, in base64, is well above the 64 KiB an output may
 * have inline.
 */
const PNG_GRAIN = 0.025;

/**
 * Draws the scene of an image as pixels: the same gradient and shapes as its SVG, the caption
 * band with a block for each letter (there is no font), and a light film grain on a `grain` share
 * of the pixels (deterministic, from the prompt), which also keeps a PNG from compressing to almost
 * nothing.
 */
export function renderImageRaster(spec: ImageSpec, options: { grain?: number } = {}): Raster {
  const { width: w, height: h } = spec;
  const scene = sceneOf(spec);
  const canvas = new Float32Array(w * h * 3);
  const from = parseColour(scene.gradient[0]);
  const to = parseColour(scene.gradient[1]);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const t = ((x + 0.5) / w + (y + 0.5) / h) / 2;
      for (let c = 0; c < 3; c++) {
        const start = from[c] as number;
        canvas[(y * w + x) * 3 + c] = start + ((to[c] as number) - start) * t;
      }
    }
  /** Paints `colour` at `opacity` over the pixels of a box whose centres pass `inside`. */
  const paint = (
    box: [number, number, number, number],
    colour: readonly number[],
    opacity: number,
    inside: (x: number, y: number) => boolean,
  ) => {
    const [x0, y0, x1, y1] = [
      Math.max(0, Math.floor(box[0])),
      Math.max(0, Math.floor(box[1])),
      Math.min(w - 1, Math.ceil(box[2])),
      Math.min(h - 1, Math.ceil(box[3])),
    ];
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) {
        if (!inside(x + 0.5, y + 0.5)) continue;
        const at = (y * w + x) * 3;
        for (let c = 0; c < 3; c++)
          canvas[at + c] = (canvas[at + c] as number) * (1 - opacity) + (colour[c] as number) * opacity;
      }
  };
  for (const shape of scene.shapes) {
    const colour = parseColour(shape.fill);
    if (shape.kind === 'circle') {
      const { x, y, size } = shape;
      paint([x - size, y - size, x + size, y + size], colour, shape.opacity, (px, py) => {
        return (px - x) ** 2 + (py - y) ** 2 <= size * size;
      });
    } else if (shape.kind === 'rect') {
      const { x, y, size } = shape;
      const cos = Math.cos((shape.angle * Math.PI) / 180);
      const sin = Math.sin((shape.angle * Math.PI) / 180);
      const reach = size * Math.SQRT2;
      paint([x - reach, y - reach, x + reach, y + reach], colour, shape.opacity, (px, py) => {
        // Turned back by the angle, the point must fall in the upright rectangle.
        const u = (px - x) * cos + (py - y) * sin;
        const v = -(px - x) * sin + (py - y) * cos;
        return Math.abs(u) <= size && Math.abs(v) <= size / 2;
      });
    } else {
      const [[ax, ay], [bx, by], [cx, cy]] = shape.points as [
        [number, number],
        [number, number],
        [number, number],
      ];
      const side = (px: number, py: number, x1: number, y1: number, x2: number, y2: number) =>
        (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1);
      paint(
        [Math.min(ax, bx, cx), Math.min(ay, by, cy), Math.max(ax, bx, cx), Math.max(ay, by, cy)],
        colour,
        shape.opacity,
        (px, py) => {
          const d1 = side(px, py, ax, ay, bx, by);
          const d2 = side(px, py, bx, by, cx, cy);
          const d3 = side(px, py, cx, cy, ax, ay);
          return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0);
        },
      );
    }
  }
  const { fontSize, lineHeight, band } = scene;
  const all = () => true;
  paint([0, h - band, w, h], [0, 0, 0], 0.55, all);
  const cell = fontSize * 0.56;
  scene.lines.forEach((line, i) => {
    const baseline = h - band + fontSize * 0.5 + lineHeight * (i + 0.8);
    const chars = Array.from(line);
    const start = w / 2 - (chars.length * cell) / 2;
    chars.forEach((ch, j) => {
      if (/\s/u.test(ch)) return;
      const tall = fontSize * (0.45 + 0.1 * ((ch.codePointAt(0) ?? 0) % 4));
      const left = start + j * cell + cell * 0.12;
      paint([left, baseline - tall, left + cell * 0.76 - 1, baseline - 1], [255, 255, 255], 0.85, all);
    });
  });

  // Grain: a share of pixels a few levels lighter or darker, the same for every channel.
  const grain = options.grain ?? 0;
  const noise = mulberry32(hashRandom(`grain\n${spec.style}\n${spec.prompt}`)() * 4_294_967_296);
  const shift = new Int8Array(w * h);
  if (grain > 0)
    for (let i = 0; i < w * h; i++) {
      const draw = noise();
      if (draw < grain) shift[i] = draw < grain / 2 ? -GRAIN_LEVELS : GRAIN_LEVELS;
    }
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++)
    for (let c = 0; c < 3; c++)
      rgb[i * 3 + c] = Math.min(
        255,
        Math.max(0, Math.round((canvas[i * 3 + c] as number) + (shift[i] as number))),
      );
  return { width: w, height: h, rgb };
}

/** A PNG of the image, its caption as Title and the example notice and brief as Description. */
export function renderImagePng(spec: ImageSpec): Buffer {
  return encodePng(renderImageRaster(spec, { grain: PNG_GRAIN }), {
    Title: xmlSafe(spec.caption ?? spec.prompt),
    Description: xmlSafe(descriptionOf(spec)),
    Software: 'VoBee example media factory',
  });
}

/** A PNG with the facts a caller needs to store or check it, its bytes in base64. */
export function describePng(png: Buffer, width: number, height: number) {
  return {
    format: 'png' as const,
    mimeType: 'image/png',
    width,
    height,
    bytes: png.length,
    sha256: createHash('sha256').update(png).digest('hex'),
    encoding: 'base64' as const,
    data: png.toString('base64'),
  };
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

/**
 * Pixels one generate_images call draws, all its images together: the PNGs travel inline, and
 * this keeps the answer within a few megabytes.
 */
export const MAX_IMAGE_PIXELS = 8 * 1_024 * 1_024;

const generateImages = defineAction({
  description:
    'One PNG image per prompt (512×512 by default), inline in base64 with its size and sha256; the brief goes in each PNG description',
  parameters: z
    .object({ prompts: z.array(text(1_000)).min(1).max(8), ...imageParameters })
    .superRefine((p, ctx) => {
      const pixels = p.width * p.height * p.prompts.length;
      if (pixels > MAX_IMAGE_PIXELS)
        ctx.addIssue({
          code: 'custom',
          path: ['width'],
          message: `makes ${pixels} pixels in all (width × height × prompts), above the ${MAX_IMAGE_PIXELS} one call draws: ask for fewer or smaller images`,
        });
    }),
  run: (p) =>
    exampleOutput({
      style: p.style,
      count: p.prompts.length,
      images: p.prompts.map((prompt, index) => ({
        index,
        prompt,
        ...describePng(renderImagePng({ ...p, prompt }), p.width, p.height),
      })),
    }),
});

/**
 * Whether an output of `bytes` can be answered: inline up to `inline` bytes, else only through an
 * upload offer that takes it. The issue names what is missing.
 */
function roomFor(
  bytes: number,
  inline: number,
  request: ExecuteRequest,
  what: string,
): FieldIssue | undefined {
  if (!request.upload)
    return bytes > inline
      ? {
          field: 'upload',
          message: `is needed: the ${what} is ${bytes} bytes, above the ${inline} bytes answered inline; call with an upload offer or ask for a smaller one`,
        }
      : undefined;
  if (bytes > request.upload.maxBytes)
    return {
      field: 'upload.maxBytes',
      message: `is ${request.upload.maxBytes}, too small for the ${what} of ${bytes} bytes`,
    };
  return undefined;
}

const SHOTS = ['Wide shot', 'Medium shot', 'Close-up', 'Detail shot', 'Tracking shot', 'Overhead shot'];
const TRANSITIONS = ['cut', 'crossfade', 'dissolve', 'wipe'] as const;

/** An image a video is made from: a PNG, or a prompt (or both), numbered as given. */
export interface ImageSource {
  index: number;
  prompt?: string | undefined;
  sha256?: string | undefined;
  png?: Uint8Array | undefined;
}

/** What a video's timeline is made from; `images` are earlier outputs (or prompts) to build scenes on. */
export interface TimelineSpec {
  prompt: string;
  style: string;
  durationSeconds: number;
  fps: number;
  scenes?: number | undefined;
  images?: ReadonlyArray<string | Omit<ImageSource, 'index'>> | undefined;
}

/** The scenes of a video: which frames each covers, its shot, caption, transition and source image. */
export function planTimeline(spec: TimelineSpec) {
  const random = hashRandom(`video\n${spec.style}\n${spec.prompt}`);
  const sources = (spec.images ?? []).map((image, index) =>
    typeof image === 'string' ? { index, prompt: image } : { ...image, index },
  );
  const sceneCount = scenesOf(spec);
  const totalFrames = videoFrames(spec);
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
    const transition: Transition =
      index === sceneCount - 1 ? 'fade-out' : (TRANSITIONS[Math.floor(random() * 4)] ?? 'cut');
    return {
      index,
      shot,
      caption,
      subject,
      startFrame,
      frameCount: endFrame - startFrame,
      startSeconds: seconds(startFrame),
      endSeconds: seconds(endFrame),
      transition,
      ...(source ? { sourceImage: { index: source.index, sha256: source.sha256 } } : {}),
    };
  });
  return { durationSeconds: spec.durationSeconds, fps: spec.fps, totalFrames, scenes };
}

type VideoLength = { durationSeconds: number; fps: number; scenes?: number | undefined };

/** Scenes of a video: as asked, else one per 5 seconds, at most 8. */
function scenesOf(spec: VideoLength): number {
  return spec.scenes ?? Math.min(8, Math.max(1, Math.ceil(spec.durationSeconds / 5)));
}

/** Frames of a video: its duration at its rate, and at least one per scene. */
function videoFrames(spec: VideoLength): number {
  return Math.max(scenesOf(spec), Math.round(spec.durationSeconds * spec.fps));
}

/** The largest video made (a file streamed to the upload, never whole in memory). */
export const MAX_VIDEO_BYTES = 256 * 1_024 * 1_024;
/** The largest video returned inline, in base64, when the call offers no upload. */
export const MAX_INLINE_VIDEO_BYTES = 131_072;
/** The largest images artifact read (the JSON output of generate_images, or one PNG). */
export const MAX_IMAGES_INPUT_BYTES = 32 * 1_024 * 1_024;

const imageItem = z.union([
  text(1_000),
  z.object({
    prompt: z.string().max(1_000).optional(),
    sha256: z.string().max(64).optional(),
    mimeType: z.string().max(255).optional(),
    /** The image itself, in base64 (a PNG), as generate_images gives it. */
    data: z.string().optional(),
  }),
]);
const imageList = z.array(imageItem).max(24);
/** A list of images, or an output that has one (generate_images' output). */
const imagesInline = z.union([imageList, z.object({ images: imageList })]);
const imagesReference = z.object({ artifact: artifactRefSchema.extend({ url: presignedUrl }) });

const isPng = (mimeType: string) => /^image\/png\s*(;|$)/i.test(mimeType);
const isJson = (mimeType: string) => /^application\/json\s*(;|$)/i.test(mimeType);

function sourceOf(item: z.output<typeof imageItem>, index: number): ImageSource {
  if (typeof item === 'string') return { index, prompt: item };
  const png =
    item.data !== undefined && isPng(item.mimeType ?? 'image/png')
      ? Buffer.from(item.data, 'base64')
      : undefined;
  if (png && item.sha256 !== undefined && createHash('sha256').update(png).digest('hex') !== item.sha256)
    throw new RefusedError(`images.${index}: its data does not match its sha256`);
  return { index, prompt: item.prompt, sha256: item.sha256, png };
}

/**
 * The images a video is made from, however they came: a list, an output holding one, or the
 * reference of an artifact holding either (or one PNG), read through its presigned URL.
 */
async function imageSources(
  images: z.output<typeof imagesInline> | z.output<typeof imagesReference> | undefined,
  signal: AbortSignal,
): Promise<ImageSource[]> {
  if (images === undefined) return [];
  if (Array.isArray(images)) return images.map(sourceOf);
  if ('images' in images) return images.images.map(sourceOf);
  const reference = images.artifact;
  const body = await downloadArtifact(reference, signal);
  if (isPng(reference.mimeType)) return [{ index: 0, sha256: reference.sha256, png: body }];
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RefusedError(`the images artifact '${reference.id}' is not JSON`);
  }
  const parsed = imagesInline.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RefusedError(
      `the images artifact '${reference.id}' holds neither a list of images nor an output with images (${issue?.path.join('.') || 'the value'}: ${issue?.message})`,
    );
  }
  return (Array.isArray(parsed.data) ? parsed.data : parsed.data.images).map(sourceOf);
}

/** A still for each scene: its source PNG, or else the scene drawn from its subject. */
function shotsOf(
  timeline: ReturnType<typeof planTimeline>,
  sources: readonly ImageSource[],
  spec: { prompt: string; style: string; width: number; height: number },
): Shot[] {
  const camera = hashRandom(`camera\n${spec.style}\n${spec.prompt}`);
  const plates = new Map<number, Plate>();
  return timeline.scenes.map((scene) => {
    const source = sources.length > 0 ? sources[scene.index % sources.length] : undefined;
    let plate = source?.png ? plates.get(source.index) : undefined;
    if (source?.png && !plate) {
      let raster: Raster;
      try {
        raster = decodePng(source.png);
      } catch (error) {
        throw new RefusedError(`images.${source.index}: ${(error as Error).message}`);
      }
      // Twice the video's size is all the zoom ever shows.
      plate = plateOf(shrinkRaster(raster, spec.width * 2, spec.height * 2));
      plates.set(source.index, plate);
    }
    plate ??= plateOf(
      renderImageRaster({
        prompt: `${scene.subject}\n${scene.index}`,
        style: spec.style,
        width: spec.width * 2,
        height: spec.height * 2,
        caption: scene.caption,
      }),
    );
    const zoom: [number, number] = scene.index % 2 === 0 ? [1, 1.2] : [1.2, 1];
    const pan = [camera(), camera(), camera(), camera()].map((v) => v * 2 - 1) as Shot['pan'];
    return {
      startFrame: scene.startFrame,
      frameCount: scene.frameCount,
      transition: scene.transition,
      plate,
      zoom,
      pan,
    };
  });
}

const evenSide = z
  .number()
  .int()
  .min(16)
  .max(1_920)
  .refine((value) => value % 2 === 0, 'must be even (the chroma planes are half the size)');

const generateVideo = defineAction({
  description:
    'A YUV4MPEG2 video (video/x-yuv4mpeg, uncompressed 4:2:0) filming the images, or scenes drawn from the prompt, with slow zooms and transitions; uploaded through the offer when larger than 128 KiB',
  parameters: z.object({
    prompt: text(1_000),
    style,
    duration: z.number().positive().max(600).default(10),
    fps: z.number().int().min(1).max(120).default(24),
    width: evenSide.default(160),
    height: evenSide.default(90),
    scenes: z.number().int().min(1).max(12).optional(),
    images: z.union([imagesInline, imagesReference]).optional(),
  }),
  check(p, request) {
    const format = {
      width: p.width,
      height: p.height,
      fps: p.fps,
      frames: videoFrames({ ...p, durationSeconds: p.duration }),
    };
    const bytes = y4mBytes(format);
    if (bytes > MAX_VIDEO_BYTES)
      return {
        field: 'parameters.duration',
        message: `makes a video of ${bytes} bytes (${format.frames} frames of ${p.width}×${p.height}), above the ${MAX_VIDEO_BYTES} bytes an example video may have: ask for a shorter, smaller or slower one`,
      };
    if (p.images && 'artifact' in p.images) {
      const { bytes: size, mimeType } = p.images.artifact;
      if (size > MAX_IMAGES_INPUT_BYTES)
        return {
          field: 'parameters.images.artifact.bytes',
          message: `is ${size}: at most ${MAX_IMAGES_INPUT_BYTES} bytes of images are read`,
        };
      if (!isJson(mimeType) && !isPng(mimeType))
        return {
          field: 'parameters.images.artifact.mimeType',
          message: `is ${mimeType}: must be application/json (an output of generate_images, or a list of images) or image/png`,
        };
    }
    return roomFor(
      bytes,
      MAX_INLINE_VIDEO_BYTES,
      request,
      `video (${format.frames} frames of ${p.width}×${p.height})`,
    );
  },
  async run(p, call) {
    const sources = await imageSources(p.images, call.signal);
    const timeline = planTimeline({ ...p, durationSeconds: p.duration, images: sources });
    const shots = shotsOf(timeline, sources, p);
    const format = { width: p.width, height: p.height, fps: p.fps, frames: timeline.totalFrames };
    const bytes = y4mBytes(format);
    let file:
      | { video: { artifact: ArtifactRef }; sha256: string }
      | { video: string; encoding: 'base64'; sha256: string };
    if (call.upload && bytes > MAX_INLINE_VIDEO_BYTES) {
      const artifact = await uploadArtifact(
        call.upload,
        Y4M_MIME_TYPE,
        bytes,
        y4mChunks(format, shots),
        call.signal,
      );
      file = { sha256: artifact.sha256, video: { artifact } };
    } else {
      const video = Buffer.concat([...y4mChunks(format, shots)]);
      file = {
        sha256: createHash('sha256').update(video).digest('hex'),
        encoding: 'base64',
        video: video.toString('base64'),
      };
    }
    return exampleOutput({
      format: 'y4m',
      mimeType: Y4M_MIME_TYPE,
      prompt: p.prompt,
      style: p.style,
      durationSeconds: p.duration,
      fps: p.fps,
      totalFrames: timeline.totalFrames,
      width: p.width,
      height: p.height,
      bytes,
      ...file,
      timeline: {
        ...timeline,
        scenes: timeline.scenes.map(({ subject: _subject, ...scene }) => scene),
      },
    });
  },
});

/** The largest clip, in bytes of samples, returned inline (in base64) when no upload is offered. */
export const MAX_AUDIO_BYTES = 131_072;
const MS_PER_CHARACTER = 50;
/** Silent slots between two repetitions of the text in a clip of a given duration. */
const PAUSE_SLOTS = 6;
const VOICES = { low: 110, neutral: 220, high: 330 } as const;
export type Voice = keyof typeof VOICES;

export interface ToneOptions {
  sampleRate: number;
  voice: Voice;
  speed: number;
  /** 8 (unsigned, the default) or 16 (signed, little-endian). */
  bitsPerSample?: 8 | 16;
  /**
   * How many samples the clip has: the text is said, then a short pause, again and again until
   * they are filled. Without it, the text is said once.
   */
  samples?: number;
}

function slotSamples(options: ToneOptions): number {
  return Math.round((options.sampleRate * MS_PER_CHARACTER) / 1000 / options.speed);
}

/**
 * Mono PCM samples: one short tone per character (its pitch from the code point; silence for
 * spaces and punctuation), each lasting 50 ms / speed.
 */
export function synthesizePcm(value: string, options: ToneOptions): Buffer {
  const chars = Array.from(value);
  const perChar = slotSamples(options);
  const bytesPerSample = (options.bitsPerSample ?? 8) / 8;
  const cycle = options.samples === undefined ? chars : [...chars, ...Array<string>(PAUSE_SLOTS).fill(' ')];
  const total = options.samples ?? chars.length * perChar;
  const out = Buffer.alloc(total * bytesPerSample, bytesPerSample === 1 ? 128 : 0);
  const ramp = Math.max(1, Math.round(options.sampleRate * 0.005));
  // The last tenth of each slot stays silent, so neighbouring tones are heard apart.
  const sounding = Math.floor(perChar * 0.9);
  for (let slot = 0; slot * perChar < total; slot++) {
    const ch = cycle[slot % cycle.length] as string;
    if (/[\s\p{P}]/u.test(ch)) continue;
    const frequency = VOICES[options.voice] * 2 ** (((ch.codePointAt(0) ?? 0) % 24) / 12);
    const start = slot * perChar;
    const end = Math.min(sounding, total - start);
    for (let n = 0; n < end; n++) {
      const envelope = Math.min(1, n / ramp, (sounding - n) / ramp);
      const wave = 0.6 * envelope * Math.sin((2 * Math.PI * frequency * n) / options.sampleRate);
      if (bytesPerSample === 1) out[start + n] = Math.round(128 + 127 * wave);
      else out.writeInt16LE(Math.round(32_767 * wave), (start + n) * 2);
    }
  }
  return out;
}

/** The text said once as 8-bit samples: `characters × 50 ms / speed` long. */
export function synthesizeTones(
  value: string,
  options: { sampleRate: number; voice: Voice; speed: number },
): Uint8Array {
  return synthesizePcm(value, { ...options, bitsPerSample: 8 });
}

/** The 44-byte RIFF/WAVE header of mono PCM samples. */
export function wavHeader(dataBytes: number, sampleRate: number, bitsPerSample: 8 | 16 = 8): Buffer {
  const bytesPerSample = bitsPerSample / 8;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * bytesPerSample, 28); // byte rate
  header.writeUInt16LE(bytesPerSample, 32); // block align
  header.writeUInt16LE(bitsPerSample, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Wraps mono PCM samples (8-bit unless told) in a RIFF/WAVE file. */
export function encodeWav(samples: Uint8Array, sampleRate: number, bitsPerSample: 8 | 16 = 8): Buffer {
  return Buffer.concat([wavHeader(samples.length, sampleRate, bitsPerSample), samples]);
}

const sampleRates = [8_000, 11_025, 16_000, 22_050, 44_100, 48_000] as const;

const speechParameters = z.object({
  text: text(5_000),
  voice: z.enum(['low', 'neutral', 'high']).default('neutral'),
  speed: z.number().min(0.5).max(2).default(1),
  /** Seconds: the clip lasts this long, the text said over and over. Without it, the text is said once. */
  duration: z.number().positive().max(600).optional(),
  /** Default 48 kHz for a clip of a given duration, else 8 kHz. */
  sampleRate: z.union(sampleRates.map((rate) => z.literal(rate))).optional(),
  /** Default 16 for a clip of a given duration, else 8. */
  bitsPerSample: z.union([z.literal(8), z.literal(16)]).optional(),
});

/** The clip's format and length, its defaults filled in. */
function clipOf(p: z.output<typeof speechParameters>) {
  const sampleRate = p.sampleRate ?? (p.duration === undefined ? 8_000 : 48_000);
  const bitsPerSample = p.bitsPerSample ?? (p.duration === undefined ? 8 : 16);
  const options: ToneOptions = { sampleRate, bitsPerSample, voice: p.voice, speed: p.speed };
  const samples =
    p.duration === undefined
      ? Array.from(p.text).length * slotSamples(options)
      : Math.max(1, Math.round(p.duration * sampleRate));
  return { ...options, bitsPerSample, samples, dataBytes: (samples * bitsPerSample) / 8 };
}

const textToSpeech = defineAction({
  description:
    'A WAV clip (mono PCM): one tone per character of the text, said once, or over and over for `duration` seconds (48 kHz, 16-bit by default); uploaded through the offer when above 128 KiB of samples',
  parameters: speechParameters,
  check(p, request) {
    const clip = clipOf(p);
    if (p.duration === undefined && !request.upload && clip.dataBytes > MAX_AUDIO_BYTES) {
      const most = Math.floor(MAX_AUDIO_BYTES / ((slotSamples(clip) * clip.bitsPerSample) / 8));
      return {
        field: 'parameters.text',
        message: `is too long for an inline example clip: at most ${most} characters at ${clip.sampleRate} Hz, ${clip.bitsPerSample}-bit and speed ${p.speed}; a longer clip needs an upload offer`,
      };
    }
    return roomFor(
      clip.dataBytes,
      MAX_AUDIO_BYTES,
      request,
      `clip's audio (${clip.samples} samples at ${clip.sampleRate} Hz, ${clip.bitsPerSample}-bit)`,
    );
  },
  async run(p, call) {
    const clip = clipOf(p);
    const samples = synthesizePcm(p.text, clip);
    const header = wavHeader(samples.length, clip.sampleRate, clip.bitsPerSample);
    const bytes = header.length + samples.length;
    let file:
      | { audio: { artifact: ArtifactRef }; sha256: string }
      | { audio: string; encoding: 'base64'; sha256: string };
    if (call.upload && samples.length > MAX_AUDIO_BYTES) {
      const artifact = await uploadArtifact(call.upload, 'audio/wav', bytes, [header, samples], call.signal);
      file = { sha256: artifact.sha256, audio: { artifact } };
    } else {
      const wav = Buffer.concat([header, samples]);
      file = {
        sha256: createHash('sha256').update(wav).digest('hex'),
        encoding: 'base64',
        audio: wav.toString('base64'),
      };
    }
    return exampleOutput({
      text: p.text,
      voice: p.voice,
      speed: p.speed,
      format: 'wav',
      mimeType: 'audio/wav',
      sampleRate: clip.sampleRate,
      bitsPerSample: clip.bitsPerSample,
      channels: 1,
      durationSeconds: Math.round((clip.samples / clip.sampleRate) * 1000) / 1000,
      bytes,
      ...file,
    });
  },
});

/** The example media factory: images, videos and speech, without any model. */
export const mediaFactory: FactoryDefinition = {
  name: 'media-factory',
  factoryType: 'media',
  version: '0.2.0',
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
