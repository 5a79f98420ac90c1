import { mulberry32 } from '../../core/random.ts';
import type { Raster } from './png.ts';

/**
 * Uncompressed video in YUV4MPEG2 (`.y4m`, `video/x-yuv4mpeg`), the plain format video tools read
 * and write (ffmpeg, mpv, x264): a one-line text header, then each frame as `FRAME\n` followed by
 * its Y plane and its two chroma planes at half width and half height (4:2:0).
 */

export const Y4M_MIME_TYPE = 'video/x-yuv4mpeg';
const FRAME_MARKER = Buffer.from('FRAME\n', 'ascii');

export interface VideoFormat {
  /** Even, so the chroma planes are exactly half the size. */
  width: number;
  height: number;
  /** Frames per second (whole frames). */
  fps: number;
  frames: number;
}

/** The stream header: size, rate, progressive, square pixels, 4:2:0 chroma. */
export function y4mHeader(format: Omit<VideoFormat, 'frames'>): Buffer {
  return Buffer.from(
    `YUV4MPEG2 W${format.width} H${format.height} F${format.fps}:1 Ip A1:1 C420jpeg\n`,
    'ascii',
  );
}

/** Bytes of one frame's planes (without its `FRAME` line). */
export function y4mFrameBytes(width: number, height: number): number {
  return width * height + 2 * (width / 2) * (height / 2);
}

/** Bytes of the whole file. */
export function y4mBytes(format: VideoFormat): number {
  return (
    y4mHeader(format).length +
    format.frames * (FRAME_MARKER.length + y4mFrameBytes(format.width, format.height))
  );
}

/** A still in Y'CbCr (BT.601, studio range, as YUV4MPEG2 players assume), at its own size. */
export interface Plate {
  width: number;
  height: number;
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
}

export function plateOf(raster: Raster): Plate {
  const pixels = raster.width * raster.height;
  const plate = {
    width: raster.width,
    height: raster.height,
    y: new Uint8Array(pixels),
    cb: new Uint8Array(pixels),
    cr: new Uint8Array(pixels),
  };
  for (let i = 0; i < pixels; i++) {
    const r = raster.rgb[i * 3] as number;
    const g = raster.rgb[i * 3 + 1] as number;
    const b = raster.rgb[i * 3 + 2] as number;
    plate.y[i] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
    plate.cb[i] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
    plate.cr[i] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
  }
  return plate;
}

/** How a shot ends: cut, blend into the next, dissolve pixel by pixel, wipe, or fade to black. */
export type Transition = 'cut' | 'crossfade' | 'dissolve' | 'wipe' | 'fade-out';

/** One shot: a still filmed with a slow zoom and pan (pan ends in -1..1 of the room there is). */
export interface Shot {
  startFrame: number;
  frameCount: number;
  transition: Transition;
  plate: Plate;
  zoom: [from: number, to: number];
  pan: [fromX: number, fromY: number, toX: number, toY: number];
}

/** Half a second of blending at each end of a shot that blends, at most half the shot. */
function transitionFrames(fps: number, frameCount: number): number {
  return Math.min(Math.round(fps / 2), Math.floor(frameCount / 2));
}

/**
 * The whole file, chunk by chunk (the header, then one chunk per frame), made as it is read: a
 * long video is never whole in memory. Shots must cover frames 0 to `format.frames` in order.
 */
