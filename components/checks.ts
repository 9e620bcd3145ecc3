import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, DiscoveryMode, EmqxClusterArgs, EtcdArgs, IpFamily, NodePortsArgs, ServiceType, VolumeRetention } from "./args";
import { DISCOVERY_STRATEGIES, DiscoveryStrategy } from "./discovery";
import { MAX_STATEFULSET_NAME_LENGTH, statefulSetName } from "./names";
import { DATA_DIR } from "./names";
import { CLUSTER_PORTS, LISTENER_PORTS } from "./ports";
import { VersionProfile, resolveVersion } from "./versions";
import {
    NODE_PORT_RANGE,
    entrypointValueProblem,
    externalHostProblem,
    isDns1035Label,
    isDns1123Label,
    isDns1123Subdomain,
    storageBytes,
    storageClassProblem,
    storageSizeProblem,
} from "./validation";

/** Raised for arguments that cannot make a working cluster; lists every problem with its field and fix. */
export class EmqxArgsError extends Error {
    constructor(
        readonly componentName: string,
        readonly problems: readonly string[],
    ) {
        super(`EmqxCluster "${componentName}" has invalid arguments:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "EmqxArgsError";
    }
}

/** The args with every default applied, known to make a working cluster. */
export interface CheckedArgs {
    readonly base: string;
    readonly replicas: number;
    readonly version: VersionProfile;
    readonly discovery: DiscoveryStrategy;
    readonly etcd?: EtcdArgs;
    readonly namespace: string;
    readonly clusterDomain: string;
    readonly ipFamily: IpFamily;
    readonly persistence: boolean;
    /**
     * Undefined: the cluster's default class (always undefined without persistence); "": no class, no dynamic
     * provisioning (Kubernetes' meaning).
     */
    readonly storageClass?: string;
    readonly storageSize: string;
    readonly storageBytes: number;
    readonly volumeGeneration: number;
    readonly retentionOnScaleDown: VolumeRetention;
    readonly serviceType: ServiceType;
    readonly nodePorts: NodePortsArgs;
    readonly image: string;
    readonly dashboardUsername: string;
    readonly emqxConfig: Readonly<Record<string, pulumi.Input<string>>>;
    readonly warnings: readonly string[];
}

/** Collects problems as `field: what is wrong and how to fix it`. */
class Problems {
    readonly list: string[] = [];
    add(field: string, message: string): void {
        this.list.push(`${field}: ${message}`);
    }
}

/**
 * Settings the component owns or derives something from (probes, Services, URLs and clientConfig, node names,
 * the data volume, discovery, cluster ports): `emqxConfig` may not set them. Each says what depends on it and which
 * arg does the job instead.
 */
const MANAGED_SETTINGS: readonly {
    readonly pattern: RegExp;
    readonly majors: readonly (4 | 5)[];
    /** What the component derives from the setting. */
    readonly why: string;
    /** The fix: remove it, and which arg does the job. */
    readonly fix: string;
}[] = [
    {
        pattern: /^node\.(name|cookie)$/,
        majors: [4, 5],
        why: "the component derives every node name from its pod's DNS name and generates the cookie",
        fix: "remove it; clusterName and clusterDomain decide the names",
    },
    {
        pattern: /^node\.(role|db_backend)$|^cluster\.core_nodes$/,
        majors: [5],
        why:
            "the component runs one StatefulSet of identical nodes, all core nodes: node.role = replicant would " +
            "make every node a replicant and leave the cluster without a core node, which EMQX does not allow",
        fix: "remove it: the component has no core/replicant topology yet",
    },
    {
        pattern: /^node\.data_dir$/,
        majors: [4, 5],
        why: `the data volume is mounted at ${DATA_DIR}; another data directory keeps the data in the container, lost on restart`,
        fix: "remove it; persistence, storageClass and storageSize decide the volume",
    },
    { pattern: /^cluster\.(discovery|discovery_strategy)$/, majors: [4, 5], why: "the component sets discovery", fix: "use discovery" },
    {
        pattern: /^cluster\.(dns|k8s|static|etcd|mcast)(\.|$)/,
        majors: [4, 5],
        why: "the component sets every key of the discovery mode",
        fix: "use discovery (and etcd)",
    },
    {
        pattern: /^(cluster|node)\.proto_dist$|^rpc\.(listen_address|ipv6_only|tcp_server_ip)$/,
        majors: [4, 5],
        why: "the component sets the IP protocol of the Erlang distribution and cluster RPC",
        fix: "use ipFamily",
    },
    {
        pattern: /^rpc\.(tcp_server_port|ssl_server_port|tcp_client_port|ssl_client_port|port_discovery)$/,
        majors: [4, 5],
        why: `the headless Service and the pods expose cluster RPC on ${CLUSTER_PORTS.genrpc}`,
        fix: "remove it: the cluster ports are fixed",
    },
    {
        pattern: /^listeners\.(tcp|ssl|ws|wss)\.default\.(bind|enable)$|^listener\.(tcp|ssl|ws|wss)\.external$/,
        majors: [4, 5],
        why:
            "the Services, container ports, clientConfig and the URL outputs use the default listeners on " +
            `${LISTENER_PORTS.filter((l) => l.name !== "dashboard").map((l) => l.port).join(", ")}`,
        fix: "remove it; use nodePorts or serviceType to expose them differently, ipFamily for IPv6",
    },
    {
        pattern: /^listeners\.(ws|wss)\.default\.websocket\.mqtt_path$|^listener\.(ws|wss)\.external\.mqtt_path$/,
        majors: [4, 5],
        why: "clientConfig gives WebSocket clients the path /mqtt",
        fix: "remove it: WebSocket clients connect on /mqtt",
    },
    {
        pattern: /^dashboard\.listeners\.http\.(bind|enable|inet6|ipv6_v6only)$/,
        majors: [5],
        why:
            "the startup, readiness and liveness probes (GET /status), the Services and dashboardUrl use the " +
            "dashboard's HTTP listener on 18083: without it the probes never pass and the pods restart forever",
        fix: "remove it; use nodePorts.dashboard or serviceType to expose it differently, ipFamily for IPv6",
    },
    {
        pattern: /^(dashboard|management)\.listener\.http(\.(inet6|ipv6_v6only))?$/,
        majors: [4],
        why:
            "the probes (GET :8081/status), the Services and dashboardUrl use the management API on 8081 and the " +
            "dashboard on 18083",
        fix: "remove it; use nodePorts or serviceType to expose them differently",
    },
    {
        pattern: /^dashboard\.default_(username|password|user)(\.|$)/,
        majors: [4, 5],
        why: "the component seeds the dashboard's admin account",
        fix: "use dashboard",
    },
    { pattern: /^license\./, majors: [4, 5], why: "the component passes the licence from a Secret", fix: "use licenseKey" },
];

const CONFIG_PATH = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}


function checkName(componentName: string, args: EmqxClusterArgs, problems: Problems): string {
    const base = args.clusterName ?? componentName;
    const generation = Number.isInteger(args.volumeGeneration) ? (args.volumeGeneration as number) : 0;
    const longest = statefulSetName(base, generation);
    if (!isDns1035Label(base) || longest.length > MAX_STATEFULSET_NAME_LENGTH) {
        problems.add(
            args.clusterName === undefined ? "name" : "clusterName",
            `"${base}" must be a lowercase DNS label (letters, digits, '-'; starting with a letter) and the ` +
                `StatefulSet name "${longest}" at most ${MAX_STATEFULSET_NAME_LENGTH} characters, so pod host names ` +
                `and the StatefulSet's revision labels stay within 63 characters; pass a shorter clusterName`,
        );
    }
    return base;
}

