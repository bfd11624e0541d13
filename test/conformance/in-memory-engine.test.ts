/** The conformance suite (./behaviours) against the in-memory engine of atomic-queues/testing. */
import { describe } from 'node:test';
import { BEHAVIOURS } from './behaviours';
import { memoryBackend } from './memory-backend';

for (const [name, behaviour] of BEHAVIOURS)
  describe(`${name} (${memoryBackend.name})`, () => behaviour(memoryBackend));
