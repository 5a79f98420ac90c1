import { describe, expect, it } from 'vitest';
import { type HealthChange, PassiveHealth } from '../../lib/core/passive-health.ts';
import { makeService, manualClock } from './support.ts';

const POLICY = { failureThreshold: 3, cooldownSeconds: 30 };
const START = '2026-01-15T10:00:00.000Z';
const COOLDOWN_END = '2026-01-15T10:00:30.000Z';

/** Feeds outcomes in order; returns the changes asked for. */
function feed(health: PassiveHealth, service: string, outcomes: boolean[]): HealthChange[] {
  return outcomes.flatMap((ok) => health.observe(service, ok) ?? []);
}

describe('PassiveHealth', () => {
  it('ejects a service after failureThreshold failures in a row, with one change', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);

    expect(health.observe('svc-a', false)).toBeUndefined();
    expect(health.observe('svc-a', false)).toBeUndefined();
    expect(health.observe('svc-a', false)).toEqual({
      service: 'svc-a',
      health: 'unhealthy',
      reason: expect.any(String),
      cooldownUntil: COOLDOWN_END,
    });
  });

  it('shows an ejected service unhealthy with its cooldown, whatever the registry copy says', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);
    feed(health, 'svc-a', [false, false, false]);

    const [a, b] = health.apply([makeService('svc-a'), makeService('svc-b')]);
    expect(a).toMatchObject({ name: 'svc-a', health: 'unhealthy', cooldownUntil: COOLDOWN_END });
    expect(b).toMatchObject({ name: 'svc-b', health: 'healthy' });
    expect(b?.cooldownUntil).toBeUndefined();
  });

  it('lets an ejection last its cooldown even when a call in flight then succeeds', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);
    feed(health, 'svc-a', [false, false, false]);
    clock.advance(1_000);

    expect(health.observe('svc-a', true)).toBeUndefined();
    expect(health.apply([makeService('svc-a')])[0]).toMatchObject({
      health: 'unhealthy',
      cooldownUntil: COOLDOWN_END,
    });
  });

  it('asks for no new change for failures during the cooldown', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);
    expect(feed(health, 'svc-a', [false, false, false])).toHaveLength(1);

    clock.advance(10_000);
    expect(feed(health, 'svc-a', [false, false, false, false, false, false, false])).toEqual([]);
    expect(health.apply([makeService('svc-a')])[0]?.cooldownUntil).toBe(COOLDOWN_END);
  });

  it('starts the streak again after a success', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);

    expect(feed(health, 'svc-a', [false, false, true, false, false])).toEqual([]);
    expect(health.apply([makeService('svc-a')])[0]?.health).toBe('healthy');
    expect(feed(health, 'svc-a', [false])).toHaveLength(1);
  });

  it('counts streaks per service', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);

    expect(feed(health, 'svc-a', [false, false])).toEqual([]);
    expect(feed(health, 'svc-b', [false, false])).toEqual([]);
    expect(feed(health, 'svc-b', [false]).map((c) => c.service)).toEqual(['svc-b']);
  });

  it('returns the registry copy once the cooldown is over', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);
    feed(health, 'svc-a', [false, false, false]);
    const stored = makeService('svc-a', {
      health: 'unhealthy',
      cooldownUntil: COOLDOWN_END,
      healthReason: 'ejected after 3 consecutive failures',
    });

    clock.set('2026-01-15T10:00:30.001Z');
    expect(health.apply([stored])).toEqual([stored]);
    // The registry copy rules from now on: one it shows healthy is healthy here too.
    expect(health.apply([makeService('svc-a')])[0]?.health).toBe('healthy');
  });

  it('asks to mark a service it ejected healthy again after a success', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);
    feed(health, 'svc-a', [false, false, false]);

    clock.advance(31_000);
    expect(health.observe('svc-a', true)).toEqual({
      service: 'svc-a',
      health: 'healthy',
      reason: expect.any(String),
    });
    // The recovery is asked for once.
    expect(health.observe('svc-a', true)).toBeUndefined();
  });

  it('asks to mark a service another worker ejected healthy again after a success', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);
    const ejected = makeService('svc-a', { health: 'unhealthy', cooldownUntil: '2026-01-15T09:59:50.000Z' });

    expect(health.observe('svc-a', true, ejected)).toMatchObject({ service: 'svc-a', health: 'healthy' });
  });

  it('asks for nothing after a success of a service that was not ejected', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);

    expect(health.observe('svc-a', true, makeService('svc-a'))).toBeUndefined();
    expect(health.observe('svc-a', true)).toBeUndefined();
    // Marked unhealthy without a cooldown is not an ejection: passive health leaves it alone.
    expect(health.observe('svc-a', true, makeService('svc-a', { health: 'unhealthy' }))).toBeUndefined();
  });

  it('counts the calls in flight into load', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);
    const stored = makeService('svc-a', { load: 0 });

    health.begin('svc-a');
    health.begin('svc-a');
    health.begin('svc-b');
    expect(health.apply([stored, makeService('svc-b'), makeService('svc-c')]).map((s) => s.load)).toEqual([
      2, 1, 0,
    ]);

    health.end('svc-a');
    expect(health.apply([stored])[0]?.load).toBe(1);
    health.end('svc-a');
    health.end('svc-a'); // one end too many never goes below zero
    expect(health.apply([stored])[0]?.load).toBe(0);
    health.begin('svc-a');
    expect(health.apply([stored])[0]?.load).toBe(1);
  });

  it('keeps the load of an ejected service', () => {
    const clock = manualClock(START);
    const health = new PassiveHealth(POLICY, clock.now);
    health.begin('svc-a');
    feed(health, 'svc-a', [false, false, false]);

    expect(health.apply([makeService('svc-a')])[0]).toMatchObject({ health: 'unhealthy', load: 1 });
  });
});
