// The smallest project with data: one busybox service `db` that keeps its named volume `data` at
// /data and writes a line to /data/boot.log each time it starts (snapshot and seed tests).
export const ONE_VOLUME_COMPOSE = `services:
  db:
    image: cilo-test/busybox:latest
    command: ["sh", "-c", "echo started >> /data/boot.log; sleep 3600 & wait"]
    volumes: ["data:/data"]
volumes:
  data: {}
`;
