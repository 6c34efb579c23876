import fs from 'node:fs';
import path from 'node:path';
import { capacitySummary, sustained, type ConversationLevel, type HoldLevel } from '../../bench/capacity';
import { capacitySection, README_BEGIN, README_END, withReadmeSection } from '../../bench/capacity-report';
import { costOf, loadPrices, usageOf } from '../../bench/cost';
import type { BenchResults } from '../../bench/report';
import { PROJECT_ROOT as ROOT } from '../../dev/paths';

const summary = (n: number) => ({ n, min: 50, p50: 80, p95: 120, p99: 200, max: 300, mean: 90 });
const hold = (callers: number, refused = 0): HoldLevel => ({
  callers,
  turns: callers * 2,
  refused,
  errors: 0,
  turn: summary(callers),
  peakInFlight: 9,
  ok: refused === 0,
});
const talk = (design: ConversationLevel['design'], conversations: number, refused = 0): ConversationLevel => ({
  design,
  conversations,
  delivered: conversations,
  refused,
  errors: 0,
  errorSamples: [],
  peakInFlight: 12,
  elapsedSeconds: 20,
  ok: refused === 0,
});

describe('capacity summary', () => {
  it('reports the largest level that passed, and only its refusals', () => {
    const c = capacitySummary(
      30,
      [hold(500), hold(1000), hold(2000, 4)],
      [talk('long-poll', 15), talk('long-poll', 30, 7), talk('execution', 300), talk('execution', 600)],
      [],
    );
    expect(c.heldCallers).toBe(1000);
    expect(c.heldCallersAtLeast).toBe(false);
    expect(c.messagingConversations).toBe(600);
    expect(c.messagingConversationsAtLeast).toBe(true);
    expect(c.longPollConversations).toBe(15);
    expect(c.refused).toBe(0);
    expect(c.missed).toEqual([]);
  });

  it('says which goal was missed and why', () => {
    const c = capacitySummary(30, [hold(500, 2)], [talk('execution', 300, 1)], []);
    expect(c.heldCallers).toBe(0);
    expect(c.missed[0]).toMatch(/held callers 0 < 1000: at 500, 2 refused/);
    expect(c.missed[1]).toMatch(/conversations 0 < 300: at 300, 1 refused/);
    expect(sustained([], () => 1)).toBe(0);
  });
});

describe('cost of a job', () => {
  const prices = loadPrices();

  it('prices what has a price and lists what has none', () => {
    const footprint = {
      channel: 'voice' as const,
      mode: 'push',
      invocations: 6,
      executionSeconds: 1.2,
      twilioCalls: 8,
      syncCalls: 7,
      perMinute: { invocations: 6, executionSeconds: 0.6, twilioCalls: 6, syncCalls: 6 },
      studioExecutions: 1,
      callUpdates: 1,
    };
    const usage = usageOf(footprint, 2);
    expect(usage).toEqual({
      functionInvocation: 18,
      syncAction: 19,
      studioExecution: 1,
      callUpdate: 1,
      conferenceParticipantMinute: 2,
      inboundVoiceMinute: 2,
    });
    const cost = costOf('voice, push', usage, prices);
    const expected =
      18 * prices.items.functionInvocation.usd! +
      2 * prices.items.conferenceParticipantMinute.usd! +
      2 * prices.items.inboundVoiceMinute.usd!;
    expect(cost.knownUsd).toBeCloseTo(expected, 6);
    expect(cost.unpriced.sort()).toEqual(['studioExecution', 'syncAction']);
  });

  it('keeps every price with its source and date in one file', () => {
    for (const item of Object.values(prices.items)) {
      expect(item.source.length).toBeGreaterThan(10);
      expect(item.usd === null || item.usd >= 0).toBe(true);
    }
  });
});

describe('README capacity section', () => {
  it('is the one the committed benchmark results render', () => {
    const results = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'bench', 'results', 'summary.json'), 'utf8'),
    ) as BenchResults;
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(README_BEGIN);
    expect(readme).toContain(README_END);
    expect(results.capacity).toBeDefined();
    expect(withReadmeSection(readme, capacitySection(results.capacity!, loadPrices()))).toBe(readme);
  });
});
