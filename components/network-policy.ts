/**
 * Who may reach the pods (`networkPolicy`): the args type, its checks and its piece of the plan. The policy selects
 * every pod of the cluster and lets in, port by port, the listeners' clients, the cluster's own pods on the cluster
 * ports, and the peers the user names for the dashboard and the metrics endpoint; everything else is refused.
 * `objects/network-policy.ts` turns the plan into the NetworkPolicy.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { DiscoveryMode, ServiceType } from "./args";
import { isCidr, isPlainObject, modelProblems, pointerToArgPath } from "./validation";

type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** A destination port of an egress rule (Kubernetes' `NetworkPolicyPort`, by number). */
export interface NetworkPolicyPortArgs {
    /** The port number; unset: every port. */
    port?: pulumi.Input<number>;
    /** The last port of a range starting at `port`. */
    endPort?: pulumi.Input<number>;
    /** `TCP` (default), `UDP` or `SCTP`. */
    protocol?: pulumi.Input<string>;
}

/** Where the pods may connect to (Kubernetes' `NetworkPolicyEgressRule`). */
export interface NetworkPolicyEgressRuleArgs {
    /** Destinations: peers (`podSelector`/`namespaceSelector`, or `ipBlock`). Unset: every destination. */
    to?: pulumi.Input<pulumi.Input<NetworkPolicyPeer>[]>;
    /** Destination ports. Unset: every port. */
    ports?: pulumi.Input<pulumi.Input<NetworkPolicyPortArgs>[]>;
}

/**
 * Who may reach the cluster's pods. Kubernetes enforces a NetworkPolicy only where the cluster's network plugin
 * implements them (Calico, Cilium, ...); elsewhere the object is accepted and changes nothing.
 *
 * A peer is Kubernetes' `NetworkPolicyPeer`: `{ podSelector?, namespaceSelector? }` (pods, in this namespace unless a
 * namespaceSelector is given) or `{ ipBlock: { cidr, except? } }` (addresses outside the cluster, as the pod sees
 * them: behind a NodePort or load balancer with `externalTrafficPolicy: Cluster` that is a node's address, use
 * `service.externalTrafficPolicy: Local` to keep clients' addresses).
 */
export interface NetworkPolicyArgs {
    /**
     * Create the NetworkPolicy. Default true. A plain value: it decides whether the object exists. Traffic from the
     * node a pod runs on (kubelet probes, `kubectl port-forward`) is always allowed by Kubernetes.
     */
    enabled?: boolean;
    /**
     * Who may reach the MQTT listeners the client Service exposes (`service.listeners`). Default: every source. A
     * list of peers restricts them (at least one peer; to close a listener, leave it out of `service.listeners`).
     */
    clients?: pulumi.Input<pulumi.Input<NetworkPolicyPeer>[]>;
    /**
     * Who may reach the dashboard and REST API (18083) and, on 4.x, the management API (8081), e.g. an ingress
     * controller's namespace `[{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }]`
     * or an office network `[{ ipBlock: { cidr: "203.0.113.0/24" } }]`. Default none: only `kubectl port-forward`.
     */
    dashboard?: pulumi.Input<pulumi.Input<NetworkPolicyPeer>[]>;
    /**
     * Who may scrape the Prometheus endpoint: 5.x serves it on the dashboard port (18083,
     * `/api/v5/prometheus/stats`), 4.x on the management port (8081, `/api/v4/emqx_prometheus`). A NetworkPolicy
     * opens ports, not paths: the scraper reaches the whole REST API on that port (which still asks for credentials).
     * Default none.
     */
    metrics?: pulumi.Input<pulumi.Input<NetworkPolicyPeer>[]>;
    /**
     * Outgoing traffic. Default: not restricted, because EMQX connects to whatever its configuration names
     * (authentication and authorization backends, bridges, rule actions, webhooks). Given (even `[]`), only these
     * destinations are allowed besides what the cluster itself needs: DNS (port 53, UDP and TCP), its own pods on the
     * cluster ports, the Kubernetes API (TCP 443 and 6443) with `k8s` discovery, the etcd endpoints' ports with
     * `etcd` discovery. Each rule is Kubernetes' `NetworkPolicyEgressRule` (`{ to?, ports? }`, ports by number).
     */
    egress?: pulumi.Input<pulumi.Input<NetworkPolicyEgressRuleArgs>[]>;
}

type Peer = pulumi.Unwrap<NetworkPolicyPeer>;

/** A port (or range) and protocol, as in a NetworkPolicy rule. */
export interface PolicyPort {
    readonly port?: number;
    readonly endPort?: number;
    readonly protocol?: string;
}

/** One allowance: who (undefined: any source or destination) may use which ports, and why. */
export interface PolicyRule {
    readonly peers?: readonly Peer[];
    readonly ports?: readonly PolicyPort[];
    /** What the rule is for, for docs and tests. */
    readonly purpose: string;
}

