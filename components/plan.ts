import * as pulumi from "@pulumi/pulumi";
import {
    DiscoveryMode,
    EmqxClusterArgs,
    NodePortsArgs,
    ResourcesArgs,
    ServiceType,
    VolumeRetention,
} from "./args";
import { DISCOVERY_STRATEGIES, DiscoveryStrategy, discoverySettings } from "./discovery";
import { ClusterNames, MAX_BASE_NAME_LENGTH, clusterNames } from "./names";
import { ChangeGuardState } from "./changes";
import { VersionProfile, resolveVersion } from "./versions";
import {
    NODE_PORT_RANGE,
    isDns1035Label,
    isDns1123Label,
    isDns1123Subdomain,
    storageBytes,
} from "./validation";

/** Defaults of every optional arg, in one place. */
export const DEFAULTS = {
    replicas: 3,
    version: "5.8.9",
    discovery: "dns" as DiscoveryMode,
    persistence: true,
    storageSize: "1Gi",
    volumeGeneration: 0,
    volumeRetentionOnScaleDown: "Retain" as VolumeRetention,
    namespace: "default",
    serviceType: "NodePort" as ServiceType,
    externalHost: "localhost",
    clusterDomain: "cluster.local",
    image: "emqx/emqx",
    dashboardUsername: "admin",
    etcdPrefix: "emqxcl",
} as const;

export type ListenerName = keyof NodePortsArgs | "api";

/** A port clients reach through the client Service. */
export interface Listener {
    readonly name: ListenerName;
    readonly port: number;
    readonly tls: boolean;
    /** The pinned NodePort, if any. */
    readonly nodePort?: number;
}

/** Ports nodes use to talk to each other: Erlang distribution and gen_rpc. */
export const CLUSTER_PORTS = { ekka: 4370, genrpc: 5369 } as const;

/** Where the etcd TLS Secret is mounted. */
export const ETCD_TLS_DIR = "/opt/emqx/etc/etcd-tls";
export const DATA_DIR = "/opt/emqx/data";

/** Keys of the component's Secret. */
export const SECRET_KEYS = {
    cookie: "erlang-cookie",
    dashboardPassword: "dashboard-password",
    licenseKey: "license-key",
} as const;

/**
 * Every decision the component makes, as plain data: names, version profile, discovery, ports, storage and the
 * EMQX settings. Builders turn it into Kubernetes objects without deciding anything again.
 */
export interface ClusterPlan {
    readonly names: ClusterNames;
    readonly namespace: string;
    readonly clusterDomain: string;
    readonly replicas: number;
    readonly version: VersionProfile;
    readonly discovery: DiscoveryStrategy;
    /** `repository:tag` (or `repository:tag@sha256:...`). */
    readonly image: string;
    /** Labels that select the cluster's pods; never change for the life of the cluster. */
    readonly selectorLabels: Readonly<Record<string, string>>;
    /** Labels on every object. */
    readonly labels: Readonly<Record<string, string>>;
    readonly persistence: {
        readonly enabled: boolean;
        readonly storageClass?: string;
        readonly size: string;
        readonly claimTemplateName: string;
        readonly retentionOnScaleDown: VolumeRetention;
    };
    readonly serviceType: ServiceType;
    readonly listeners: readonly Listener[];
    /** Non-secret EMQX settings by configuration path: discovery, node, dashboard user, `emqxConfig`. */
    readonly settings: Readonly<Record<string, pulumi.Input<string>>>;
    readonly dashboardUsername: string;
    readonly dashboardPassword?: pulumi.Input<string>;
    readonly licenseKey?: pulumi.Input<string>;
    readonly externalHost: pulumi.Input<string>;
    readonly resources?: ResourcesArgs;
    readonly etcdTlsSecretName?: string;
    readonly createPodDisruptionBudget: boolean;
    /** What the change guard compares between the running cluster and this plan. */
    readonly guard: ChangeGuardState;
    readonly warnings: readonly string[];
}

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

const LISTENER_PORTS: readonly { name: keyof NodePortsArgs; port: number; tls: boolean }[] = [
    { name: "mqtt", port: 1883, tls: false },
    { name: "mqtts", port: 8883, tls: true },
    { name: "ws", port: 8083, tls: false },
    { name: "wss", port: 8084, tls: true },
    { name: "dashboard", port: 18083, tls: false },
];

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

/** `cluster.dns.name` -> `EMQX_CLUSTER__DNS__NAME`, the override EMQX 4.x and 5.x both read. */
export function settingEnvName(path: string): string {
    return `EMQX_${path.replace(/\./g, "__").toUpperCase()}`;
}

