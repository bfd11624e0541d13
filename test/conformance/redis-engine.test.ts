/** The conformance suite (./behaviours) against AtomicEngine on the test Redis. */
import { describe } from 'node:test';
import { BEHAVIOURS } from './behaviours';
import { redisBackend } from './redis-backend';

for (const [name, behaviour] of BEHAVIOURS)
  describe(`${name} (${redisBackend.name})`, () => behaviour(redisBackend));
