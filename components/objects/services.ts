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
        metadata: { ...namedMetadata(plan, plan.names.headlessService), annotations: serviceAwait("ClusterIP") },
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
 * How the Kubernetes provider waits on a Service it created or updated (its annotations), by type. ClusterIP,
 * NodePort and headless: not at all (`pulumi.com/skipAwait`), as the API server allocates the cluster IP and node
 * ports within the create request itself, so the object the apply returns is complete. LoadBalancer: until the
 * balancer's address, which the outputs report, is in the status (`pulumi.com/waitFor`), the condition
 * `helm install --wait` uses.
 *
 * Without either, the provider's own Service await waits until the Service's Endpoints have not changed for 10
 * seconds (pulumi-kubernetes `provider/pkg/await/service.go`), on every cluster. With any await, the provider stores
 * the Service as its watch cache last saw it, which after a metadata-only update (a label: the generation does not
 * change) can still be the object from before the update, and the next preview plans the update again; skipping
 * the await stores what the apply returned. That the pods behind a Service are Ready is the StatefulSet's await.
 */
export function serviceAwait(serviceType: ClusterPlan["serviceType"]): Record<string, string> {
    return serviceType === "LoadBalancer"
        ? { "pulumi.com/waitFor": "jsonpath={.status.loadBalancer.ingress}" }
        : { "pulumi.com/skipAwait": "true" };
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
        metadata: { ...metadata, annotations: serviceAwait(type) },
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
