import * as pulumi from "@pulumi/pulumi";
import { ClientListener, ClientServiceArgs, DEFAULTS, DashboardServiceArgs, DiscoveryMode, ExternalTrafficPolicy, EmqxClusterArgs, EtcdArgs, IpFamily, NodePortsArgs, ServiceType, VolumeRetention } from "./args";
import { DISCOVERY_STRATEGIES, DiscoveryStrategy } from "./discovery";
import { MAX_STATEFULSET_NAME_LENGTH, ownedPodMetadata, statefulSetName } from "./names";
import { PlacementArgs, PodArgs, placementProblems } from "./placement";
import { autocleanProblem } from "./membership";
import { ContainersArgs } from "./extras";
import { INGRESS_ROUTES, IngressArgs, IngressRoute, ingressProblems } from "./ingress";
import { MonitorKind, MonitoringArgs, metricsServed, monitoringProblems, monitoringWarnings } from "./monitoring";
import { AuthPlan, authProblems, planAuth } from "./auth";
import { NetworkPolicyArgs, networkPolicyProblems, networkPolicyWarnings } from "./network-policy";
import { DATA_DIR } from "./names";
import { CLUSTER_PORTS, DASHBOARD_PORT, DASHBOARD_TLS_PORT, LISTENER_PORTS } from "./ports";
import { VersionProfile, resolveVersion } from "./versions";
import { TlsArgs, TlsShape, exampleCertificateWarning, tlsProblems, tlsShape, tlsStructureProblems } from "./tls";
import {
    NODE_PORT_RANGE,
    entrypointValueProblem,
    externalHostProblem,
    isCidr,
    isQualifiedName,
    isDns1035Label,
    isDns1123Label,
    isDns1123Subdomain,
    isPlainObject,
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
    readonly etcd?: Unwrapped<EtcdArgs>;
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
    /** The client Service's options, as given (checked). */
    readonly clientService: Unwrapped<ClientServiceArgs>;
    /** The MQTT listeners the client Service exposes, in the order of `LISTENER_PORTS`. */
    readonly clientListeners: readonly ClientListener[];
    /** `networkPolicy` as given (checked); the plan applies the defaults. */
    readonly networkPolicy?: Unwrapped<NetworkPolicyArgs>;
    /** Whether the NetworkPolicy exists (`networkPolicy.enabled`, default true). */
    readonly createNetworkPolicy: boolean;
    readonly image: string;
    readonly dashboardUsername: string;
    /** The dashboard Service: its type and pinned NodePort. */
    readonly dashboardService: { readonly type: ServiceType; readonly nodePort?: number };
    readonly emqxConfig: Readonly<Record<string, string>>;
    /** `cluster.autoclean` as given (checked); undefined: the release's default. */
    readonly autoclean?: string;
    readonly hasLicenseKey: boolean;
    /** Client authentication and authorization, secret settings and the management application, planned. */
    readonly auth: AuthPlan;
    readonly acknowledgedChanges: readonly string[];
    readonly changeGuard: boolean;
    /** Additions to the pods as given (checked once the component's own env is planned). */
    readonly containers?: Unwrapped<ContainersArgs>;
    /** Scheduling and pod options as given (checked; the plan applies the defaults). */
    readonly placement?: Unwrapped<PlacementArgs>;
    readonly pod?: Unwrapped<PodArgs>;
    /** TLS as given (checked; the plan makes the settings and the Certificate). */
    readonly tls?: Unwrapped<TlsArgs>;
    /** Whether a Certificate exists and the dashboard serves HTTPS; undefined without `tls`. */
    readonly tlsShape?: TlsShape;
    /** More than one node: a PodDisruptionBudget keeps a drain from stopping two at once. */
    readonly createPodDisruptionBudget: boolean;
    /** The scrape object as given (checked); undefined: none. */
    readonly monitoring?: Unwrapped<MonitoringArgs>;
    /** The kind of scrape object, when `monitoring` is given. */
    readonly monitorKind?: MonitorKind;
    /** The Ingresses as given (checked). */
    readonly ingress?: Unwrapped<IngressArgs>;
    /** The listeners that get an Ingress. */
    readonly ingressRoutes: readonly IngressRoute[];
    readonly warnings: readonly string[];
}

/** What the constructor decides before any Input is known: which objects exist. */
export type ClusterShape = Pick<
    CheckedArgs,
        | "base"
    | "replicas"
    | "version"
    | "discovery"
    | "persistence"
    | "volumeGeneration"
    | "serviceType"
    | "changeGuard"
    | "createPodDisruptionBudget"
    | "monitorKind"
    | "ingressRoutes"
    | "tlsShape"
    | "createNetworkPolicy"
    | "warnings"