/**
 * Validates and defaults the args into a plan. Throws `EmqxArgsError` listing every problem; nothing is created
 * before this returns.
 */
export function planCluster(componentName: string, args: EmqxClusterArgs): ClusterPlan {
    const problems: string[] = [];
    const warnings: string[] = [];
    const problem = (field: string, message: string) => problems.push(`${field}: ${message}`);

    const base = args.clusterName ?? componentName;
    if (!isDns1035Label(base) || base.length > MAX_BASE_NAME_LENGTH) {
        problem(
            args.clusterName === undefined ? "name" : "clusterName",
            `"${base}" must be a lowercase DNS label (letters, digits, '-'; starting with a letter) of at most ` +
                `${MAX_BASE_NAME_LENGTH} characters, so pod host names and the StatefulSet's revision labels stay ` +
                `within 63 characters; pass a shorter clusterName`,
        );
    }

    const replicas = args.replicas ?? DEFAULTS.replicas;
    if (!Number.isInteger(replicas) || replicas < 1) {
        problem("replicas", `${JSON.stringify(args.replicas)} is not a positive integer; use 1 or more (odd counts, e.g. 3)`);
    } else if (replicas > 1 && replicas % 2 === 0) {
        warnings.push(
            `replicas is ${replicas}: an even node count can split into two equal halves (split brain); prefer ${replicas + 1}`,
        );
    }

    const discoveryMode = args.discovery ?? DEFAULTS.discovery;
    const discovery = Object.hasOwn(DISCOVERY_STRATEGIES, discoveryMode)
        ? DISCOVERY_STRATEGIES[discoveryMode as DiscoveryMode]
        : undefined;
    if (!discovery) {
        problem("discovery", `unknown mode "${discoveryMode}"; use one of ${Object.values(DiscoveryMode).join(", ")}`);
    }

    const resolved = resolveVersion(args.version ?? DEFAULTS.version);
    const version = typeof resolved === "string" ? undefined : resolved;
    if (typeof resolved === "string") {
        problem("version", resolved);
    }

    if (version && discovery && !version.family.discoveryModes.includes(discovery.mode)) {
        problem(
            "discovery",
            `"${discovery.mode}" does not form a cluster on EMQX ${version.family.name}: it resolves DNS A records ` +
                `only, which give IP-based node names that change on every restart; use "k8s" or "static", or EMQX 4.4+`,
        );
    }
    if (discovery?.maxReplicas !== undefined && Number.isInteger(replicas) && replicas > discovery.maxReplicas) {
        problem(
            "discovery",
            `"${discovery.mode}" runs a single node that never joins others, but replicas is ${replicas}; ` +
                `use "dns", "k8s" or "static" for a cluster, or set replicas to 1`,
        );
    }

    if (version?.family.licenceRequiredForCluster && replicas > 1 && args.licenseKey === undefined) {
        problem(
            "licenseKey",
            `EMQX ${version.version} is a Business Source License release: without a licence key it runs a single ` +
                `node and a second node fails with SINGLE_NODE_LICENSE. Pass licenseKey (a pulumi secret), set ` +
                `replicas to 1, or use 5.8.9, the last Apache-2.0 release`,
        );
    }
    if (version && args.licenseKey !== undefined && !version.licenseKeyPath) {
        problem("licenseKey", `EMQX ${version.version} takes no licence key; remove licenseKey or use EMQX 5.x`);
    }

    const etcdArgs = args.etcd;
    if (discovery?.mode === "etcd") {
        if (!etcdArgs || !Array.isArray(etcdArgs.endpoints) || etcdArgs.endpoints.length === 0) {
            problem("etcd.endpoints", `discovery "etcd" needs at least one etcd client URL, e.g. ["http://etcd:2379"]`);
        } else {
            for (const endpoint of etcdArgs.endpoints) {
                if (!/^https?:\/\/[^\s,]+$/.test(endpoint)) {
                    problem("etcd.endpoints", `"${endpoint}" is not an http:// or https:// URL`);
                }
            }
        }
        if (etcdArgs?.tlsSecretName !== undefined && !isDns1123Subdomain(etcdArgs.tlsSecretName)) {
            problem("etcd.tlsSecretName", `"${etcdArgs.tlsSecretName}" is not a valid Secret name`);
        }
        if (etcdArgs?.prefix !== undefined && !/^[A-Za-z0-9_-]+$/.test(etcdArgs.prefix)) {
            problem("etcd.prefix", `"${etcdArgs.prefix}" may contain only letters, digits, '_' and '-'`);
        }
    } else if (etcdArgs !== undefined) {
        problem("etcd", `etcd settings apply only to discovery "etcd" (discovery is "${discoveryMode}"); remove etcd`);
    }

    const namespace = args.namespace ?? DEFAULTS.namespace;
    if (!isDns1123Label(namespace)) {
        problem("namespace", `"${namespace}" is not a valid namespace name (lowercase letters, digits, '-', at most 63)`);
    }
    const clusterDomain = args.clusterDomain ?? DEFAULTS.clusterDomain;
    if (!isDns1123Subdomain(clusterDomain)) {
        problem("clusterDomain", `"${clusterDomain}" is not a DNS domain such as cluster.local`);
    }

    const persistence = args.persistence ?? DEFAULTS.persistence;
    const storageSize = args.storageSize ?? DEFAULTS.storageSize;
    const sizeBytes = storageBytes(storageSize);
    if (sizeBytes === undefined || sizeBytes <= 0) {
        problem("storageSize", `"${storageSize}" is not a positive Kubernetes quantity such as 1Gi or 500Mi`);
    }
    if (args.storageClass !== undefined && !isDns1123Subdomain(args.storageClass)) {
        problem("storageClass", `"${args.storageClass}" is not a valid StorageClass name (lowercase DNS subdomain)`);
    }
    if (!persistence && args.storageClass !== undefined) {
        problem("storageClass", `has no effect with persistence off; remove storageClass or set persistence to true`);
    }
    const volumeGeneration = args.volumeGeneration ?? DEFAULTS.volumeGeneration;
    if (!Number.isInteger(volumeGeneration) || volumeGeneration < 0) {
        problem("volumeGeneration", `${JSON.stringify(volumeGeneration)} must be a whole number, 0 or more`);
    }
    const retentionOnScaleDown = args.volumeRetentionOnScaleDown ?? DEFAULTS.volumeRetentionOnScaleDown;
    if (!Object.values(VolumeRetention).includes(retentionOnScaleDown)) {
        problem("volumeRetentionOnScaleDown", `"${retentionOnScaleDown}" must be "Retain" or "Delete"`);
    }

    const serviceType = args.serviceType ?? DEFAULTS.serviceType;
    if (!Object.values(ServiceType).includes(serviceType)) {
        problem("serviceType", `"${serviceType}" must be one of ${Object.values(ServiceType).join(", ")}`);
    }
    const pinned = args.nodePorts ?? {};
    const pinnedEntries = Object.entries(pinned).filter(([, port]) => port !== undefined) as [string, number][];
    if (serviceType === "ClusterIP" && pinnedEntries.length > 0) {
        problem("nodePorts", `a ClusterIP Service has no NodePorts; remove nodePorts or set serviceType to NodePort`);
    }
    const seenPorts = new Map<number, string>();
    for (const [listener, port] of pinnedEntries) {
        if (!LISTENER_PORTS.some((l) => l.name === listener)) {
            problem(`nodePorts.${listener}`, `unknown listener; use ${LISTENER_PORTS.map((l) => l.name).join(", ")}`);
        }
        if (!Number.isInteger(port) || port < NODE_PORT_RANGE.min || port > NODE_PORT_RANGE.max) {
            problem(
                `nodePorts.${listener}`,
                `${port} is outside the NodePort range ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
            );
        }
        const other = seenPorts.get(port);
        if (other) {
            problem(`nodePorts.${listener}`, `${port} is already pinned for nodePorts.${other}; every listener needs its own`);
        }
        seenPorts.set(port, listener);
    }

    const image = args.image ?? DEFAULTS.image;
    const lastSegment = image.split("/").pop() ?? "";
    if (!/^[a-z0-9][a-z0-9._/:-]*$/.test(image) || lastSegment.includes(":") || image.includes("@")) {
        problem("image", `"${image}" must be a repository without tag or digest, e.g. emqx/emqx; the tag comes from version`);
    }

    const dashboardUsername = args.dashboard?.username ?? DEFAULTS.dashboardUsername;
    if (!/^[A-Za-z0-9_.-]+$/.test(dashboardUsername)) {
        problem("dashboard.username", `"${dashboardUsername}" may contain only letters, digits, '_', '.' and '-'`);
    }

    const extra = args.emqxConfig ?? {};
    if (!isPlainObject(extra)) {
        problem("emqxConfig", `must be an object of configuration paths to values`);
    }
    for (const [path, value] of Object.entries(isPlainObject(extra) ? extra : {})) {
        if (!CONFIG_PATH.test(path)) {
            problem(`emqxConfig["${path}"]`, `is not an EMQX configuration path such as "mqtt.max_packet_size"`);
            continue;
        }
        const managed = MANAGED_SETTINGS.find((m) => m.pattern.test(path));
        if (managed) {
            problem(`emqxConfig["${path}"]`, `is managed by the component; use ${managed.arg}`);
        }
        if (version?.family.major === 5 && typeof value === "string" && /^[^"].*(#|\/\/)/.test(value)) {
            problem(
                `emqxConfig["${path}"]`,
                `EMQX 5.x reads ${JSON.stringify(value)} as HOCON, where '#' or '//' starts a comment and cuts the value; ` +
                    `wrap it in double quotes: ${JSON.stringify(JSON.stringify(value))}`,
            );
        }
    }

    const role = isPlainObject(extra) ? extra["node.role"] : undefined;
    if (version && role === "replicant" && !version.supportsReplicantOpenSource && args.licenseKey === undefined) {
        problem(
            'emqxConfig["node.role"]',
            `open-source EMQX ${version.version} refuses the replicant role (from 5.8.0 on); remove node.role, ` +
                `use 5.0-5.7, or a licensed release with licenseKey`,
        );
    }

    if (problems.length > 0 || !version || !discovery) {
        throw new EmqxArgsError(componentName, problems);
    }

    const names = clusterNames(base, namespace, clusterDomain);
    if (names.podFqdn(replicas - 1).length > 253) {
        throw new EmqxArgsError(componentName, [
            `clusterName/namespace/clusterDomain: the pod host name ${names.podFqdn(replicas - 1)} exceeds 253 characters; shorten one of them`,
        ]);
    }
    const nodeNames = Array.from({ length: replicas }, (_, ordinal) => names.nodeName(ordinal));

    const discoveryKeys = discoverySettings(discovery, {
        major: version.family.major,
        nodeBaseName: names.nodeBaseName,
        namespace,
        clusterDomain,
        headlessServiceName: names.headlessService,
        headlessServiceFqdn: names.headlessServiceFqdn,
        nodeNames,
        etcd:
            discovery.mode === "etcd" && etcdArgs
                ? {
                      endpoints: etcdArgs.endpoints,
                      prefix: etcdArgs.prefix ?? DEFAULTS.etcdPrefix,
                      tlsDir: etcdArgs.tlsSecretName ? ETCD_TLS_DIR : undefined,
                  }
                : undefined,
    });

    const listeners: Listener[] = LISTENER_PORTS.map((l) => ({ ...l, nodePort: pinned[l.name] }));
    if (version.managementPort !== undefined) {
        listeners.push({ name: "api", port: version.managementPort, tls: false });
    }

    const selectorLabels = {
        "app.kubernetes.io/name": "emqx",
        "app.kubernetes.io/instance": base,
    };
    const storageClass = persistence ? args.storageClass : undefined;

    return {
        names,
        namespace,
        clusterDomain,
        replicas,
        version,
        discovery,
        image: `${image}:${version.imageTag}`,
        selectorLabels,
        labels: {
            ...selectorLabels,
            "app.kubernetes.io/version": version.version.replace(/[^A-Za-z0-9_.-]/g, "_"),
            "app.kubernetes.io/managed-by": "pulumi",
            "app.kubernetes.io/component": "broker",
        },
        persistence: {
            enabled: persistence,
            storageClass,
            size: storageSize,
            // A new generation gets new claim names, so a replacement never adopts the old volumes.
            claimTemplateName: volumeGeneration === 0 ? "data" : `data-g${volumeGeneration}`,
            retentionOnScaleDown,
        },
        serviceType,
        listeners,
        settings: {
            // The same name on every pod; EMQX_HOST (set per pod) completes the node name.
            name: names.nodeBaseName,
            ...discoveryKeys,
            [version.dashboardUsernamePath]: dashboardUsername,
            ...(isPlainObject(extra) ? extra : {}),
        },
        dashboardUsername,
        dashboardPassword: args.dashboard?.password,
        licenseKey: args.licenseKey,
        externalHost: args.externalHost ?? DEFAULTS.externalHost,
        resources: args.resources,
        etcdTlsSecretName: discovery.mode === "etcd" ? etcdArgs?.tlsSecretName : undefined,
        createPodDisruptionBudget: replicas > 1,
        guard: {
            clusterName: base,
            namespace,
            version: version.version,
            major: version.family.major,
            versionRank: version.rank,
            rollsFrom: version.rollsFrom ?? "",
            rollsFromRank: version.rollsFromRank,
            persistence,
            storageClass: storageClass ?? "",
            storageSize,
            storageBytes: sizeBytes ?? 0,
            volumeGeneration,
        },
        warnings,
    };
}
