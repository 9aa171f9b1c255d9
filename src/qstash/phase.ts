/**
 * How far one request got, as a fact undici reports rather than a guess from an error: undici calls a handler's
 * `onRequestStart` just before it writes the request's first byte (after DNS, TCP, a proxy's CONNECT and the TLS
 * handshake), and never when the connection fails first. A request that failed before that certainly did not reach
 * the server; one that failed after it may have.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Filled in while the request runs; read by whoever sent it, once it settled. */
export interface RequestPhase {
  /** undici handed the request to a connected socket (it may have reached the server). */
  started: boolean;
}

/** The dispatch option under which a request carries its RequestPhase (a symbol: no header or URL can clash). */
export const REQUEST_PHASE = Symbol('upstash-dlq-cleanup-action.request-phase');

/** Dispatch (or request) options with a RequestPhase to fill in. */
export type PhasedOptions<T extends object = Dispatcher.DispatchOptions> = T & { [REQUEST_PHASE]?: RequestPhase };

/** Passes every callback on to the handler it wraps; subclasses override the ones they watch. */
export class ForwardingHandler implements Dispatcher.DispatchHandler {
  protected readonly handler: Dispatcher.DispatchHandler;

  constructor(handler: Dispatcher.DispatchHandler) {
    this.handler = handler;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.handler.onResponseError?.(controller, error);
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.();
  }

  onRequestSent(): void {
    this.handler.onRequestSent?.();
  }
}

class PhaseHandler extends ForwardingHandler {
  private readonly phase: RequestPhase;

  constructor(handler: Dispatcher.DispatchHandler, phase: RequestPhase) {
    super(handler);
    this.phase = phase;
  }

  override onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    super.onRequestStart(controller, context);
    // The request's own handler aborts here when its signal fired while it waited for a connection: then nothing
    // is written.
    if (!controller.aborted) this.phase.started = true;
  }
}

/**
 * An interceptor (for `dispatcher.compose()`) that records, on each request dispatched with a REQUEST_PHASE option,
 * whether undici started writing it. Requests without one pass through untouched.
 */
export const recordPhase: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
  const phase = (options as PhasedOptions)[REQUEST_PHASE];
  return dispatch(options, phase === undefined ? handler : new PhaseHandler(handler, phase));
};