/** Replicas, version, discovery and licence, which only make sense together. */
function checkTopology(args: EmqxClusterArgs, problems: Problems, warnings: string[]) {
    const replicas = args.replicas ?? DEFAULTS.replicas;
    if (!Number.isInteger(replicas) || replicas < 1) {
        problems.add("replicas", `${JSON.stringify(args.replicas)} is not a positive integer; use 1 or more (odd counts, e.g. 3)`);
    } else if (replicas > 1 && replicas % 2 === 0) {
        warnings.push(
            `replicas is ${replicas}: an even node count can split into two equal halves (split brain); prefer ${replicas + 1}`,
        );
    }

    const mode = args.discovery ?? DEFAULTS.discovery;
    const discovery = Object.hasOwn(DISCOVERY_STRATEGIES, mode) ? DISCOVERY_STRATEGIES[mode as DiscoveryMode] : undefined;
    if (!discovery) {
        problems.add("discovery", `unknown mode "${mode}"; use one of ${Object.values(DiscoveryMode).join(", ")}`);
    }

    const resolved = resolveVersion(args.version ?? DEFAULTS.version);
    const version = typeof resolved === "string" ? undefined : resolved;
    if (typeof resolved === "string") {
        problems.add("version", resolved);
    }

    if (version && discovery && !version.family.discoveryModes.includes(discovery.mode)) {
        problems.add(
            "discovery",
            `"${discovery.mode}" does not form a cluster on EMQX ${version.family.name}: ${version.family.discoveryLimit}`,
        );
    }
    if (discovery?.maxReplicas !== undefined && Number.isInteger(replicas) && replicas > discovery.maxReplicas) {
        problems.add(
            "discovery",
            `"${discovery.mode}" runs a single node that never joins others, but replicas is ${replicas}; ` +
                `use "dns", "k8s" or "static" for a cluster, or set replicas to 1`,
        );
    }

    if (version?.family.licenceRequiredForCluster && replicas > 1 && args.licenseKey === undefined) {
        problems.add(
            "licenseKey",
            `EMQX ${version.version} is a Business Source License release: without a licence key it runs a single ` +
                `node and a second node fails with SINGLE_NODE_LICENSE. Pass licenseKey (a pulumi secret), set ` +
                `replicas to 1, or use 5.8.9, the last Apache-2.0 release`,
        );
    }
    if (version && args.licenseKey !== undefined && !version.licenseKeyPath) {
        problems.add("licenseKey", `EMQX ${version.version} takes no licence key; remove licenseKey or use EMQX 5.x`);
    }
    return { replicas, discovery, version, mode };
}

