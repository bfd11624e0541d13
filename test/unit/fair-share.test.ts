/** The fair share a pod may claim: pure arithmetic over the registry's view. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  claimBudget,
  rebalanceMoves,
  roomElsewhere,
  type PeerView,
} from '../../src/core/placement/fair-share';

const peer = (owned: number, processing = true): PeerView => ({ owned, processing, seenAt: 0 });

function budget(
  owned: number,
  peers: Record<string, PeerView>,
  extra: {
    pendingSpawns?: number;
    recentlyStale?: number;
    warming?: boolean;
    inFlight?: number;
    fresh?: boolean;
  } = {},
): number {
  return claimBudget({
    self: 'me',
    owned,
    inFlight: extra.inFlight,
    fresh: extra.fresh,
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

  it('alone while warming up, with the registry read just now: as many more as it holds', () => {
    const warming = (owned: number, inFlight = 0): number =>
      budget(owned, { me: peer(owned) }, { warming: true, inFlight, fresh: true });
    assert.equal(warming(0), 1, 'holding none: one');
    assert.equal(warming(1), 1);
    assert.equal(warming(4), 4, 'doubles per round trip');
    // Claims on their way count against it.
    assert.equal(warming(1, 1), 0, 'the first claim still on its way');
    assert.equal(warming(6, 2), 2, 'holding 4, 2 on their way: 2 more');
    assert.equal(warming(8, 4), 0);
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

function moves(
  owned: number,
  others: number[],
  pendingSpawns = 0,
  maxMoves = 50,
  handingOver = 0,
): number {
  const peers = new Map<string, PeerView>([['me', peer(owned)]]);
  others.forEach((n, i) => peers.set(`p${i}`, peer(n)));
  const tolerance = 0.15;
  return rebalanceMoves({
    self: 'me',
    owned,
    peers,
    pendingSpawns,
    handingOver,
    tolerance,
    maxMoves,
  });
}

describe('rebalance moves', () => {
  it('a pod holding everything gives down to the even share, at most maxMoves a round', () => {
    assert.equal(moves(300, [0, 0]), 50);
    assert.equal(moves(300, [0, 0], 0, 500), 200);
    assert.equal(moves(120, [90, 90]), 20, 'down to ceil(300 / 3)');
  });

  it('nothing moves within the tolerance, nor from a pod at or below the even share', () => {
    assert.equal(moves(114, [100, 86]), 0);
    assert.equal(moves(100, [200, 0]), 0, 'the pod above gives, not this one');
    assert.equal(moves(2, [1]), 0, '3 entities on 2 pods are balanced');
    assert.equal(moves(5, [3, 3]), 0, 'no fight with the claim slack');
  });

  it('above even while a pod is below the tolerance: gives what that pod misses', () => {
    assert.equal(moves(115, [115, 115, 55]), 15);
  });

  it('entities waiting in the spawn set are on their way to the pods below', () => {
    assert.equal(moves(100, [0, 0], 200), 0, 'they will be even once those are claimed');
    assert.equal(moves(150, [40, 40], 70, 500), 50, 'the others miss 60 + 60, 70 are coming');
  });

  it('entities this pod is still handing over count with the pods below', () => {
    // 300 in all: 150 kept, 100 on their way (runners finishing a job), 25 + 25 received.
    assert.equal(moves(150, [25, 25], 0, 500, 100), 50, 'the others miss 75 + 75, 100 coming');
    assert.equal(moves(100, [0, 0], 0, 50, 200), 0, 'even once those are offered');
  });

  it('within the band itself and nobody below it: gives nothing, even above even', () => {
    // 400 on 4 pods: the pod at 116 (over 115) gives; this one, at 101, leaves it to that one.
    assert.equal(moves(101, [116, 91, 92]), 0);
    assert.equal(moves(116, [101, 91, 92]), 16);
  });

  it('a producer-only pod is no receiver', () => {
    const peers = new Map([
      ['me', peer(30)],
      ['producer', peer(0, false)],
    ]);
    const input = {
      self: 'me',
      owned: 30,
      peers,
      pendingSpawns: 0,
      handingOver: 0,
      tolerance: 0.15,
      maxMoves: 9,
    };
    assert.equal(rebalanceMoves(input), 0);
  });
});

describe('room elsewhere', () => {
  const room = (owned: number, others: number[], pendingSpawns = 0): boolean => {
    const peers = new Map<string, PeerView>([['me', peer(owned)]]);
    others.forEach((n, i) => peers.set(`p${i}`, peer(n)));
    return roomElsewhere({
      self: 'me',
      owned,
      peers,
      pendingSpawns,
      recentlyStale: 0,
      warming: false,
    });
  };

  it('is true while another processing pod is below its claim cap', () => {
    // 20 held, 3 waiting: share ceil(24 / 2) = 12, cap 13.
    assert.equal(room(8, [12], 3), true);
    assert.equal(room(7, [13], 3), false, 'the other pod is at its cap');
    assert.equal(room(5, []), false, 'alone');
    const peers = new Map([
      ['me', peer(5)],
      ['producer', peer(0, false)],
    ]);
    const input = {
      self: 'me',
      owned: 5,
      peers,
      pendingSpawns: 4,
      recentlyStale: 0,
      warming: false,
    };
    assert.equal(roomElsewhere(input), false, 'a producer-only pod claims nothing');
  });
});