>;

type Unwrapped<T> = pulumi.Unwrap<T>;

/**
 * The args with every Input resolved, except the secret ones (`dashboard.password`, `licenseKey`), which flow
 * only into the credentials and never into the plan.
 */
export type ResolvedArgs = Omit<Unwrapped<EmqxClusterArgs>, "dashboard" | "licenseKey"> & {
    readonly dashboard?: { readonly username?: string; readonly service?: Unwrapped<DashboardServiceArgs> };
    /** Whether a licence key was given; its value stays out of the plan. */
    readonly hasLicenseKey?: boolean;
};

/** Collects problems as `field: what is wrong and how to fix it`. */
class Problems {
    readonly list: string[] = [];
    add(field: string, message: string): void {
        this.list.push(`${field}: ${message}`);
    }
}

/** What a value check may need to know besides the value. */
export interface ValueContext {
    /** Undefined when the version itself is invalid. */
    readonly version?: VersionProfile;
}

/** A check of one arg's plain value: the problem (what is wrong and the fix), or undefined when it is fine. */
export type ValueCheck<T> = (value: T, context: ValueContext) => string | undefined;

/**
 * The checks of the args that take `Input<>`, by field. Each runs on the plain value: at once when the arg is a
 * plain value, and when an Output's value is known otherwise, before any object that uses it is created (in
 * `planCluster`, or for the secret ones in `checkedSecret`). Add a check to a field's list to have it run in both cases.
 */
export const VALUE_CHECKS: {
    readonly namespace: readonly ValueCheck<string>[];
    readonly clusterDomain: readonly ValueCheck<string>[];
    readonly storageClass: readonly ValueCheck<string>[];
    readonly storageSize: readonly ValueCheck<string>[];
    readonly externalHost: readonly ValueCheck<string>[];
    readonly image: readonly ValueCheck<string>[];
    readonly "dashboard.username": readonly ValueCheck<string>[];
    readonly "dashboard.password": readonly ValueCheck<string>[];
    readonly licenseKey: readonly ValueCheck<string>[];
    readonly "etcd.endpoints": readonly ValueCheck<string>[];
    readonly autoclean: readonly ValueCheck<string>[];
} = {
    namespace: [
        (namespace) =>
            isDns1123Label(namespace)
                ? undefined
                : `"${namespace}" is not a valid namespace name (lowercase letters, digits, '-', at most 63)`,
    ],
    clusterDomain: [
        (domain) => (isDns1123Subdomain(domain) ? undefined : `"${domain}" is not a DNS domain such as cluster.local`),
    ],
    storageClass: [storageClassProblem],
    storageSize: [storageSizeProblem],
    externalHost: [externalHostProblem],
    image: [
        (image) => {
            const lastSegment = image.split("/").pop() ?? "";
            return /^[a-z0-9][a-z0-9._/:-]*$/.test(image) && !lastSegment.includes(":") && !image.includes("@")
                ? undefined
                : `"${image}" must be a repository without tag or digest, e.g. emqx/emqx; the tag comes from version`;
        },
    ],
    "dashboard.username": [
        (username) =>
            /^[A-Za-z0-9_.-]+$/.test(username) ? undefined : `"${username}" may contain only letters, digits, '_', '.' and '-'`,
    ],
    "dashboard.password": [
        (password, { version }) => {
            const problem = version && entrypointValueProblem(version.version, version.entrypoint)(password);
            return problem ? `${problem} (the admin account would get another password than the output says)` : undefined;
        },
    ],
    licenseKey: [],
    "etcd.endpoints": [
        (endpoint) => (/^https?:\/\/[^\s,]+$/.test(endpoint) ? undefined : `"${endpoint}" is not an http:// or https:// URL`),
        // The endpoints reach cluster.etcd.server, which the 4.0-4.2 entrypoints rewrite like every value.
        (endpoint, { version }) => {
            const problem = version && entrypointValueProblem(version.version, version.entrypoint)(endpoint);
            return problem ? `"${endpoint}": ${problem}` : undefined;
        },
    ],
    autoclean: [(value, { version }) => autocleanProblem(value, version)],
};

type CheckedField = keyof typeof VALUE_CHECKS;

/**
 * Runs the checks of `field` on a plain value and returns the problems as `field: message`. For values that only
 * become known later (inside an apply), so that they fail with the same messages as plain ones.
 */