function checkEtcd(args: EmqxClusterArgs, mode: string, version: VersionProfile | undefined, problems: Problems): void {
    const etcd = args.etcd;
    if (mode !== "etcd") {
        if (etcd !== undefined) {
            problems.add("etcd", `etcd settings apply only to discovery "etcd" (discovery is "${mode}"); remove etcd`);
        }
        return;
    }
    if (!etcd || !Array.isArray(etcd.endpoints) || etcd.endpoints.length === 0) {
        problems.add("etcd.endpoints", `discovery "etcd" needs at least one etcd client URL, e.g. ["http://etcd:2379"]`);
    } else {
        for (const endpoint of etcd.endpoints) {
            if (!/^https?:\/\/[^\s,]+$/.test(endpoint)) {
                problems.add("etcd.endpoints", `"${endpoint}" is not an http:// or https:// URL`);
            }
            // The endpoints reach cluster.etcd.server, which the 4.0-4.2 entrypoints rewrite like every value.
            const mangled = version && entrypointValueProblem(version.version, version.entrypoint)(endpoint);
            if (mangled) {
                problems.add("etcd.endpoints", `"${endpoint}": ${mangled}`);
            }
        }
    }
    if (etcd?.tlsSecretName !== undefined && !isDns1123Subdomain(etcd.tlsSecretName)) {
        problems.add("etcd.tlsSecretName", `"${etcd.tlsSecretName}" is not a valid Secret name`);
    }
    if (etcd?.prefix !== undefined && !/^[A-Za-z0-9_-]+$/.test(etcd.prefix)) {
        problems.add("etcd.prefix", `"${etcd.prefix}" may contain only letters, digits, '_' and '-'`);
    }
}

function checkPlacement(
    args: EmqxClusterArgs,
    version: VersionProfile | undefined,
    discovery: DiscoveryStrategy | undefined,
    problems: Problems,
) {
    const ipFamily = args.ipFamily ?? DEFAULTS.ipFamily;
    if (!Object.values(IpFamily).includes(ipFamily)) {
        problems.add("ipFamily", `"${ipFamily}" must be one of ${Object.values(IpFamily).join(", ")}`);
    } else if (ipFamily === "IPv6") {
        if (version?.ipv6Limit) {
            problems.add("ipFamily", `EMQX ${version.version} cannot run on an IPv6-only network: ${version.ipv6Limit}`);
        }
        if (discovery?.ipv6Limit) {
            problems.add("discovery", `"${discovery.mode}" does not work on an IPv6-only network: ${discovery.ipv6Limit}`);
        }
    }
    const namespace = args.namespace ?? DEFAULTS.namespace;
    if (!isDns1123Label(namespace)) {
        problems.add("namespace", `"${namespace}" is not a valid namespace name (lowercase letters, digits, '-', at most 63)`);
    }
    const clusterDomain = args.clusterDomain ?? DEFAULTS.clusterDomain;
    if (!isDns1123Subdomain(clusterDomain)) {
        problems.add("clusterDomain", `"${clusterDomain}" is not a DNS domain such as cluster.local`);
    }
    return { namespace, clusterDomain, ipFamily };
}

