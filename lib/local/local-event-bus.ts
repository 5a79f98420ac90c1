import { randomUUID } from 'node:crypto';

/** What a publisher sends, shaped like a `PutEvents` entry. */
export interface EventEntry {
  Source: string;
  DetailType: string;
  Detail: string;
}

export interface EventRule {
  source: string;
  detailType: string;
  target(event: Record<string, unknown>): void;
}

/**
 * An in-process stand-in for an EventBridge bus: entries become real EventBridge events (id,
 * time, account, region...) and go to every rule whose source and detail-type match.
 */
export class LocalEventBus {
  readonly #rules: EventRule[] = [];
  constructor(readonly name: string) {}

  addRule(rule: EventRule): void {
    this.#rules.push(rule);
  }

  putEvents(entries: readonly EventEntry[]): { entries: Array<{ eventId: string; matched: number }> } {
    return {
      entries: entries.map((entry) => {
        const event = {
          version: '0',
          id: randomUUID(),
          'detail-type': entry.DetailType,
          source: entry.Source,
          account: '000000000000',
          time: new Date().toISOString(),
          region: 'local',
          resources: [],
          detail: JSON.parse(entry.Detail),
        };
        const matching = this.#rules.filter(
          (r) => r.source === entry.Source && r.detailType === entry.DetailType,
        );
        for (const rule of matching) rule.target(event);
        return { eventId: event.id, matched: matching.length };
      }),
    };
  }
}
