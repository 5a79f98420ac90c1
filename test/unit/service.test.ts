import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OUTLIER_POLICY,
  effectiveHealth,
  eligibleServices,
  isCapable,
  serviceInputSchema,
} from '../../lib/core/service.ts';
import { parseInput } from '../../lib/core/validation.ts';
import { makeService, manualClock } from './support.ts';

const NOW = new Date('2026-01-15T10:00:00.000Z');
const everyone = () => true;

describe('isCapable', () => {
  const email = makeService('email-ai', { capabilities: ['email_campaign', 'send_newsletter'] });

  it('accepts a task whose type the service lists', () => {
    expect(isCapable(email, { type: 'email_campaign' })).toBe(true);
  });

  it('accepts a task whose action the service lists, whatever its type', () => {
    expect(isCapable(email, { type: 'marketing', action: 'send_newsletter' })).toBe(true);
  });

  it('refuses a task whose type and action it does not list', () => {
    expect(isCapable(email, { type: 'video_generation' })).toBe(false);
    expect(isCapable(email, { type: 'video_generation', action: 'render' })).toBe(false);
  });

  it('matches capabilities exactly, not by prefix or case', () => {
    expect(isCapable(email, { type: 'email' })).toBe(false);
    expect(isCapable(email, { type: 'Email_Campaign' })).toBe(false);
  });

  it('restricts to the factory type when the task names one', () => {
    const media = makeService('media-1', { capabilities: ['image_generation'], factoryType: 'media' });
    const plain = makeService('plain', { capabilities: ['image_generation'] });
    expect(isCapable(media, { type: 'image_generation', factoryType: 'media' })).toBe(true);
    expect(isCapable(plain, { type: 'image_generation', factoryType: 'media' })).toBe(false);
    expect(isCapable(media, { type: 'image_generation', factoryType: 'research' })).toBe(false);
    // the factory type alone is not enough: the capability is still required
    expect(isCapable(media, { type: 'market_research', factoryType: 'media' })).toBe(false);
    // without a factory type on the task, any family is fine
    expect(isCapable(media, { type: 'image_generation' })).toBe(true);
  });
});

describe('effectiveHealth', () => {
  it('passes healthy and degraded through', () => {
    expect(effectiveHealth(makeService('a'), NOW)).toBe('healthy');
    expect(effectiveHealth(makeService('a', { health: 'degraded' }), NOW)).toBe('degraded');
    // a stale cooldown on a service that is not unhealthy changes nothing
    expect(
      effectiveHealth(
        makeService('a', { health: 'healthy', cooldownUntil: '2026-01-15T11:00:00.000Z' }),
        NOW,
      ),
    ).toBe('healthy');
  });

  it('keeps an unhealthy service unhealthy without a cooldown', () => {
    expect(effectiveHealth(makeService('a', { health: 'unhealthy' }), NOW)).toBe('unhealthy');
  });

  it('keeps it unhealthy during the cooldown and turns it degraded once the cooldown is over', () => {
    const clock = manualClock('2026-01-15T10:00:00.000Z');
    const service = makeService('a', {
      health: 'unhealthy',
      cooldownUntil: new Date(
        clock.now().getTime() + DEFAULT_OUTLIER_POLICY.cooldownSeconds * 1000,
      ).toISOString(),
    });
    expect(effectiveHealth(service, clock.now())).toBe('unhealthy');
    clock.advance(29_999);
    expect(effectiveHealth(service, clock.now())).toBe('unhealthy');
    clock.advance(1);
    expect(effectiveHealth(service, clock.now())).toBe('degraded');
    clock.advance(3_600_000);
    expect(effectiveHealth(service, clock.now())).toBe('degraded');
  });

  it('has a default outlier policy of 5 failures and a 30 s cooldown', () => {
    expect(DEFAULT_OUTLIER_POLICY).toEqual({ failureThreshold: 5, cooldownSeconds: 30 });
  });
});

describe('eligibleServices', () => {
  it('returns the enabled, healthy services that are admitted, in input order', () => {
    const services = [
      makeService('c'),
      makeService('a'),
      makeService('off', { enabled: false }),
      makeService('sick', { health: 'unhealthy' }),
      makeService('slow', { health: 'degraded' }),
      makeService('other', { capabilities: ['x'] }),
    ];
    const eligible = eligibleServices(services, (s) => s.capabilities.includes('generic'), NOW);
    expect(eligible.map((s) => s.name)).toEqual(['c', 'a']);
  });

  it('falls back to degraded services only when no healthy one is admitted', () => {
    const services = [
      makeService('slow', { health: 'degraded' }),
      makeService('sick', { health: 'unhealthy' }),
      makeService('healthy-but-off', { enabled: false }),
      makeService('healthy-elsewhere', { capabilities: ['x'] }),
    ];
    const eligible = eligibleServices(services, (s) => s.capabilities.includes('generic'), NOW);
    expect(eligible.map((s) => s.name)).toEqual(['slow']);
  });

  it('counts a service whose cooldown is over as degraded', () => {
    const services = [
      makeService('recovering', { health: 'unhealthy', cooldownUntil: '2026-01-15T09:59:00.000Z' }),
      makeService('cooling', { health: 'unhealthy', cooldownUntil: '2026-01-15T10:01:00.000Z' }),
    ];
    expect(eligibleServices(services, everyone, NOW).map((s) => s.name)).toEqual(['recovering']);
    // and a healthy one still beats it
    expect(eligibleServices([...services, makeService('fine')], everyone, NOW).map((s) => s.name)).toEqual([
      'fine',
    ]);
  });

  it('never returns unhealthy or disabled services', () => {
    const services = [
      makeService('sick', { health: 'unhealthy' }),
      makeService('off', { enabled: false, health: 'degraded' }),
    ];
    expect(eligibleServices(services, everyone, NOW)).toEqual([]);
    expect(eligibleServices([], everyone, NOW)).toEqual([]);
  });

  it('returns nothing when the admission refuses every service', () => {
    expect(eligibleServices([makeService('a'), makeService('b')], () => false, NOW)).toEqual([]);
  });
});

describe('serviceInputSchema', () => {
  it('fills defaults', () => {
    expect(
      parseInput(serviceInputSchema, {
        name: 'email-ai',
        endpoint: 'http://email-ai:5100',
        capabilities: ['email_campaign'],
      }),
    ).toEqual({
      name: 'email-ai',
      endpoint: 'http://email-ai:5100',
      capabilities: ['email_campaign'],
      weight: 1,
      enabled: true,
      health: 'healthy',
    });
  });

  it.each([
    [{ endpoint: 'ftp://x' }, 'endpoint: must be an http(s) URL'],
    [{ endpoint: 'not a url' }, 'endpoint: must be an http(s) URL'],
    [{ capabilities: [] }, 'capabilities: must list at least one capability'],
    [{ weight: -1 }, 'weight: '],
    [{ health: 'dead' }, 'health: '],
  ])('rejects %o', (patch, message) => {
    expect(() =>
      parseInput(serviceInputSchema, {
        name: 'svc',
        endpoint: 'https://svc.example.com',
        capabilities: ['a'],
        ...patch,
      }),
    ).toThrow(message);
  });
});