function checkStorage(args: EmqxClusterArgs, problems: Problems) {
    const persistence = args.persistence ?? DEFAULTS.persistence;
    const storageSize = args.storageSize ?? DEFAULTS.storageSize;
    const bytes = storageBytes(storageSize);
    const sizeProblem = storageSizeProblem(storageSize);
    if (sizeProblem) {
        problems.add("storageSize", sizeProblem);
    }
    const classProblem = args.storageClass === undefined ? undefined : storageClassProblem(args.storageClass);
    if (classProblem) {
        problems.add("storageClass", classProblem);
    }
    if (!persistence && args.storageClass !== undefined) {
        problems.add("storageClass", `has no effect with persistence off; remove storageClass or set persistence to true`);
    }
    const volumeGeneration = args.volumeGeneration ?? DEFAULTS.volumeGeneration;
    if (!Number.isInteger(volumeGeneration) || volumeGeneration < 0) {
        problems.add("volumeGeneration", `${JSON.stringify(volumeGeneration)} must be a whole number, 0 or more`);
    }
    const retentionOnScaleDown = args.volumeRetentionOnScaleDown ?? DEFAULTS.volumeRetentionOnScaleDown;
    if (!Object.values(VolumeRetention).includes(retentionOnScaleDown)) {
        problems.add("volumeRetentionOnScaleDown", `"${retentionOnScaleDown}" must be "Retain" or "Delete"`);
    }
    return {
        persistence,
        storageClass: persistence ? args.storageClass : undefined,
        storageSize,
        storageBytes: bytes ?? 0,
        volumeGeneration,
        retentionOnScaleDown,
    };
}

