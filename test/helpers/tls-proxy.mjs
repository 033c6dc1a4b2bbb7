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
const server = createServer(
  {
    ca: readFileSync(join(dir, "ca.pem")),
    cert: readFileSync(join(dir, "server-cert.pem")),
    key: readFileSync(join(dir, "server-key.pem")),
    requestCert: true,
    rejectUnauthorized: true,
  },
  (client) => {
    const engine = connect(Number(enginePort), host);
    client.pipe(engine).pipe(client);
    const end = () => {
      client.destroy();
      engine.destroy();
    };
    client.on("error", end);
    engine.on("error", end);
    client.on("close", end);
    engine.on("close", end);
  },
);
server.on("tlsClientError", () => {});
server.listen(Number(port), "127.0.0.1", () => console.log(`listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => process.exit(0));