export function valueProblems(field: CheckedField, value: string, context: ValueContext): string[] {
    return VALUE_CHECKS[field].flatMap((check) => {
        const problem = check(value, context);
        return problem === undefined ? [] : [`${field}: ${problem}`];
    });
}

/** Whether a value is (or holds, at any depth) an Output or a Promise: its value is not known yet. */
export function isDeferred(value: unknown): boolean {
    if (pulumi.Output.isInstance(value) || value instanceof Promise) {
        return true;
    }
    if (Array.isArray(value)) {
        return value.some(isDeferred);
    }
    if (isPlainObject(value) && !pulumi.Resource.isInstance(value)) {
        return Object.values(value).some(isDeferred);
    }
    return false;
}

/** The value of an Input when it is known now; `undefined` for an unset or not-yet-known one. */
function known<T>(value: pulumi.Input<T> | undefined): T | undefined {
    return isDeferred(value) ? undefined : (value as T | undefined);
}

function checkKnown(problems: Problems, field: CheckedField, value: unknown, context: ValueContext): void {
    if (typeof value === "string") {
        problems.list.push(...valueProblems(field, value, context));
    }
}

// Args the constructor branches on: which objects exist, their Pulumi names, the guard.
const STRUCTURAL_ARGS = [
    "replicas",
    "version",
    "discovery",
    "persistence",
    "volumeGeneration",
    "volumeRetentionOnScaleDown",
    "clusterName",
    "serviceType",
    "nodePorts",
    "ipFamily",
    "acknowledgedChanges",
    "changeGuard",
    "authentication",
] as const;

/** `monitoring` and `ingress` decide which objects exist: the objects, `monitoring.kind` and each route are plain. */
function checkPlainExposure(args: EmqxClusterArgs, problems: Problems): void {
    const deferred = (value: unknown) => pulumi.Output.isInstance(value) || value instanceof Promise;
    // Inside an Output, only the Output itself is named (its fields would be Outputs too).
    const plainFields: [string, unknown][] = [
        ["monitoring", args.monitoring],
        ...(deferred(args.monitoring) ? [] : [["monitoring.kind", args.monitoring?.kind] as [string, unknown]]),
        ["ingress", args.ingress],
        ...(deferred(args.ingress) ? [] : INGRESS_ROUTES.map((route): [string, unknown] => [`ingress.${route}`, args.ingress?.[route]])),
    ];
    for (const [field, value] of plainFields) {
        if (deferred(value)) {
            problems.add(
                field,
                `must be a plain value, not an Output: it decides which objects the component creates; pass the ` +
                    `object itself (its fields may be Outputs)`,
            );
        }
    }
}

function checkPlainStructure(args: EmqxClusterArgs, problems: Problems): void {
    checkPlainExposure(args, problems);
    // Whether the NetworkPolicy exists; its peer lists take Inputs.
    const networkPolicy = args.networkPolicy;
    if (isDeferred(networkPolicy) && (!isPlainObject(networkPolicy) || isDeferred(networkPolicy.enabled))) {
        problems.add(
            isPlainObject(networkPolicy) ? "networkPolicy.enabled" : "networkPolicy",
            `must be a plain value, not an Output: it decides whether the NetworkPolicy exists, before any Output is ` +
                `known. Pass networkPolicy as an object and enabled as true or false; its peer lists may be Outputs`,
        );
    }
    for (const field of STRUCTURAL_ARGS) {
        if (isDeferred(args[field])) {
            problems.add(
                field,
                `must be a plain value, not an Output: it decides which objects the component creates, before any ` +
                    `Output is known. Pass the value itself (a literal or a config value); if it comes from another ` +
                    `resource, pass that value as a literal and add the resource to the component's dependsOn`,
            );
        }
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
            `${LISTENER_PORTS.map((l) => l.port).join(", ")}`,
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
        fix: "remove it; use dashboard.service to expose it differently, ipFamily for IPv6",
    },
    {
        pattern: /^(dashboard|management)\.listener\.http(\.(inet6|ipv6_v6only))?$/,
        majors: [4],
        why:
            "the probes (GET :8081/status), the Services and dashboardUrl use the management API on 8081 and the " +
            "dashboard on 18083",
        fix: "remove it; use dashboard.service to expose them differently",
    },
    {
        pattern: /^dashboard\.default_(username|password|user)(\.|$)/,
        majors: [4, 5],
        why: "the component seeds the dashboard's admin account",
        fix: "use dashboard",
    },
    { pattern: /^license\./, majors: [4, 5], why: "the component passes the licence from a Secret", fix: "use licenseKey" },
    {
        pattern: /^cluster\.autoclean$/,
        majors: [4, 5],
        why: "the component sets how long a stopped node stays a member, with a default per release",
        fix: "use autoclean",
    },
];

