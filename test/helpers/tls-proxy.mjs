// A TLS endpoint in front of a plain TCP Docker engine, for tests of tcp:// hosts with --tls-dir
// (test/integration/host-tcp.test.ts): the bed's second engine listens on plain TCP only. It asks
// every client for a certificate signed by the test's CA and refuses those without one, as dockerd
// --tlsverify does. Usage: node tls-proxy.mjs <port> <cert dir> <engine host> <engine port>
// (the cert dir holds ca.pem, server-cert.pem, server-key.pem). Listens on 127.0.0.1 only.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { createServer } from "node:tls";

const [port, dir, host, enginePort] = process.argv.slice(2);
// Half-closed connections stay open in the other direction: a client that ends its side after a
// request (docker exec's hijacked stream) still gets the engine's whole answer.
const server = createServer(
  {
    ca: readFileSync(join(dir, "ca.pem")),
    cert: readFileSync(join(dir, "server-cert.pem")),
    key: readFileSync(join(dir, "server-key.pem")),
    requestCert: true,
    rejectUnauthorized: true,
    allowHalfOpen: true,
  },
  (client) => {
    const engine = connect({ port: Number(enginePort), host, allowHalfOpen: true });
    client.pipe(engine);
    engine.pipe(client);
    const fail = () => {
      client.destroy();
      engine.destroy();
    };
    client.on("error", fail);
    engine.on("error", fail);
  },
);
server.on("tlsClientError", () => {});
server.listen(Number(port), "127.0.0.1", () => console.log(`listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => process.exit(0));
