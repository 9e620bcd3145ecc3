import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, DiscoveryMode, EmqxClusterArgs, EtcdArgs, NodePortsArgs, ServiceType, VolumeRetention } from "./args";
import { DISCOVERY_STRATEGIES, DiscoveryStrategy } from "./discovery";
import { MAX_STATEFULSET_NAME_LENGTH, statefulSetName } from "./names";
import { LISTENER_PORTS } from "./ports";
import { VersionProfile, resolveVersion } from "./versions";
import { NODE_PORT_RANGE, isDns1035Label, isDns1123Label, isDns1123Subdomain, storageBytes } from "./validation";

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
    readonly persistence: boolean;
    /** Undefined: the cluster's default class (always undefined without persistence). */
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

// Settings the component owns; `emqxConfig` may not override them (use the dedicated args instead).
const MANAGED_SETTINGS: readonly { pattern: RegExp; arg: string }[] = [
    { pattern: /^node\.(name|cookie)$/, arg: "none: the component derives node names and generates the cookie" },
    { pattern: /^cluster\.(discovery|discovery_strategy)$/, arg: "discovery" },
    { pattern: /^cluster\.(dns|k8s|static|etcd|mcast)(\.|$)/, arg: "discovery (and etcd)" },
    { pattern: /^dashboard\.default_(username|password|user)(\.|$)/, arg: "dashboard" },
    { pattern: /^license\./, arg: "licenseKey" },
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

function checkEtcd(args: EmqxClusterArgs, mode: string, problems: Problems): void {
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
        }
    }
    if (etcd?.tlsSecretName !== undefined && !isDns1123Subdomain(etcd.tlsSecretName)) {
        problems.add("etcd.tlsSecretName", `"${etcd.tlsSecretName}" is not a valid Secret name`);
    }
    if (etcd?.prefix !== undefined && !/^[A-Za-z0-9_-]+$/.test(etcd.prefix)) {
        problems.add("etcd.prefix", `"${etcd.prefix}" may contain only letters, digits, '_' and '-'`);
    }
}

function checkPlacement(args: EmqxClusterArgs, problems: Problems) {
    const namespace = args.namespace ?? DEFAULTS.namespace;
    if (!isDns1123Label(namespace)) {
        problems.add("namespace", `"${namespace}" is not a valid namespace name (lowercase letters, digits, '-', at most 63)`);
    }
    const clusterDomain = args.clusterDomain ?? DEFAULTS.clusterDomain;
    if (!isDns1123Subdomain(clusterDomain)) {
        problems.add("clusterDomain", `"${clusterDomain}" is not a DNS domain such as cluster.local`);
    }
    return { namespace, clusterDomain };
}

function checkStorage(args: EmqxClusterArgs, problems: Problems) {
    const persistence = args.persistence ?? DEFAULTS.persistence;
    const storageSize = args.storageSize ?? DEFAULTS.storageSize;
    const bytes = storageBytes(storageSize);
    if (bytes === undefined || bytes <= 0) {
        problems.add("storageSize", `"${storageSize}" is not a positive Kubernetes quantity such as 1Gi or 500Mi`);
    }
    if (args.storageClass !== undefined && !isDns1123Subdomain(args.storageClass)) {
        problems.add("storageClass", `"${args.storageClass}" is not a valid StorageClass name (lowercase DNS subdomain)`);
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

function checkService(args: EmqxClusterArgs, problems: Problems) {
    const serviceType = args.serviceType ?? DEFAULTS.serviceType;
    if (!Object.values(ServiceType).includes(serviceType)) {
        problems.add("serviceType", `"${serviceType}" must be one of ${Object.values(ServiceType).join(", ")}`);
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

function checkDashboard(args: EmqxClusterArgs, problems: Problems): string {
    const username = args.dashboard?.username ?? DEFAULTS.dashboardUsername;
    if (!/^[A-Za-z0-9_.-]+$/.test(username)) {
        problems.add("dashboard.username", `"${username}" may contain only letters, digits, '_', '.' and '-'`);
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
        const managed = MANAGED_SETTINGS.find((m) => m.pattern.test(path));
        if (managed) {
            problems.add(`emqxConfig["${path}"]`, `is managed by the component; use ${managed.arg}`);
        }
        if (version?.parsesHocon && typeof value === "string" && /^[^"].*(#|\/\/)/.test(value)) {
            problems.add(
                `emqxConfig["${path}"]`,
                `EMQX 5.x reads ${JSON.stringify(value)} as HOCON, where '#' or '//' starts a comment and cuts the value; ` +
                    `wrap it in double quotes: ${JSON.stringify(JSON.stringify(value))}`,
            );
        }
    }
    if (version && extra["node.role"] === "replicant" && !version.supportsReplicantOpenSource && args.licenseKey === undefined) {
        problems.add(
            'emqxConfig["node.role"]',
            `open-source EMQX ${version.version} refuses the replicant role (from 5.8.0 on); remove node.role, ` +
                `use 5.0-5.7, or a licensed release with licenseKey`,
        );
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
    checkEtcd(args, mode, problems);
    const placement = checkPlacement(args, problems);
    const storage = checkStorage(args, problems);
    const service = checkService(args, problems);
    const image = checkImage(args, problems);
    const dashboardUsername = checkDashboard(args, problems);
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
