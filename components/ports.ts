import { NodePortsArgs } from "./args";

/** The MQTT listeners clients reach through the client Service, on 4.x and 5.x alike. */
export const LISTENER_PORTS: readonly { name: keyof NodePortsArgs; port: number; tls: boolean }[] = [
    { name: "mqtt", port: 1883, tls: false },
    { name: "mqtts", port: 8883, tls: true },
    { name: "ws", port: 8083, tls: false },
    { name: "wss", port: 8084, tls: true },
];

/** The dashboard and REST API, on 4.x and 5.x alike; served by the dashboard Service. */
export const DASHBOARD_PORT = 18083;

/** The dashboard's HTTPS listener (4.x and 5.x default), served only with `tls.dashboard`. */
export const DASHBOARD_TLS_PORT = 18084;

/** The 5.x listener type of each MQTT listener (`listeners.<type>.default`); 4.x names them `listener.<type>.external`. */
export const MQTT_LISTENER_TYPES = { mqtt: "tcp", mqtts: "ssl", ws: "ws", wss: "wss" } as const;

/**
 * Ports nodes use to talk to each other: the Erlang distribution (ekka's `ekka_epmd`, 4370 for a node named `emqx`)
 * and cluster RPC (gen_rpc, 5369 with the `manual` port discovery the images set). 4.2's RPC port differs: see
 * `VersionSettings.clusterPorts`.
 */
export const CLUSTER_PORTS = { ekka: 4370, genrpc: 5369 } as const;

/**
 * gen_rpc's port under `rpc.port_discovery = stateless` for a node name without a trailing number (5370 + 0): the
 * default of 4.2, whose image's entrypoint does not switch to `manual` (4.3+ and 5.x entrypoints do).
 */
export const STATELESS_RPC_PORT = 5370;
