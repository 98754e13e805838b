import {
  createNoopMeter,
  type Attributes,
  type Counter as OtelCounter,
  type Meter,
  type MeterProvider,
  type ObservableCallback,
  type ObservableUpDownCounter,
} from '@opentelemetry/api';

/** What a batch processor's self-observability instruments report, mapped onto the instance's own metrics. */
export interface ProcessorHooks {
  /** `otel.sdk.processor.<signal>.processed`: `count` items finished, `errorType` undefined on success (`queue_full` when dropped at the door). */
  processed(count: number, errorType: string | undefined): void;
  /** Receives a reader of the processor's queue length (`otel.sdk.processor.<signal>.queue.size`), when the processor reports one. */
  queueSize?(read: () => number): void;
}

/**
 * A MeterProvider to hand an OpenTelemetry batch processor as its documented `selfObsMeterProvider`
 * (span or log record processor, by `signal`): the processor's `processed` counter and queue-size
 * gauge go to `hooks`; every other instrument is a no-op. No OpenTelemetry metrics SDK involved.
 */
export function processorMeterProvider(signal: 'span' | 'log', hooks: ProcessorHooks): MeterProvider {
  const processedName = `otel.sdk.processor.${signal}.processed`;
  const queueName = `otel.sdk.processor.${signal}.queue.size`;
  const counter: OtelCounter = {
    add(value: number, attributes?: Attributes): void {
      const errorType = attributes?.['error.type'];
      hooks.processed(value, errorType === undefined ? undefined : String(errorType));
    },
  };
  const noop = createNoopMeter();
  const meter: Meter = Object.create(noop, {
    createCounter: {
      value: (name: string, options?: Parameters<Meter['createCounter']>[1]): OtelCounter =>
        name === processedName ? counter : noop.createCounter(name, options),
    },
    createObservableUpDownCounter: {
      value: (name: string, options?: Parameters<Meter['createObservableUpDownCounter']>[1]): ObservableUpDownCounter => {
        const inner = noop.createObservableUpDownCounter(name, options);
        if (name !== queueName || !hooks.queueSize) return inner;
        const report = hooks.queueSize.bind(hooks);
        return Object.create(inner, {
          addCallback: {
            value: (cb: ObservableCallback): void => {
              report(() => {
                let n = 0;
                void cb({ observe: (v: number) => void (n = v) });
                return n;
              });
            },
          },
        }) as ObservableUpDownCounter;
      },
    },
  }) as Meter;
  return { getMeter: () => meter };
}
