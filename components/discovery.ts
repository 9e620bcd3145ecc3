import { DiscoveryMode } from "./args";

/** What a discovery mode needs to know about the cluster it runs in. */
export interface DiscoveryContext {
    readonly major: 4 | 5;
    /** The `name` part of every node name (`emqx`). */
    readonly nodeBaseName: string;
    readonly namespace: string;
    readonly clusterDomain: string;
    readonly headlessServiceName: string;
    /** `<headless>.<namespace>.svc.<clusterDomain>`: what DNS discovery queries. */
    readonly headlessServiceFqdn: string;
    /** Every node's full name, from the replica count. */
    readonly nodeNames: readonly string[];
    readonly etcd?: {
        readonly endpoints: readonly string[];
        readonly prefix: string;
        /** Directory where the TLS files are mounted, when etcd uses TLS. */
        readonly tlsDir?: string;
    };
}

/** One discovery mode: the EMQX keys it sets per major version, and what it needs from Kubernetes. */
export interface DiscoveryStrategy {
    readonly mode: DiscoveryMode;
    /** Read access to the headless Service's Endpoints (a Role and RoleBinding for the pods' ServiceAccount). */
    readonly needsEndpointsAccess: boolean;
    /** Mount the ServiceAccount token into the pods. */
    readonly needsApiToken: boolean;
    /** The largest replica count the mode can form; undefined means any. */
    readonly maxReplicas?: number;
    /** What the mode needs that the component cannot create, for docs and messages. */
    readonly prerequisites: string;
    /** Why the mode does not work on an IPv6-only cluster network; undefined when it does. */
    readonly ipv6Limit?: string;
    /** The mode's own settings by configuration path (the strategy key itself is added by `discoverySettings`). */
    settings(ctx: DiscoveryContext): Record<string, string>;
}

/** Every discovery setting of a mode, strategy key included: `cluster.discovery_strategy` on 5.x, `cluster.discovery` on 4.x. */
export function discoverySettings(strategy: DiscoveryStrategy, ctx: DiscoveryContext): Record<string, string> {
    const strategyPath = ctx.major === 5 ? "cluster.discovery_strategy" : "cluster.discovery";
    return { [strategyPath]: strategy.mode, ...strategy.settings(ctx) };
}

// ekka's k8s and etcd discovery call their server through ekka_httpc (Erlang's httpc, IPv4 by default): on a
// single-stack IPv6 cluster the API server's name does not resolve (nxdomain, emqx#14889, open as of 5.8.4).
const HTTP_DISCOVERY_IPV6_LIMIT =
    "ekka's HTTP client resolves and connects over IPv4 only, so it never reaches its server on an IPv6-only " +
    'network (emqx#14889); use "dns" or "static"';

// The Kubernetes API by DNS name: an IP fails OTP 26's TLS host name check (emqx#13360).
const KUBERNETES_API = "https://kubernetes.default.svc:443";

export const DISCOVERY_STRATEGIES: Readonly<Record<DiscoveryMode, DiscoveryStrategy>> = {
    dns: {
        mode: "dns",
        needsEndpointsAccess: false,
        needsApiToken: false,
        prerequisites: "cluster DNS serving SRV records of the headless Service (EMQX 4.4 or 5.x)",
        // SRV answers carry the pods' host names, so node names stay stable across restarts.
        settings: (ctx): Record<string, string> =>
            ctx.major === 5
                ? { "cluster.dns.name": ctx.headlessServiceFqdn, "cluster.dns.record_type": "srv" }
                : {
                      "cluster.dns.name": ctx.headlessServiceFqdn,
                      "cluster.dns.app": ctx.nodeBaseName,
                      "cluster.dns.type": "srv",
                  },
    },
    k8s: {
        mode: "k8s",
        needsEndpointsAccess: true,
        needsApiToken: true,
        prerequisites: "the Endpoints API of the headless Service (the component creates the Role and RoleBinding)",
        ipv6Limit: HTTP_DISCOVERY_IPV6_LIMIT,
        settings: (ctx): Record<string, string> => ({
            ...(ctx.major === 4 ? { "cluster.k8s.app_name": ctx.nodeBaseName } : {}),
            // Every key is set: the 5.x defaults (suffix `pod.local`, a placeholder apiserver IP in 5.0-5.1) never work.
            "cluster.k8s.apiserver": KUBERNETES_API,
            "cluster.k8s.service_name": ctx.headlessServiceName,
            "cluster.k8s.namespace": ctx.namespace,
            "cluster.k8s.address_type": "hostname",
            "cluster.k8s.suffix": `svc.${ctx.clusterDomain}`,
        }),
    },
    static: {
        mode: "static",
        needsEndpointsAccess: false,
        needsApiToken: false,
        prerequisites: "none: the seed list is derived from the replica count",
        settings: (ctx): Record<string, string> => ({
            // The HOCON array form is understood by every 5.x release (the comma form only from 5.0.23).
            "cluster.static.seeds":
                ctx.major === 5
                    ? `[${ctx.nodeNames.map((n) => JSON.stringify(n)).join(",")}]`
                    : ctx.nodeNames.join(","),
        }),
    },
    etcd: {
        mode: "etcd",
        needsEndpointsAccess: false,
        needsApiToken: false,
        prerequisites: "a reachable etcd (v3 API for EMQX 5.x, v2 API for 4.x); set `etcd.endpoints`",
        ipv6Limit: HTTP_DISCOVERY_IPV6_LIMIT,
        settings: (ctx): Record<string, string> => {
            const etcd = ctx.etcd;
            if (!etcd) {
                throw new Error("etcd discovery needs etcd settings");
            }
            const tls = ctx.major === 5 ? "cluster.etcd.ssl_options" : "cluster.etcd.ssl";
            return {
                "cluster.etcd.server": etcd.endpoints.join(","),
                "cluster.etcd.prefix": etcd.prefix,
                "cluster.etcd.node_ttl": "1m",
                ...(etcd.tlsDir
                    ? {
                          ...(ctx.major === 5 ? { [`${tls}.enable`]: "true" } : {}),
                          [`${tls}.cacertfile`]: `${etcd.tlsDir}/ca.crt`,
                          [`${tls}.certfile`]: `${etcd.tlsDir}/tls.crt`,
                          [`${tls}.keyfile`]: `${etcd.tlsDir}/tls.key`,
                      }
                    : {}),
            };
        },
    },
    manual: {
        mode: "manual",
        needsEndpointsAccess: false,
        needsApiToken: false,
        maxReplicas: 1,
        prerequisites: "none; a single node that never joins others",
        settings: () => ({}),
    },
};