/** The NetworkPolicy, decided. */
export interface NetworkPolicyPlan {
    /** Labels of every pod of the cluster, whatever its volume generation. */
    readonly podSelector: Readonly<Record<string, string>>;
    readonly ingress: readonly PolicyRule[];
    /** Undefined: egress is not restricted (the policy has only the `Ingress` type). */
    readonly egress?: readonly PolicyRule[];
}

/** What the plan of the NetworkPolicy needs to know about the cluster. */
export interface NetworkPolicyContext {
    readonly podSelector: Readonly<Record<string, string>>;
    readonly clusterPorts: readonly number[];
    /** Ports of the MQTT listeners the client Service exposes. */
    readonly clientPorts: readonly number[];
    /** The dashboard and 4.x's management API. */
    readonly dashboardPorts: readonly number[];
    readonly metricsPort: number;
    readonly discovery: DiscoveryMode;
    readonly etcdEndpoints: readonly string[];
}

const PEER_LISTS = ["clients", "dashboard", "metrics"] as const;

/** An Output or Promise: checked once its value is known. */
const deferred = (value: unknown): boolean => pulumi.Output.isInstance(value) || value instanceof Promise;

/** The ports the Kubernetes API answers on behind `kubernetes.default.svc:443`: 443, or 6443 (kubeadm's secure port). */
export const KUBERNETES_API_PORTS: readonly number[] = [443, 6443];

const tcp = (port: number): PolicyPort => ({ port, protocol: "TCP" });

/** The port of an etcd endpoint URL; its scheme's default when the URL has none. */
function endpointPort(endpoint: string): number | undefined {
    try {
        const url = new URL(endpoint);
        return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    } catch {
        return undefined;
    }
}