export function* y4mChunks(format: VideoFormat, shots: readonly Shot[]): Generator<Buffer> {
  const { width: w, height: h } = format;
  const luma = w * h;
  const chroma = (w / 2) * (h / 2);
  const frameBytes = y4mFrameBytes(w, h);
  const scratch = Buffer.alloc(frameBytes);
  // A fixed threshold per pixel: a dissolve shows the next shot where the threshold is passed.
  const random = mulberry32(0x5eed);
  const thresholds = Uint8Array.from({ length: luma }, () => Math.floor(random() * 255));
  yield y4mHeader(format);
  let index = 0;
  for (let frame = 0; frame < format.frames; frame++) {
    while (index < shots.length - 1 && frame >= (shots[index + 1] as Shot).startFrame) index += 1;
    const shot = shots[index] as Shot;
    const next = shots[index + 1];
    const out = Buffer.allocUnsafe(FRAME_MARKER.length + frameBytes);
    FRAME_MARKER.copy(out, 0);
    const planes = out.subarray(FRAME_MARKER.length);
    const into = frame - shot.startFrame;
    film(shot, shot.frameCount > 1 ? into / (shot.frameCount - 1) : 0, w, h, planes);
    const blend = shot.transition === 'cut' ? 0 : transitionFrames(format.fps, shot.frameCount);
    const left = shot.frameCount - into;
    const alpha = (blend - left + 1) / (blend + 1);
    if (blend > 0 && left <= blend) {
      if (shot.transition === 'fade-out') {
        for (let i = 0; i < luma; i++)
          planes[i] = Math.round(16 + ((planes[i] as number) - 16) * (1 - alpha));
        for (let i = luma; i < frameBytes; i++)
          planes[i] = Math.round(128 + ((planes[i] as number) - 128) * (1 - alpha));
      } else if (next) {
        film(next, 0, w, h, scratch);
        for (let i = 0; i < frameBytes; i++) {
          // Position of byte i on the picture, for the chroma planes too.
          const c = i < luma ? -1 : (i - luma) % chroma;
          const x = c < 0 ? i % w : (c % (w / 2)) * 2;
          const y = c < 0 ? Math.floor(i / w) : Math.floor(c / (w / 2)) * 2;
          const a = planes[i] as number;
          const b = scratch[i] as number;
          if (shot.transition === 'crossfade') planes[i] = Math.round(a + (b - a) * alpha);
          else if (shot.transition === 'wipe') planes[i] = x < alpha * w ? b : a;
          else planes[i] = (thresholds[y * w + x] as number) < alpha * 255 ? b : a;
        }
      }
    }
    yield out;
  }
}

/** Draws the shot at `progress` (0 to 1) into Y, Cb and Cr planes, nearest pixel. */
function film(shot: Shot, progress: number, w: number, h: number, planes: Uint8Array): void {
  const { plate } = shot;
  const zoom = shot.zoom[0] + (shot.zoom[1] - shot.zoom[0]) * progress;
  // The largest window of the video's shape that fits the still, then zoomed in.
  const fit = Math.min(plate.width / w, plate.height / h);
  const viewW = (w * fit) / zoom;
  const viewH = (h * fit) / zoom;
  const [fromX, fromY, toX, toY] = shot.pan;
  const panX = fromX + (toX - fromX) * progress;
  const panY = fromY + (toY - fromY) * progress;
  const left = (plate.width - viewW) / 2 + (panX * (plate.width - viewW)) / 2;
  const top = (plate.height - viewH) / 2 + (panY * (plate.height - viewH)) / 2;
  const column = (x: number) => Math.min(plate.width - 1, Math.max(0, Math.floor(left + (x * viewW) / w)));
  const row = (y: number) => Math.min(plate.height - 1, Math.max(0, Math.floor(top + (y * viewH) / h)));
  const columns = Int32Array.from({ length: w }, (_, x) => column(x + 0.5));
  for (let y = 0; y < h; y++) {
    const from = row(y + 0.5) * plate.width;
    for (let x = 0; x < w; x++) planes[y * w + x] = plate.y[from + (columns[x] as number)] as number;
  }
  const cw = w / 2;
  const ch = h / 2;
  const chromaColumns = Int32Array.from({ length: cw }, (_, x) => column(2 * x + 1));
  for (let y = 0; y < ch; y++) {
    const from = row(2 * y + 1) * plate.width;
    for (let x = 0; x < cw; x++) {
      const at = from + (chromaColumns[x] as number);
      planes[w * h + y * cw + x] = plate.cb[at] as number;
      planes[w * h + cw * ch + y * cw + x] = plate.cr[at] as number;
    }
  }
}
