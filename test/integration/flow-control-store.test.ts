import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { FlowControlStore, type FlowGrant, type FlowLease } from '../../lib/store/flow-control-store.ts';
import { backends, createStack, manualClock, tableSnapshot } from '../helpers/stack.ts';

/** A document client that records the name of every command it sends. */
function counting(doc: DynamoDBDocumentClient): { doc: DynamoDBDocumentClient; sent: string[] } {
  const sent: string[] = [];
  const counted = new Proxy(doc, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: { constructor: { name: string } }, ...rest: unknown[]) => {
        sent.push(command.constructor.name);
        return (target.send as (...args: unknown[]) => unknown)(command, ...rest);
      };
    },
  });
  return { doc: counted, sent };
}

function leaseOf(grant: FlowGrant): FlowLease {
  if (!grant.granted) throw new Error(`expected a grant, got a refusal: ${grant.reason}`);
  return grant.lease;
}

async function flowStack(backend: Parameters<typeof createStack>[0], start?: string) {
  const stack = await createStack(backend);
  const clock = manualClock(start);
  const { doc, sent } = counting(stack.doc);
  const flow = new FlowControlStore(doc, { table: stack.tables.registry, now: clock.now });
  return { stack, clock, flow, sent };
}

const LEASE_MS = 30_000;