/** The NetworkPolicy of checked `networkPolicy` args; undefined when it is switched off. */
export function planNetworkPolicy(given: pulumi.Unwrap<NetworkPolicyArgs> | undefined, ctx: NetworkPolicyContext): NetworkPolicyPlan | undefined {
    if (given?.enabled === false) {
        return undefined;
    }
    const ownPods: Peer[] = [{ podSelector: { matchLabels: { ...ctx.podSelector } } }];
    const ingress: PolicyRule[] = [
        { purpose: "cluster ports, from the cluster's own pods", peers: ownPods, ports: ctx.clusterPorts.map(tcp) },
    ];
    if (ctx.clientPorts.length > 0) {
        ingress.push({ purpose: "MQTT listeners of the client Service", peers: given?.clients, ports: ctx.clientPorts.map(tcp) });
    }
    if (given?.dashboard?.length) {
        ingress.push({ purpose: "dashboard and management API", peers: given.dashboard, ports: ctx.dashboardPorts.map(tcp) });
    }
    if (given?.metrics?.length) {
        ingress.push({ purpose: "Prometheus endpoint", peers: given.metrics, ports: [tcp(ctx.metricsPort)] });
    }
    if (given?.egress === undefined) {
        return { podSelector: ctx.podSelector, ingress };
    }
    const egress: PolicyRule[] = [
        { purpose: "DNS", ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
        { purpose: "cluster ports of the cluster's own pods", peers: ownPods, ports: ctx.clusterPorts.map(tcp) },
    ];
    if (ctx.discovery === "k8s") {
        egress.push({ purpose: "Kubernetes API (k8s discovery)", ports: KUBERNETES_API_PORTS.map(tcp) });
    }
    if (ctx.discovery === "etcd") {
        const ports = [...new Set(ctx.etcdEndpoints.map(endpointPort).filter((p): p is number => p !== undefined))];
        egress.push({ purpose: "etcd (etcd discovery)", ports: ports.map(tcp) });
    }
    for (const rule of given.egress) {
        egress.push({ purpose: "networkPolicy.egress", peers: rule.to, ports: rule.ports });
    }
    return { podSelector: ctx.podSelector, ingress, egress };
}

/** Schema problems of a candidate NetworkPolicy with `spec`, each named by its arg path. */
function schemaProblems(spec: Record<string, unknown>, field: string, pointerPrefix: string): string[] {
    const candidate = new NetworkPolicy({ metadata: { name: "candidate" }, spec: { podSelector: {}, ...spec } as never });
    return modelProblems(candidate, (pointer) => pointerToArgPath(field, pointerPrefix, pointer));
}

/** What the API server refuses in a peer that the schema lets through: no selector at all, ipBlock with a selector, bad CIDRs. */
function peerProblems(peer: Peer, field: string): string[] {
    if (!isPlainObject(peer)) {
        return [`${field}: must be a peer such as { ipBlock: { cidr: "10.0.0.0/8" } } or { namespaceSelector: {...} }`];
    }
    const problems: string[] = [];
    const selectors = ["podSelector", "namespaceSelector"].filter((k) => peer[k as keyof Peer] !== undefined);
    if (peer.ipBlock === undefined && selectors.length === 0) {
        problems.push(`${field}: names no one; give podSelector, namespaceSelector or ipBlock`);
    }
    if (peer.ipBlock !== undefined && selectors.length > 0) {
        problems.push(`${field}: ipBlock cannot be combined with ${selectors.join(" or ")}; make them two peers`);
    }
    const block = peer.ipBlock;
    if (isPlainObject(block)) {
        if (typeof block.cidr === "string" && !isCidr(block.cidr)) {
            problems.push(`${field}.ipBlock.cidr: "${block.cidr}" is not a CIDR such as "203.0.113.0/24" or "2001:db8::/32"`);
        }
        (Array.isArray(block.except) ? block.except : []).forEach((except, i) => {
            if (typeof except === "string" && !isCidr(except)) {
                problems.push(`${field}.ipBlock.except[${i}]: "${except}" is not a CIDR`);
            }
        });
    }
    return problems;
}

/**
 * Problems of the known parts of `networkPolicy`, each `field: what is wrong and the fix`. Lists given as Outputs are
 * checked once known, with the same messages.
 */
export function networkPolicyProblems(given: pulumi.Unwrap<NetworkPolicyArgs> | undefined): string[] {
    if (given === undefined) {
        return [];
    }
    if (!isPlainObject(given)) {
        return [`networkPolicy: must be an object such as { dashboard: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }`];
    }
    const problems: string[] = [];
    if (given.enabled !== undefined && typeof given.enabled !== "boolean") {
        problems.push(`networkPolicy.enabled: ${JSON.stringify(given.enabled)} must be true or false`);
    }
    for (const list of PEER_LISTS) {
        const peers = given[list];
        const field = `networkPolicy.${list}`;
        if (peers === undefined || deferred(peers)) {
            continue;
        }
        if (!Array.isArray(peers)) {
            problems.push(`${field}: must be a list of peers such as [{ ipBlock: { cidr: "10.0.0.0/8" } }]`);
            continue;
        }
        if (list === "clients" && peers.length === 0) {
            problems.push(`${field}: an empty list would let no client in; omit it to allow every source, or leave listeners out of service.listeners`);
        }
        if (peers.some(deferred)) {
            continue;
        }
        problems.push(...peers.flatMap((peer, i) => peerProblems(peer, `${field}[${i}]`)));
        problems.push(...schemaProblems({ ingress: [{ from: peers }] }, field, "/spec/ingress/0/from"));
    }
    const egress = given.egress;
    if (egress !== undefined && !deferred(egress)) {
        if (!Array.isArray(egress)) {
            problems.push(`networkPolicy.egress: must be a list of rules such as [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ port: 5432 }] }]`);
        } else if (!egress.some(deferred)) {
            egress.forEach((rule, i) =>
                (Array.isArray(rule?.to) ? rule.to : []).forEach((peer, j) => problems.push(...peerProblems(peer, `networkPolicy.egress[${i}].to[${j}]`))),
            );
            problems.push(...schemaProblems({ egress }, "networkPolicy.egress", "/spec/egress"));
        }
    }
    return problems;
}

/** Preview warnings: a dashboard Service exposed outside the cluster that the NetworkPolicy closes. */
export function networkPolicyWarnings(
    given: pulumi.Unwrap<NetworkPolicyArgs> | undefined,
    dashboardServiceType: ServiceType,
    uses: { readonly dashboardIngress: boolean; readonly monitoring: boolean },
): string[] {
    if (given?.enabled === false) {
        return [];
    }
    // An Output list is not known yet: nothing to say about it.
    const nobody = (peers: unknown) => peers === undefined || (Array.isArray(peers) && peers.length === 0);
    const warnings: string[] = [];
    if (nobody(given?.dashboard)) {
        const reasons = [
            ...(dashboardServiceType !== "ClusterIP" ? [`dashboard.service.type is ${dashboardServiceType}`] : []),
            ...(uses.dashboardIngress ? ["ingress.dashboard routes to it through the Ingress controller's pods"] : []),
        ];
        if (reasons.length > 0) {
            warnings.push(
                `${reasons.join(", and ")}, but the NetworkPolicy lets no one reach the dashboard: name who may in ` +
                    `networkPolicy.dashboard (e.g. [{ ipBlock: { cidr: "203.0.113.0/24" } }], or the Ingress ` +
                    `controller's namespace as a namespaceSelector), or set networkPolicy.enabled to false`,
            );
        }
    }
    if (uses.monitoring && nobody(given?.metrics)) {
        warnings.push(
            `monitoring asks Prometheus to scrape the pods, but the NetworkPolicy lets no one reach the metrics ` +
                `endpoint: name Prometheus's pods in networkPolicy.metrics (e.g. [{ namespaceSelector: { matchLabels: ` +
                `{ "kubernetes.io/metadata.name": "monitoring" } } }]), or set networkPolicy.enabled to false`,
        );
    }
    return warnings;
}
