import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan, Listener } from "../plan";
import { SERVICE_LABEL } from "../names";
import { CLUSTER_PORTS } from "../ports";
import { namedMetadata } from "./metadata";

type ServiceSpec = k8s.types.input.core.v1.ServiceSpec;

/** IPv6: single-stack IPv6 Services; IPv4: the cluster's default family, as before the arg existed (no churn). */
function ipFamilies(plan: ClusterPlan): Pick<ServiceSpec, "ipFamilies" | "ipFamilyPolicy"> {
    return plan.ipFamily === "IPv6" ? { ipFamilyPolicy: "SingleStack", ipFamilies: ["IPv6"] } : {};
}

/**
 * The governing Service of the StatefulSet: gives every pod its stable DNS name, answers DNS discovery and
 * backs the Endpoints k8s discovery reads.
 */
export function buildHeadlessService(plan: ClusterPlan): k8s.core.v1.ServiceArgs {
    return {
        metadata: namedMetadata(plan, plan.names.headlessService),
        spec: {
            clusterIP: "None",
            ...ipFamilies(plan),
            // Nodes must find each other before they are ready, or a cold restart of all pods deadlocks (emqx#5254).
            publishNotReadyAddresses: true,
            selector: { ...plan.selectorLabels },
            ports: [
                { name: "ekka", port: CLUSTER_PORTS.ekka, targetPort: CLUSTER_PORTS.ekka, protocol: "TCP" },
                { name: "genrpc", port: CLUSTER_PORTS.genrpc, targetPort: CLUSTER_PORTS.genrpc, protocol: "TCP" },
                ...plan.listeners.map((l) => ({ name: l.name, port: l.port, targetPort: l.port, protocol: "TCP" })),
            ],
        },
    };
}

/**
 * When Pulumi counts the client Service as created (the Kubernetes provider's `pulumi.com/waitFor` annotation): once
 * it has its cluster IP (and, for LoadBalancer, the balancer's address the outputs report), the condition Helm's
 * `--wait` uses too. Without it the provider's own Service await waits until the Service's Endpoints have not
 * changed for 10 seconds (pulumi-kubernetes `provider/pkg/await/service.go`), on every cluster. That the pods behind
 * it are Ready is the StatefulSet's await.
 */
export function clientServiceReadiness(serviceType: ClusterPlan["serviceType"]): string {
    return serviceType === "LoadBalancer" ? "jsonpath={.status.loadBalancer.ingress}" : "jsonpath={.spec.clusterIP}";
}

/** A Service of the given type over the pods' listeners that `listeners` selects. */
function buildListenerService(
    plan: ClusterPlan,
    name: string,
    type: ClusterPlan["serviceType"],
    listeners: Listener["service"],
): k8s.core.v1.ServiceArgs {
    const exposesNodePorts = type !== "ClusterIP";
    const metadata = namedMetadata(plan, name);
    return {
        metadata: { ...metadata, annotations: { "pulumi.com/waitFor": clientServiceReadiness(type) } },
        spec: {
            type,
            ...ipFamilies(plan),
            selector: { ...plan.selectorLabels },
            ports: plan.listeners
                .filter((l) => l.service === listeners)
                .map((l) => ({
                    name: l.name,
                    port: l.port,
                    targetPort: l.port,
                    protocol: "TCP",
                    ...(exposesNodePorts && l.nodePort !== undefined ? { nodePort: l.nodePort } : {}),
                })),
        },
    };
}

/** The Service MQTT clients connect to, of the planned type: the MQTT listeners only, with the user's options. */
export function buildClientService(plan: ClusterPlan): k8s.core.v1.ServiceArgs {
    const service = buildListenerService(plan, plan.names.clientService, plan.serviceType, "client");
    const { annotations, loadBalancerSourceRanges, loadBalancerClass, externalTrafficPolicy } = plan.clientService;
    const metadata = service.metadata as k8s.types.input.meta.v1.ObjectMeta;
    return {
        metadata: { ...metadata, annotations: { ...annotations, ...(metadata.annotations as Record<string, string>) } },
        spec: {
            ...(service.spec as ServiceSpec),
            ...(loadBalancerSourceRanges !== undefined ? { loadBalancerSourceRanges } : {}),
            ...(loadBalancerClass !== undefined ? { loadBalancerClass } : {}),
            ...(externalTrafficPolicy !== undefined ? { externalTrafficPolicy } : {}),
        },
    };
}

/**
 * The dashboard's own Service: the dashboard and REST API (18083) and 4.x's management API (8081), ClusterIP unless
 * `dashboard.service.type` exposes it, so that the admin interfaces are never on the client Service's NodePorts or
 * load balancer by accident.
 */
export function buildDashboardService(plan: ClusterPlan): k8s.core.v1.ServiceArgs {
    const service = buildListenerService(plan, plan.names.dashboardService, plan.dashboardServiceType, "dashboard");
    const metadata = service.metadata as k8s.types.input.meta.v1.ObjectMeta;
    // What a ServiceMonitor selects: the headless Service carries the same ports and pods under the same labels.
    return { ...service, metadata: { ...metadata, labels: { ...(metadata.labels as Record<string, string>), [SERVICE_LABEL]: "dashboard" } } };
}