describe.each(backends())('flow control on $kind', (backend) => {
  it('grants exactly maxInFlight of 40 concurrent acquires, and refuses the rest with the reason', async () => {
    const { flow } = await flowStack(backend);
    const grants = await Promise.all(
      Array.from({ length: 40 }, () => flow.acquire('media-a', { maxInFlight: 5 }, LEASE_MS)),
    );
    const granted = grants.filter((g) => g.granted);
    expect(granted).toHaveLength(5);
    expect(new Set(granted.map((g) => leaseOf(g).id)).size).toBe(5);
    const refused = grants.filter((g) => !g.granted);
    expect(refused).toHaveLength(35);
    for (const refusal of refused)
      expect(refusal).toEqual({
        granted: false,
        limit: 'inFlight',
        reason: 'media-a has 5 of 5 calls in flight',
        // The clock stands still: the earliest lease frees its slot a whole lease from now.
        retryAfterMs: LEASE_MS,
      });
    expect(await flow.usage('media-a')).toEqual({ inFlight: 5, thisMinute: 0 });
  });

  it('a release frees a slot, and releasing twice frees it only once', async () => {
    const { flow } = await flowStack(backend);
    const limits = { maxInFlight: 2 };
    const first = leaseOf(await flow.acquire('media-a', limits, LEASE_MS));
    leaseOf(await flow.acquire('media-a', limits, LEASE_MS));
    expect((await flow.acquire('media-a', limits, LEASE_MS)).granted).toBe(false);

    await flow.release(first);
    await flow.release(first);
    expect(await flow.usage('media-a')).toEqual({ inFlight: 1, thisMinute: 0 });
    // One slot came back, not two.
    expect((await flow.acquire('media-a', limits, LEASE_MS)).granted).toBe(true);
    expect((await flow.acquire('media-a', limits, LEASE_MS)).granted).toBe(false);
  });

  it('reclaims the slot of a lease that expired unreleased, and its late release is harmless', async () => {
    const { flow, clock } = await flowStack(backend);
    const limits = { maxInFlight: 2 };
    const crashed = leaseOf(await flow.acquire('media-a', limits, 10_000));
    clock.advance(2_000);
    leaseOf(await flow.acquire('media-a', limits, 10_000));
    clock.advance(2_000);
    expect(await flow.acquire('media-a', limits, 10_000)).toEqual({
      granted: false,
      limit: 'inFlight',
      reason: 'media-a has 2 of 2 calls in flight',
      retryAfterMs: 6_000,
    });

    clock.advance(7_000); // the first lease expired 1 s ago, the second is live
    const taken = leaseOf(await flow.acquire('media-a', limits, 10_000));
    expect(taken.id).not.toBe(crashed.id);
    expect(await flow.usage('media-a')).toEqual({ inFlight: 2, thisMinute: 0 });

    await flow.release(crashed);
    expect((await flow.acquire('media-a', limits, 10_000)).granted).toBe(false);
    await flow.release(taken);
    expect((await flow.acquire('media-a', limits, 10_000)).granted).toBe(true);
    expect((await flow.acquire('media-a', limits, 10_000)).granted).toBe(false);
  });

  it('40 concurrent acquires over expired leases share exactly the reclaimed slots', async () => {
    const { flow, clock } = await flowStack(backend);
    const limits = { maxInFlight: 5 };
    for (let i = 0; i < 5; i++) leaseOf(await flow.acquire('media-a', limits, 1_000));
    clock.advance(1_001);
    const grants = await Promise.all(
      Array.from({ length: 40 }, () => flow.acquire('media-a', limits, LEASE_MS)),
    );
    expect(grants.filter((g) => g.granted)).toHaveLength(5);
    expect(await flow.usage('media-a')).toEqual({ inFlight: 5, thisMinute: 0 });
    // Had a reclaim uncounted a lease twice, a sixth acquire would get through.
    expect((await flow.acquire('media-a', limits, LEASE_MS)).granted).toBe(false);
  });

  it('refuses the (limit+1)th call of a minute until the next minute', async () => {
    const { flow, clock } = await flowStack(backend, '2026-01-15T10:00:30.000Z');
    const limits = { callsPerMinute: 3 };
    for (let i = 0; i < 3; i++)
      expect(leaseOf(await flow.acquire('media-a', limits, LEASE_MS)).minute).toBe('2026-01-15T10:00');
    clock.advance(20_000);
    expect(await flow.acquire('media-a', limits, LEASE_MS)).toEqual({
      granted: false,
      limit: 'perMinute',
      reason: 'media-a has made 3 of 3 calls this minute',
      retryAfterMs: 10_000,
    });
    expect(await flow.usage('media-a')).toEqual({ inFlight: 0, thisMinute: 3 });

    clock.advance(10_000);
    expect(leaseOf(await flow.acquire('media-a', limits, LEASE_MS)).minute).toBe('2026-01-15T10:01');
    expect(await flow.usage('media-a')).toEqual({ inFlight: 0, thisMinute: 1 });
  });

  it('grants exactly callsPerMinute of 40 concurrent acquires', async () => {
    const { flow } = await flowStack(backend);
    const grants = await Promise.all(
      Array.from({ length: 40 }, () => flow.acquire('media-a', { callsPerMinute: 7 }, LEASE_MS)),
    );
    expect(grants.filter((g) => g.granted)).toHaveLength(7);
    expect(await flow.usage('media-a')).toEqual({ inFlight: 0, thisMinute: 7 });
  });

  it('a refusal for calls in flight gives the minute its call back', async () => {
    const { flow } = await flowStack(backend);
    const limits = { maxInFlight: 1, callsPerMinute: 2 };
    const held = leaseOf(await flow.acquire('media-a', limits, LEASE_MS));
    for (let i = 0; i < 3; i++)
      expect(await flow.acquire('media-a', limits, LEASE_MS)).toMatchObject({
        granted: false,
        reason: 'media-a has 1 of 1 calls in flight',
      });
    expect(await flow.usage('media-a')).toEqual({ inFlight: 1, thisMinute: 1 });

    await flow.release(held);
    expect((await flow.acquire('media-a', limits, LEASE_MS)).granted).toBe(true);
    expect(await flow.usage('media-a')).toEqual({ inFlight: 1, thisMinute: 2 });
  });

  it('a service without limits is granted, and released, without a request or a write', async () => {
    const { stack, flow, sent } = await flowStack(backend);
    const before = await tableSnapshot(stack);
    const grant = await flow.acquire('media-a', {}, LEASE_MS);
    expect(grant.granted).toBe(true);
    await flow.release(leaseOf(grant));
    expect(sent).toEqual([]);
    expect(await tableSnapshot(stack)).toBe(before);
  });

  it('an uncontended acquire costs one request per limit, a release one', async () => {
    const { flow, sent } = await flowStack(backend);
    const both = { maxInFlight: 3, callsPerMinute: 100 };
    await flow.release(leaseOf(await flow.acquire('media-a', both, LEASE_MS))); // creates the items

    sent.length = 0;
    const lease = leaseOf(await flow.acquire('media-a', both, LEASE_MS));
    expect(sent).toEqual(['UpdateCommand', 'UpdateCommand']);
    sent.length = 0;
    await flow.release(lease);
    expect(sent).toEqual(['UpdateCommand']);

    sent.length = 0;
    await flow.release(leaseOf(await flow.acquire('media-a', { callsPerMinute: 100 }, LEASE_MS)));
    expect(sent).toEqual(['UpdateCommand']);
  });

  it('refuses limits that would refuse every call', async () => {
    const { flow, sent } = await flowStack(backend);
    await expect(flow.acquire('media-a', { maxInFlight: 0 }, LEASE_MS)).rejects.toThrow(RangeError);
    await expect(flow.acquire('media-a', { callsPerMinute: 1.5 }, LEASE_MS)).rejects.toThrow(RangeError);
    await expect(flow.acquire('media-a', { maxInFlight: 1 }, 0)).rejects.toThrow(RangeError);
    expect(sent).toEqual([]);
  });
});
