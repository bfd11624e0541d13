import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { AtomicEngine } from 'atomic-queues';

// Any OpenTelemetry set-up that registers a global tracer provider will do (NodeSDK with an
// OTLP exporter is the usual one, and registers the context manager too); before or after the
// engine starts.
export function traced(exporter: SpanExporter): AtomicEngine {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] }),
  );
  return new AtomicEngine({ redis: 'redis://127.0.0.1:6379' });
}
