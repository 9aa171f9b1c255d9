/**
 * The log, written through the Actions toolkit once it is loaded. @actions/core pulls in a large dependency tree
 * (child_process, an HTTP client and undici's full index), so the action sends its first requests before loading
 * it; until then, every log call is kept in order and replayed the moment the toolkit is attached. Nothing is
 * printed before attach(), so the first thing printed is still the token's mask.
 */
export interface LogSink {
  setSecret(secret: string): void;
  info(message: string): void;
  debug(message: string): void;
  warning(message: string): void;
  notice(message: string): void;
  startGroup(name: string): void;
  endGroup(): void;
}

type Call = { [K in keyof LogSink]: [K, ...Parameters<LogSink[K]>] }[keyof LogSink];

export class DeferredLog implements LogSink {
  private sink: LogSink | undefined;
  private readonly pending: Call[] = [];

  get attached(): boolean {
    return this.sink !== undefined;
  }

  /** Replays everything logged so far into `sink`, then writes straight to it. */
  attach(sink: LogSink): void {
    if (this.sink) return;
    this.sink = sink;
    for (const call of this.pending.splice(0)) this.apply(sink, call);
  }

  private write(call: Call): void {
    if (this.sink) this.apply(this.sink, call);
    else this.pending.push(call);
  }

  private apply(sink: LogSink, [method, message]: Call): void {
    if (method === 'endGroup') sink.endGroup();
    else sink[method](message as string);
  }

  setSecret(secret: string): void {
    this.write(['setSecret', secret]);
  }
  info(message: string): void {
    this.write(['info', message]);
  }
  debug(message: string): void {
    this.write(['debug', message]);
  }
  warning(message: string): void {
    this.write(['warning', message]);
  }
  notice(message: string): void {
    this.write(['notice', message]);
  }
  startGroup(name: string): void {
    this.write(['startGroup', name]);
  }
  endGroup(): void {
    this.write(['endGroup']);
  }
}
