// Types for the two undici modules the transport loads directly (undici has no "exports" map, so they resolve).
// Loading these instead of undici's index keeps fetch, WebSocket, the cache stores and the mock agents out of the
// start-up path; the classes are the same ones undici's index exports.
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}

declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
