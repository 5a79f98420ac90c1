import { describe, expect, it } from 'vitest';
import { presetWindow } from '../../../console/src/format.ts';
import { fieldPath, locateJsonPath } from '../../../console/src/json-locate.ts';
import { findMedia, readableJson } from '../../../console/src/media.ts';

const TEMPLATE = `{
  "workflow_id": "x",
  "steps": [
    { "step_id": "a", "dependencies": [] },
    { "step_id": "b", "factory_type": "nope", "dependencies": ["a", "ghost"] }
  ]
}`;

describe('finding a field the API names in the text typed', () => {
  it('selects the value at the path', () => {
    const range = locateJsonPath(TEMPLATE, fieldPath('steps.1.dependencies.1'));
    expect(range && TEMPLATE.slice(range.start, range.end)).toBe('"ghost"');
    const type = locateJsonPath(TEMPLATE, fieldPath('body.steps.1.factory_type'));
    expect(type && TEMPLATE.slice(type.start, type.end)).toBe('"nope"');
  });

  it('points at the object that lacks a missing field', () => {
    const range = locateJsonPath(TEMPLATE, fieldPath('steps.0.name'));
    expect(range?.depth).toBe(2);
    expect(range && TEMPLATE.slice(range.start, range.end)).toBe('{ "step_id": "a", "dependencies": [] }');
  });

  it('gives up on text that is not JSON', () => {
    expect(locateJsonPath('{ "steps": [', ['steps'])).toBeUndefined();
  });
});

describe('showing outputs', () => {
  it('finds inline images, artifact sounds and other artifacts', () => {
    const media = findMedia({
      images: [{ prompt: 'hero', mimeType: 'image/png', encoding: 'base64', data: 'iVBORw0K', bytes: 6 }],
      narration: {
        text: 'hello',
        mimeType: 'audio/wav',
        audio: { artifact: { id: 'a1', mimeType: 'audio/wav', bytes: 9 } },
      },
      video: { artifact: { id: 'v1', mimeType: 'video/x-yuv4mpeg' } },
      notes: 'plain text',
    });
    expect(media.map(({ kind, src, label }) => ({ kind, src, label }))).toEqual([
      { kind: 'image', src: 'data:image/png;base64,iVBORw0K', label: 'hero' },
      { kind: 'audio', src: '/artifacts/a1', label: 'hello' },
      { kind: 'file', src: '/artifacts/v1', label: undefined },
    ]);
  });

  it('shortens base64 in the JSON shown', () => {
    const shown = readableJson({ data: 'A'.repeat(4_000), name: 'x' }) as Record<string, string>;
    expect(shown.data).toBe('‹3 KB of base64›');
    expect(shown.name).toBe('x');
  });
});

describe('time window presets', () => {
  it('makes yesterday the local calendar day before today', () => {
    const now = new Date(2026, 11, 2, 15, 30).getTime();
    const window = presetWindow('yesterday', now);
    expect(new Date(window.since).getTime()).toBe(new Date(2026, 11, 1).getTime());
    expect(new Date(window.until as string).getTime()).toBe(new Date(2026, 11, 2).getTime());
  });
});