/** Why an EMQX setting is the component's and which arg to use instead, or undefined when it is not. */
export function managedSetting(path: string, version: VersionProfile | undefined): { why: string; fix: string } | undefined {
    return MANAGED_SETTINGS.find((m) => m.pattern.test(path) && (!version || m.majors.includes(version.family.major)));
}

const CONFIG_PATH = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;



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
function checkTopology(args: EmqxClusterArgs, hasLicenseKey: boolean, problems: Problems, warnings: string[]) {
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

    if (version?.family.licenceRequiredForCluster && replicas > 1 && !hasLicenseKey) {
        problems.add(
            "licenseKey",
            `EMQX ${version.version} is a Business Source License release: without a licence key it runs a single ` +
                `node and a second node fails with SINGLE_NODE_LICENSE. Pass licenseKey (a pulumi secret) or licenseKeySecret, set ` +
                `replicas to 1, or use 5.8.9, the last Apache-2.0 release`,
        );
    }
    const byValue = args.licenseKey !== undefined || (args as ResolvedArgs).hasLicenseKey === true;
    if (version && byValue && !version.licenseKeyPath) {
        problems.add("licenseKey", `EMQX ${version.version} takes no licence key; remove licenseKey or use EMQX 5.x`);
    }
    return { replicas, discovery, version, mode };
}

function checkEtcd(args: EmqxClusterArgs, mode: string, problems: Problems, context: ValueContext): void {
    if (mode !== "etcd") {
        if (args.etcd !== undefined) {
            problems.add("etcd", `etcd settings apply only to discovery "etcd" (discovery is "${mode}"); remove etcd`);
        }
        return;
    }
    if (args.etcd === undefined) {
        problems.add("etcd.endpoints", `discovery "etcd" needs at least one etcd client URL, e.g. ["http://etcd:2379"]`);
        return;
    }
    const etcd = known(args.etcd);
    if (!etcd) {
        return;
    }
    const endpoints = known(etcd.endpoints);
    if (endpoints !== undefined && (!Array.isArray(endpoints) || endpoints.length === 0)) {
        problems.add("etcd.endpoints", `discovery "etcd" needs at least one etcd client URL, e.g. ["http://etcd:2379"]`);
    }
    for (const endpoint of Array.isArray(endpoints) ? endpoints : []) {
        checkKnown(problems, "etcd.endpoints", endpoint, context);
    }
    if (etcd.tlsSecretName !== undefined && !isDns1123Subdomain(etcd.tlsSecretName)) {
        problems.add("etcd.tlsSecretName", `"${etcd.tlsSecretName}" is not a valid Secret name`);
    }
    if (etcd.prefix !== undefined && !/^[A-Za-z0-9_-]+$/.test(etcd.prefix)) {
        problems.add("etcd.prefix", `"${etcd.prefix}" may contain only letters, digits, '_' and '-'`);
    }
}

function checkPlacement(
    args: EmqxClusterArgs,
    discovery: DiscoveryStrategy | undefined,
    problems: Problems,
    context: ValueContext,
) {
    const { version } = context;
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
    const namespace = known(args.namespace) ?? DEFAULTS.namespace;
    checkKnown(problems, "namespace", namespace, context);
    const clusterDomain = known(args.clusterDomain) ?? DEFAULTS.clusterDomain;
    checkKnown(problems, "clusterDomain", clusterDomain, context);
    checkKnown(problems, "externalHost", known(args.externalHost), context);
    return { namespace, clusterDomain, ipFamily };
}

function checkStorage(args: EmqxClusterArgs, problems: Problems, context: ValueContext) {
    const persistence = args.persistence ?? DEFAULTS.persistence;
    const storageSize = known(args.storageSize) ?? DEFAULTS.storageSize;
    checkKnown(problems, "storageSize", storageSize, context);
    const storageClass = known(args.storageClass);
    checkKnown(problems, "storageClass", storageClass, context);
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
        storageClass: persistence ? storageClass : undefined,
        storageSize,
        storageBytes: storageBytes(storageSize) ?? 0,
        volumeGeneration,
        retentionOnScaleDown,
    };
}

