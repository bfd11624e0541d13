/**
 * Metadata keys `@nestjs/cqrs` writes on handler classes (`@CommandHandler(Cls)` stores `Cls`
 * under the first, `@QueryHandler(Cls)` under the second). The package does not export them from
 * its entry point, and it is an optional peer, so they are restated here; a unit test checks
 * them against the installed `@nestjs/cqrs`.
 */
export const CQRS_COMMAND_HANDLER_METADATA = '__commandHandler__';
export const CQRS_QUERY_HANDLER_METADATA = '__queryHandler__';
