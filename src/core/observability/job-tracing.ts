import type * as OtelApi from '@opentelemetry/api';
import type { Job } from 'bullmq';
import { errorMessage } from '../../errors/error-message';
import { jobExtras } from '../../redis/entity-queue';
import { LIBRARY_VERSION } from '../../version';
import type { EntityJobHandler, JobContext } from '../entities/job-context';
import { formatCarried, parseCarried } from './trace-context';

type Api = typeof OtelApi;

/** `messaging.system` of the engine's spans. */
export const MESSAGING_SYSTEM = 'atomic_queues';
const TRACER_NAME = 'atomic-queues';

/** A producer span under way: its context for the jobs, and its end. */
export interface SendSpan {
  /** What the jobs carry (`aqt`), so their runs are its children. */
  readonly carried: string | undefined;
  end(error?: unknown): void;
}

/**
 * Loads `@opentelemetry/api` if the application has it (an optional peer); undefined otherwise,
 * and the engine then makes no span and carries no context.
 */
export function loadOtelApi(): Api | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded on use
    return require('@opentelemetry/api') as Api;
  } catch {
    return undefined;
  }
}

/** The engine's spans, when `@opentelemetry/api` is installed; undefined otherwise. */
export function startTracing(): JobTracing | undefined {
  const otel = loadOtelApi();
  return otel ? new JobTracing(otel) : undefined;
}

/**
 * Spans of the engine, after the OpenTelemetry messaging semantic conventions: a producer span
 * `send {type}` at enqueue, whose context the job carries (`aqt` in its hash), and a consumer
 * span `process {type}` around each run of its handler, a child of the enqueue's span even on
 * another process. Entity types name the spans (`messaging.destination.template`), never
 * entity ids, which go into attributes.
 *
 * Nothing is done while no tracer provider is registered: a check per enqueue and per run, no
 * span, no context in Redis.
 */
export class JobTracing {
  /** The global API's provider before any registration: the no-op one. */
  private readonly noop: OtelApi.TracerProvider;
  private readonly wrapped = new WeakMap<EntityJobHandler, EntityJobHandler>();

  constructor(private readonly api: Api) {
    this.noop = new api.ProxyTracerProvider().getDelegate();
  }

  /** True once an application registered a tracer provider (e.g. an OpenTelemetry SDK). */
  get active(): boolean {
    const provider = this.api.trace.getTracerProvider();
    return !(
      provider instanceof this.api.ProxyTracerProvider && provider.getDelegate() === this.noop
    );
  }

  private tracer(): OtelApi.Tracer {
    return this.api.trace.getTracer(TRACER_NAME, LIBRARY_VERSION);
  }

  /**
   * Starts the producer span of `count` jobs of `type` (one enqueue, or a bulk), a child of the
   * caller's active span; undefined when nothing traces.
   */
  send(
    type: string | undefined,
    count: number,
    jobId?: string,
    entityId?: string,
  ): SendSpan | undefined {
    if (!this.active) return undefined;
    const api = this.api;
    const attributes: OtelApi.Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
    };
    if (type !== undefined) attributes['messaging.destination.template'] = type;
    if (count !== 1) attributes['messaging.batch.message_count'] = count;
    if (jobId !== undefined) attributes['messaging.message.id'] = jobId;
    if (entityId !== undefined) attributes['atomic_queues.entity.id'] = entityId;
    const span = this.tracer().startSpan(type === undefined ? 'send' : `send ${type}`, {
      kind: api.SpanKind.PRODUCER,
      attributes,
    });
    const context = span.spanContext();
    return {
      carried: formatCarried({ ...context, traceState: context.traceState?.serialize() }),
      end: (error?: unknown) => this.end(span, error),
    };
  }

  /** `handler`, running each job inside its consumer span when a tracer provider is registered. */
  wrap(handler: EntityJobHandler): EntityJobHandler {
    let traced = this.wrapped.get(handler);
    if (!traced) {
      traced = (job, ctx) => (this.active ? this.process(handler, job, ctx) : handler(job, ctx));
      this.wrapped.set(handler, traced);
    }
    return traced;
  }

  private async process(handler: EntityJobHandler, job: Job, ctx: JobContext): Promise<unknown> {
    const api = this.api;
    // The enqueue's context, never the runner's: the runner may have started inside whatever
    // request made it claim the entity.
    let parent = api.ROOT_CONTEXT;
    const carried = jobExtras(job).traceContext;
    const remote = carried === undefined ? undefined : parseCarried(carried);
    if (remote) {
      parent = api.trace.setSpanContext(parent, {
        traceId: remote.traceId,
        spanId: remote.spanId,
        traceFlags: remote.traceFlags,
        traceState: remote.traceState ? api.createTraceState(remote.traceState) : undefined,
        isRemote: true,
      });
    }
    const span = this.tracer().startSpan(
      `process ${ctx.entityType}`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes: {
          'messaging.system': MESSAGING_SYSTEM,
          'messaging.operation.name': 'process',
          'messaging.operation.type': 'process',
          'messaging.destination.template': ctx.entityType,
          'messaging.message.id': job.id ?? '',
          'atomic_queues.entity.id': ctx.entityId,
          'atomic_queues.job.name': job.name,
          'atomic_queues.job.attempt': ctx.attempt,
          'atomic_queues.fencing_token': ctx.fencingToken,
        },
      },
      parent,
    );
    try {
      const result = await api.context.with(api.trace.setSpan(parent, span), () =>
        handler(job, ctx),
      );
      this.end(span);
      return result;
    } catch (err) {
      this.end(span, err);
      throw err;
    }
  }

  private end(span: OtelApi.Span, error?: unknown): void {
    if (error !== undefined) {
      const message = errorMessage(error);
      span.recordException(error instanceof Error ? error : message);
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message });
    }
    span.end();
  }
}