function checkService(args: EmqxClusterArgs, problems: Problems, warnings: string[]) {
    const serviceType = args.serviceType ?? DEFAULTS.serviceType;
    if (!Object.values(ServiceType).includes(serviceType)) {
        problems.add("serviceType", `"${serviceType}" must be one of ${Object.values(ServiceType).join(", ")}`);
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
        if (listener === "dashboard") {
            problems.add(
                "nodePorts.dashboard",
                `the dashboard has its own Service, private by default; to expose it on a NodePort use ` +
                    `dashboard: { service: { type: "NodePort", nodePort: ${port} } }`,
            );
            continue;
        }
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

const ALL_CLIENT_LISTENERS: readonly ClientListener[] = LISTENER_PORTS.map((l) => l.name);

/** `service.listeners`: known listener names, each once, at least one; no pinned NodePort for one left out. */
function checkClientListeners(given: unknown, nodePorts: NodePortsArgs, problems: Problems): readonly ClientListener[] {
    const listeners = known(given as pulumi.Input<ClientListener[]> | undefined);
    if (listeners === undefined) {
        return ALL_CLIENT_LISTENERS;
    }
    const names = ALL_CLIENT_LISTENERS.map((l) => JSON.stringify(l)).join(", ");
    if (!Array.isArray(listeners) || listeners.length === 0) {
        problems.add(
            "service.listeners",
            `must list at least one of ${names}, e.g. ["mqtt", "mqtts"]; omit it for all four (a cluster clients cannot ` +
                `reach needs no client Service: use serviceType "ClusterIP")`,
        );
        return ALL_CLIENT_LISTENERS;
    }
    listeners.forEach((listener, i) => {
        if (!ALL_CLIENT_LISTENERS.includes(listener)) {
            problems.add(`service.listeners[${i}]`, `${JSON.stringify(listener)} is not a listener; use ${names}`);
        } else if (listeners.indexOf(listener) < i) {
            problems.add(`service.listeners[${i}]`, `"${listener}" is listed twice; list each listener once`);
        }
    });
    for (const [listener, port] of Object.entries(nodePorts)) {
        if (port !== undefined && ALL_CLIENT_LISTENERS.includes(listener as ClientListener) && !listeners.includes(listener as ClientListener)) {
            problems.add(`nodePorts.${listener}`, `the client Service does not expose ${listener} (service.listeners); add it there or remove the NodePort`);
        }
    }
    return ALL_CLIENT_LISTENERS.filter((l) => listeners.includes(l));
}

/** `service`: the client Service's options, each only where the Service's type has it. */
function checkClientService(args: EmqxClusterArgs, serviceType: ServiceType, nodePorts: NodePortsArgs, problems: Problems) {
    const given = known(args.service) ?? {};
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
        problems.add("service", `must be an object such as { annotations: {...}, externalTrafficPolicy: "Local" }`);
        return { clientService: {}, clientListeners: ALL_CLIENT_LISTENERS };
    }
    const clientListeners = checkClientListeners(given.listeners, nodePorts, problems);
    const annotations = known(given.annotations);
    if (annotations !== undefined) {
        if (!isPlainObject(annotations)) {
            problems.add("service.annotations", `must be an object of annotation names to values`);
        } else {
            for (const key of Object.keys(annotations)) {
                if (!isQualifiedName(key)) {
                    problems.add(`service.annotations["${key}"]`, `is not an annotation name such as "service.beta.kubernetes.io/aws-load-balancer-type"`);
                } else if (key.startsWith("pulumi.com/")) {
                    problems.add(`service.annotations["${key}"]`, `pulumi.com/ annotations are the component's (it sets pulumi.com/skipAwait or pulumi.com/waitFor); remove it`);
                }
            }
        }
    }
    const onlyFor = (field: string, types: readonly ServiceType[]) => {
        if (given[field as keyof ClientServiceArgs] !== undefined && !types.includes(serviceType)) {
            problems.add(`service.${field}`, `applies to a ${types.join(" or ")} Service, not ${serviceType}; remove it or change serviceType`);
        }
    };
    onlyFor("loadBalancerSourceRanges", ["LoadBalancer"]);
    onlyFor("loadBalancerClass", ["LoadBalancer"]);
    onlyFor("externalTrafficPolicy", ["NodePort", "LoadBalancer"]);
    const ranges = known(given.loadBalancerSourceRanges);
    if (ranges !== undefined && !Array.isArray(ranges)) {
        problems.add("service.loadBalancerSourceRanges", `must be a list of CIDRs such as ["203.0.113.0/24"]`);
    }
    for (const range of Array.isArray(ranges) ? ranges : []) {
        const cidr = known(range);
        if (cidr !== undefined && (typeof cidr !== "string" || !isCidr(cidr))) {
            problems.add("service.loadBalancerSourceRanges", `${JSON.stringify(cidr)} is not a CIDR such as "203.0.113.0/24" or "2001:db8::/32"`);
        }
    }
    const loadBalancerClass = known(given.loadBalancerClass);
    if (loadBalancerClass !== undefined && (typeof loadBalancerClass !== "string" || !isQualifiedName(loadBalancerClass) || !loadBalancerClass.includes("/"))) {
        problems.add("service.loadBalancerClass", `${JSON.stringify(loadBalancerClass)} must be a prefixed name such as "service.k8s.aws/nlb"`);
    }
    const policy = known(given.externalTrafficPolicy);
    if (policy !== undefined && !Object.values(ExternalTrafficPolicy).includes(policy)) {
        problems.add("service.externalTrafficPolicy", `"${policy}" must be one of ${Object.values(ExternalTrafficPolicy).join(", ")}`);
    }
    return { clientService: given as Unwrapped<ClientServiceArgs>, clientListeners };
}

function checkDashboard(args: EmqxClusterArgs, clientNodePorts: NodePortsArgs, problems: Problems, context: ValueContext) {
    const username = known(known(args.dashboard)?.username) ?? DEFAULTS.dashboardUsername;
    checkKnown(problems, "dashboard.username", username, context);
    // A plain password is checked now; a secret Output once known (`checkedSecret`). Messages never hold the value.
    checkKnown(problems, "dashboard.password", known(known(args.dashboard)?.password), context);
    return { dashboardUsername: username, dashboardService: checkDashboardService(known(args.dashboard)?.service, clientNodePorts, problems) };
}

/** `dashboard.service`: the values known now (the rest once known, through `checkArgs`). */
function checkDashboardService(service: DashboardServiceArgs | undefined, clientNodePorts: NodePortsArgs, problems: Problems) {
    const given = known(service);
    if (given !== undefined && (typeof given !== "object" || given === null || Array.isArray(given))) {
        problems.add("dashboard.service", `must be an object such as { type: "NodePort", nodePort: 31808 }`);
        return { type: DEFAULTS.dashboardServiceType };
    }
    const type = known<ServiceType>(given?.type) ?? DEFAULTS.dashboardServiceType;
    if (!Object.values(ServiceType).includes(type)) {
        problems.add("dashboard.service.type", `"${type}" must be one of ${Object.values(ServiceType).join(", ")}`);
    }
    const nodePort = known<number>(given?.nodePort);
    if (nodePort !== undefined) {
        // A type still to come (an Output) is checked against the NodePort once known.
        if (type === "ClusterIP" && !isDeferred(given?.type)) {
            problems.add(
                "dashboard.service.nodePort",
                `a ClusterIP Service has no NodePort; set dashboard.service.type to "NodePort" or remove the nodePort`,
            );
        } else if (!Number.isInteger(nodePort) || nodePort < NODE_PORT_RANGE.min || nodePort > NODE_PORT_RANGE.max) {
            problems.add(
                "dashboard.service.nodePort",
                `${nodePort} is outside the NodePort range ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
            );
        }
        const clash = Object.entries(clientNodePorts).find(([name, port]) => name !== "dashboard" && port === nodePort);
        if (clash) {
            problems.add("dashboard.service.nodePort", `${nodePort} is already pinned for nodePorts.${clash[0]}; the dashboard needs its own`);
        }
    }
    return { type, nodePort: typeof nodePort === "number" ? nodePort : undefined };
}

function checkEmqxConfig(args: EmqxClusterArgs, problems: Problems, context: ValueContext) {
    const extra = known(args.emqxConfig) ?? {};
    if (!isPlainObject(extra)) {
        problems.add("emqxConfig", `must be an object of configuration paths to values`);
        return {};
    }
    const { version } = context;
    for (const [path, value] of Object.entries(extra)) {
        if (!CONFIG_PATH.test(path)) {
            problems.add(`emqxConfig["${path}"]`, `is not an EMQX configuration path such as "mqtt.max_packet_size"`);
            continue;
        }
        const managed = managedSetting(path, version);
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
    return extra as Record<string, string>;
}

/**
 * `authentication`, `authorization`, `secretSettings` and `licenseKeySecret`: checked and planned once their values
 * are known (those given as Outputs, through `checkArgs`). Undefined while a value is still to come.
 */
function checkAuth(
    args: EmqxClusterArgs,
    base: string,
    version: VersionProfile | undefined,
    emqxConfig: Record<string, string>,
    hasLicenseKey: boolean,
    problems: Problems,
    warnings: string[],
): AuthPlan | undefined {
    const given = {
        authentication: args.authentication,
        authorization: args.authorization,
        secretSettings: args.secretSettings,
        licenseKeySecret: args.licenseKeySecret,
    };
    if (!version || isDeferred(given)) {
        return undefined;
    }
    const authArgs = { ...(given as Unwrapped<typeof given>), hasLicenseKey };
    const context = {
        base,
        version,
        emqxConfigPaths: Object.keys(emqxConfig),
        managedSetting: (path: string) => {
            const managed = managedSetting(path, version);
            return managed && `is managed by the component: ${managed.why}; ${managed.fix}`;
        },
    };
    const found = authProblems(authArgs, context);
    problems.list.push(...found);
    if (found.length > 0) {
        return undefined;
    }
    const plan = planAuth(authArgs, context);
    warnings.push(...plan.warnings);
    return plan;
}

function checkAcknowledged(args: EmqxClusterArgs, problems: Problems, warnings: string[]): readonly string[] {
    const acknowledged = args.acknowledgedChanges ?? [];
    if (!Array.isArray(acknowledged) || acknowledged.some((kind) => typeof kind !== "string")) {
        problems.add("acknowledgedChanges", `must be a list of change kinds, e.g. ["storageSize"]`);
        return [];
    }
    if (acknowledged.length > 0) {
        warnings.push(
            `acknowledgedChanges lets ${acknowledged.join(", ")} changes through the change guard unchecked; ` +
                `remove it once the update that needed it is done`,
        );
    }
    if (args.changeGuard === false) {
        warnings.push(
            `changeGuard is false: nothing refuses an update that would lose data or fail half-way (a version, ` +
                `storage or volume generation change); set it back to true where dynamic providers can run`,
        );
    }
    return acknowledged;
}

/** `monitoring` and `ingress`: which objects exist now, their values when known. */
function checkExposure(
    args: EmqxClusterArgs,
    base: string,
    version: VersionProfile | undefined,
    emqxConfig: Readonly<Record<string, string>>,
    problems: Problems,
    warnings: string[],
) {
    const monitoring = known(args.monitoring) as Unwrapped<MonitoringArgs> | undefined;
    const ingress = known(args.ingress) as Unwrapped<IngressArgs> | undefined;
    if (version) {
        const owned = ownedPodMetadata(base, args.volumeGeneration ?? DEFAULTS.volumeGeneration, version, metricsServed(version, args.monitoring));
        problems.list.push(...monitoringProblems(monitoring, { version, emqxConfig, ownedLabels: owned.labels }));
        const kind = args.monitoring?.kind ?? MonitorKind.ServiceMonitor;
        const httpsDashboard = isPlainObject(args.tls) && args.tls.dashboard === true;
        if (args.monitoring !== undefined && kind === MonitorKind.ServiceMonitor && httpsDashboard && version.prometheusPort === DASHBOARD_PORT) {
            // With tls.dashboard the dashboard Service carries HTTPS (18084) only; the plain port stays on the pods.
            problems.add(
                "monitoring.kind",
                `a ServiceMonitor scrapes the dashboard Service, which with tls.dashboard carries only HTTPS ` +
                    `(${DASHBOARD_TLS_PORT}), not the metrics port ${DASHBOARD_PORT}; set monitoring.kind to ` +
                    `PodMonitor, which scrapes each pod's port ${DASHBOARD_PORT} directly`,
            );
        }
        if (args.monitoring !== undefined) {
            warnings.push(...monitoringWarnings(version));
        }
    }
    problems.list.push(...ingressProblems(ingress));
    return {
        monitoring,
        monitorKind: args.monitoring === undefined ? undefined : (args.monitoring.kind ?? MonitorKind.ServiceMonitor),
        ingress,
        ingressRoutes: INGRESS_ROUTES.filter((route) => isPlainObject(args.ingress) && args.ingress[route] !== undefined),
    };
}

/** `placement` and `pod`, when their values are known. */
function checkScheduling(
    args: EmqxClusterArgs,
    base: string,
    replicas: number,
    version: VersionProfile | undefined,
    problems: Problems,
): { placement?: Unwrapped<PlacementArgs>; pod?: Unwrapped<PodArgs> } {
    const placement = known(args.placement) as Unwrapped<PlacementArgs> | undefined;
    const pod = known(args.pod) as Unwrapped<PodArgs> | undefined;
    if (version && Number.isInteger(replicas)) {
        const owned = ownedPodMetadata(base, args.volumeGeneration ?? DEFAULTS.volumeGeneration, version, metricsServed(version, args.monitoring));
        problems.list.push(...placementProblems(placement, pod, { replicas, owned }));
    }
    return { placement, pod };
}

function collect(componentName: string, args: EmqxClusterArgs) {
    const problems = new Problems();
    const warnings: string[] = [];
    checkPlainStructure(args, problems);
    problems.list.push(...tlsStructureProblems(args.tls));
    if (problems.list.length > 0) {
        throw new EmqxArgsError(componentName, problems.list);
    }
    const hasLicenseKey = args.licenseKey !== undefined || (args as ResolvedArgs).hasLicenseKey === true;
    const hasLicence = hasLicenseKey || args.licenseKeySecret !== undefined;
    const base = checkName(componentName, args, problems);
    const { replicas, version, discovery, mode } = checkTopology(args, hasLicence, problems, warnings);
    const context: ValueContext = { version };
    checkEtcd(args, mode, problems, context);
    const placement = checkPlacement(args, discovery, problems, context);
    const storage = checkStorage(args, problems, context);
    const service = checkService(args, problems, warnings);
    const image = known(args.image) ?? DEFAULTS.image;
    checkKnown(problems, "image", image, context);
    const clientService = checkClientService(args, service.serviceType, service.nodePorts, problems);
    const dashboard = checkDashboard(args, service.nodePorts, problems, context);
    const networkPolicy = args.networkPolicy as Unwrapped<NetworkPolicyArgs> | undefined;
    problems.list.push(...networkPolicyProblems(networkPolicy));
    warnings.push(
        ...networkPolicyWarnings(networkPolicy, dashboard.dashboardService.type, {
            dashboardIngress: isPlainObject(args.ingress) && args.ingress.dashboard !== undefined,
            monitoring: args.monitoring !== undefined,
        }),
    );
    const emqxConfig = checkEmqxConfig(args, problems, context);
    const autoclean = known(args.autoclean);
    checkKnown(problems, "autoclean", autoclean, context);
    problems.list.push(...tlsProblems(args.tls as Unwrapped<TlsArgs> | undefined, { version, emqxConfig, externalHostGiven: args.externalHost !== undefined }));
    const exampleCertificate = exampleCertificateWarning(args.tls, service.serviceType, emqxConfig, clientService.clientListeners);
    if (exampleCertificate) {
        warnings.push(exampleCertificate);
    }
    const auth = checkAuth(args, base, version, emqxConfig, hasLicenseKey, problems, warnings);
    const acknowledgedChanges = checkAcknowledged(args, problems, warnings);
    const scheduling = checkScheduling(args, base, replicas, version, problems);
    const exposure = checkExposure(args, base, version, emqxConfig, problems, warnings);
    if (problems.list.length > 0 || !version || !discovery) {
        throw new EmqxArgsError(componentName, problems.list);
    }
    return {
        base,
        replicas,
        version,
        discovery,
        etcd: known(args.etcd) as Unwrapped<EtcdArgs> | undefined,
        ...placement,
        ...storage,
        ...service,
        image,
        ...clientService,
        networkPolicy,
        createNetworkPolicy: networkPolicy?.enabled ?? DEFAULTS.networkPolicy,
        ...dashboard,
        emqxConfig,
        autoclean,
        hasLicenseKey,
        auth: auth as AuthPlan,
        acknowledgedChanges,
        changeGuard: args.changeGuard ?? true,
        ...scheduling,
        containers: known(args.containers) as Unwrapped<ContainersArgs> | undefined,
        tls: args.tls as Unwrapped<TlsArgs> | undefined,
        tlsShape: tlsShape(args.tls),
        createPodDisruptionBudget: replicas > 1,
        ...exposure,
        warnings,
    };
}

/**
 * Checks what can be checked now: every structural arg, and every Input arg given as a plain value. Throws
 * `EmqxArgsError` listing every problem, each with the field and the fix; nothing is created before this returns.
 * Input args given as Outputs are checked by `checkArgs` once known.
 */
export function checkShape(componentName: string, args: EmqxClusterArgs): ClusterShape {
    return collect(componentName, args);
}

/**
 * Applies the defaults and checks every arg, all values known. Throws `EmqxArgsError` listing every problem, each
 * with the field and the fix.
 */
export function checkArgs(componentName: string, args: ResolvedArgs): CheckedArgs {
    return collect(componentName, args as EmqxClusterArgs);
}
