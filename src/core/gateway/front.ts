import { GATEWAY_BACK_SOCKET, GATEWAY_CONFIG_DIR, GATEWAY_CONFIG_FILE, GATEWAY_INNER_HTTP_PORT } from "./render.ts";

/**
 * The gateway runs two Caddy processes (docs/routing.md, "Reloads lose nothing"):
 *
 * - the **front** owns the published port and never changes: it hands every request to the back
 *   over a unix socket, one connection per request. A config change never touches it, so the
 *   keep-alive connections of clients are never closed under them.
 * - the **back** holds the routes rendered from state (`render.ts`) and is reloaded on every
 *   change. A reload shuts the old server down, which closes its idle keep-alive connections; a
 *   client that had just sent a request on one gets a reset. The front's connections to the back
 *   carry one request each (no keep-alive), so none is ever idle when that happens.
 */
export const GATEWAY_FRONT_FILE = "cilo-front.json";
export const GATEWAY_FRONT_PATH = `${GATEWAY_CONFIG_DIR}/${GATEWAY_FRONT_FILE}`;
export const GATEWAY_BACK_PATH = `${GATEWAY_CONFIG_DIR}/${GATEWAY_CONFIG_FILE}`;
/** Changes when the container's layout changes, so that an older gateway is recreated, not reloaded. */
export const GATEWAY_LAYOUT = "front-back-3";
/**
 * Each Caddy runs on one Go scheduler thread (docs/routing.md, "What the gateway costs"): with the
 * default (one per core), two Go runtimes in one container burn their CPU waking and parking
 * threads for every request; measured at 1 connection, 1,200 -> 700 CPU-µs per request and p50
 * 1.08 -> 0.64 ms, with no loss at 50 connections.
 */
export const GATEWAY_GOMAXPROCS = 1;
/**
 * Go's garbage collector runs when the heap doubles (GOGC=100); a proxy allocates per request, so
 * collecting at 5× (400) spends less CPU on it: measured at 50 connections, the two Caddys'
 * CPU per request 265-285 -> 211-223 µs. The heaps are a few MB, so a few more MB at most.
 */
export const GATEWAY_GOGC = 400;

/**
 * The front's Caddy config: the same bytes for every state. No admin endpoint (nothing ever
 * changes it). A request the back cannot take (it is starting) gets a short 502 page.
 */
export function renderFrontConfig(): string {
  const config = {
    admin: { disabled: true },
    logging: { logs: { default: { level: "ERROR" } } },
    apps: {
      http: {
        servers: {
          front: {
            listen: [`:${GATEWAY_INNER_HTTP_PORT}`],
            automatic_https: { disable: true },
            routes: [
              {
                handle: [
                  {
                    handler: "reverse_proxy",
                    upstreams: [{ dial: `unix/${GATEWAY_BACK_SOCKET}` }],
                    transport: { protocol: "http", keep_alive: { enabled: false } },
                  },
                ],
              },
            ],
            errors: {
              routes: [
                {
                  handle: [
                    {
                      handler: "static_response",
                      status_code: "{http.error.status_code}",
                      headers: { "Content-Type": ["text/plain; charset=utf-8"], "Cache-Control": ["no-store"] },
                      body: "cilo: the gateway is starting or reloading ({http.error.status_code}); try again\n",
                    },
                  ],
                },
              ],
            },
          },
        },
      },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * The container's command: the front started in the background (`caddy start` returns once it
 * listens), then the back as the main process, so that if the back ever dies the container does
 * and the engine's restart policy brings both back.
 */
export function gatewayCommand(): string[] {
  return [
    "sh",
    "-c",
    `export GOMAXPROCS=${GATEWAY_GOMAXPROCS} GOGC=${GATEWAY_GOGC}; caddy start --config ${GATEWAY_FRONT_PATH} >/dev/null && exec caddy run --config ${GATEWAY_BACK_PATH}`,
  ];
}
