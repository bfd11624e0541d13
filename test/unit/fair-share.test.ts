/** The fair share a pod may claim: pure arithmetic over the registry's view. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimBudget, type PeerView } from '../../src/core/placement/fair-share';

const peer = (owned: number, processing = true): PeerView => ({ owned, processing, seenAt: 0 });

function budget(
  owned: number,
  peers: Record<string, PeerView>,
  extra: { pendingSpawns?: number; recentlyStale?: number; warming?: boolean } = {},
): number {
  return claimBudget({
    self: 'me',
    owned,
    peers: new Map(Object.entries(peers)),
    pendingSpawns: extra.pendingSpawns ?? 0,
    recentlyStale: extra.recentlyStale ?? 0,
    warming: extra.warming ?? false,
  });
}

describe('fair share', () => {
  it('alone after warming up: no limit; alone while warming up: one at a time', () => {
    assert.equal(budget(5, { me: peer(5) }), Number.MAX_SAFE_INTEGER);
    assert.equal(budget(0, { me: peer(0) }, { warming: true }), 1);
    assert.equal(budget(1, { me: peer(1) }, { warming: true }), 0);
  });

  it('an even share of held and waiting entities, plus 10% slack (at least 1)', () => {
    // 2 pods, 10 held by the other, 0 here, 9 waiting: share ceil((10+9+1)/2) = 10, slack 1.
    assert.equal(budget(0, { me: peer(0), other: peer(10) }, { pendingSpawns: 9 }), 11);
    // 40 held on 2 pods: share 21, slack 2; holding 20 already leaves 3.
    assert.equal(budget(20, { me: peer(20), other: peer(20) }), 3);
    assert.equal(budget(30, { me: peer(30), other: peer(5) }), 0, 'never negative');
  });

  it('producer-only pods do not count as peers', () => {
    assert.equal(budget(3, { me: peer(3), producer: peer(0, false) }), Number.MAX_SAFE_INTEGER);
  });

  it('while warming up, recently stale pods count and there is no slack', () => {
    // After a Redis restart: two pods back, one stale, 9 entities waiting. The share counts the
    // entity being claimed: ceil((0 + 9 + 1) / 3) = 4, no slack.
    const peers = { me: peer(0), other: peer(0) };
    assert.equal(budget(0, peers, { pendingSpawns: 9, recentlyStale: 1, warming: true }), 4);
    // Holding 3 with 6 waiting: ceil((3 + 6 + 1) / 3) = 4, so one more.
    assert.equal(budget(3, peers, { pendingSpawns: 6, recentlyStale: 1, warming: true }), 1);
    assert.equal(budget(4, peers, { pendingSpawns: 5, recentlyStale: 1, warming: true }), 0);
    // Once warm, the stale pod no longer counts and the slack is back.
    assert.equal(budget(0, peers, { pendingSpawns: 9, recentlyStale: 1 }), 6);
  });
});