function checkService(args: EmqxClusterArgs, problems: Problems, warnings: string[]) {
    const serviceType = args.serviceType ?? DEFAULTS.serviceType;
    if (!Object.values(ServiceType).includes(serviceType)) {
        problems.add("serviceType", `"${serviceType}" must be one of ${Object.values(ServiceType).join(", ")}`);
    }
    // An Output is checked by whoever resolves it; a plain value now.
    const hostProblem = typeof args.externalHost === "string" ? externalHostProblem(args.externalHost) : undefined;
    if (hostProblem) {
        problems.add("externalHost", hostProblem);
    }
    if (serviceType === "NodePort" && args.externalHost === undefined) {
        warnings.push(
            `externalHost is not set: the URL outputs and clientConfig use "${DEFAULTS.externalHost}", which reaches ` +
                `the NodePorts only on a machine with port mappings to the nodes (kind, k3d, a minikube tunnel); ` +
                `set externalHost to a node's address or a name that resolves to the nodes`,
        );
    }
    const nodePorts = args.nodePorts ?? {};
    const pinned = Object.entries(nodePorts).filter(([, port]) => port !== undefined) as [string, number][];
    if (serviceType === "ClusterIP" && pinned.length > 0) {
        problems.add("nodePorts", `a ClusterIP Service has no NodePorts; remove nodePorts or set serviceType to NodePort`);
    }
    const seen = new Map<number, string>();
    for (const [listener, port] of pinned) {
        if (!LISTENER_PORTS.some((l) => l.name === listener)) {
            problems.add(`nodePorts.${listener}`, `unknown listener; use ${LISTENER_PORTS.map((l) => l.name).join(", ")}`);
        }
        if (!Number.isInteger(port) || port < NODE_PORT_RANGE.min || port > NODE_PORT_RANGE.max) {
            problems.add(
                `nodePorts.${listener}`,
                `${port} is outside the NodePort range ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
            );
        }
        const other = seen.get(port);
        if (other) {
            problems.add(`nodePorts.${listener}`, `${port} is already pinned for nodePorts.${other}; every listener needs its own`);
        }
        seen.set(port, listener);
    }
    return { serviceType, nodePorts };
}

function checkImage(args: EmqxClusterArgs, problems: Problems): string {
    const image = args.image ?? DEFAULTS.image;
    const lastSegment = image.split("/").pop() ?? "";
    if (!/^[a-z0-9][a-z0-9._/:-]*$/.test(image) || lastSegment.includes(":") || image.includes("@")) {
        problems.add("image", `"${image}" must be a repository without tag or digest, e.g. emqx/emqx; the tag comes from version`);
    }
    return image;
}

function checkDashboard(args: EmqxClusterArgs, version: VersionProfile | undefined, problems: Problems): string {
    const username = args.dashboard?.username ?? DEFAULTS.dashboardUsername;
    if (!/^[A-Za-z0-9_.-]+$/.test(username)) {
        problems.add("dashboard.username", `"${username}" may contain only letters, digits, '_', '.' and '-'`);
    }
    const password = args.dashboard?.password;
    // A secret Output is checked where the Secret is built, once known (objects/configuration.ts).
    const passwordProblem =
        version && typeof password === "string" ? entrypointValueProblem(version.version, version.entrypoint)(password) : undefined;
    if (passwordProblem) {
        problems.add("dashboard.password", `${passwordProblem} (the admin account would get another password than the output says)`);
    }
    return username;
}

function checkEmqxConfig(args: EmqxClusterArgs, version: VersionProfile | undefined, problems: Problems) {
    const extra = args.emqxConfig ?? {};
    if (!isPlainObject(extra)) {
        problems.add("emqxConfig", `must be an object of configuration paths to values`);
        return {};
    }
    for (const [path, value] of Object.entries(extra)) {
        if (!CONFIG_PATH.test(path)) {
            problems.add(`emqxConfig["${path}"]`, `is not an EMQX configuration path such as "mqtt.max_packet_size"`);
            continue;
        }
        const managed = MANAGED_SETTINGS.find((m) => m.pattern.test(path) && (!version || m.majors.includes(version.family.major)));
        if (managed) {
            problems.add(`emqxConfig["${path}"]`, `is managed by the component: ${managed.why}; ${managed.fix}`);
            continue;
        }
        const mangled = version && typeof value === "string" ? entrypointValueProblem(version.version, version.entrypoint)(value) : undefined;
        if (mangled) {
            problems.add(`emqxConfig["${path}"]`, mangled);
        }
        if (version?.parsesHocon && typeof value === "string" && /^[^"].*(#|\/\/)/.test(value)) {
            problems.add(
                `emqxConfig["${path}"]`,
                `EMQX 5.x reads ${JSON.stringify(value)} as HOCON, where '#' or '//' starts a comment and cuts the value; ` +
                    `wrap it in double quotes: ${JSON.stringify(JSON.stringify(value))}`,
            );
        }
    }
    return extra as Record<string, pulumi.Input<string>>;
}

/**
 * Applies the defaults and checks every arg. Throws `EmqxArgsError` listing every problem, each with the field
 * and the fix; nothing is created before this returns.
 */
export function checkArgs(componentName: string, args: EmqxClusterArgs): CheckedArgs {
    const problems = new Problems();
    const warnings: string[] = [];
    const base = checkName(componentName, args, problems);
    const { replicas, version, discovery, mode } = checkTopology(args, problems, warnings);
    checkEtcd(args, mode, version, problems);
    const placement = checkPlacement(args, version, discovery, problems);
    const storage = checkStorage(args, problems);
    const service = checkService(args, problems, warnings);
    const image = checkImage(args, problems);
    const dashboardUsername = checkDashboard(args, version, problems);
    const emqxConfig = checkEmqxConfig(args, version, problems);
    if (problems.list.length > 0 || !version || !discovery) {
        throw new EmqxArgsError(componentName, problems.list);
    }
    return {
        base,
        replicas,
        version,
        discovery,
        etcd: args.etcd,
        ...placement,
        ...storage,
        ...service,
        image,
        dashboardUsername,
        emqxConfig,
        warnings,
    };
}
