/** The CQRS metadata keys restated in src/nest/cqrs match the installed @nestjs/cqrs. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CommandHandler, QueryHandler } from '@nestjs/cqrs';
import {
  CQRS_COMMAND_HANDLER_METADATA,
  CQRS_QUERY_HANDLER_METADATA,
} from '../../src/nest/cqrs/cqrs.constants';

it('reads @CommandHandler / @QueryHandler metadata under the keys @nestjs/cqrs writes', () => {
  class Cmd {}
  class Qry {}
  @CommandHandler(Cmd)
  class CmdHandler {}
  @QueryHandler(Qry)
  class QryHandler {}
  assert.equal(Reflect.getMetadata(CQRS_COMMAND_HANDLER_METADATA, CmdHandler), Cmd);
  assert.equal(Reflect.getMetadata(CQRS_QUERY_HANDLER_METADATA, QryHandler), Qry);
});
