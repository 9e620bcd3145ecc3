import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan } from "../plan";
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

/** The Service clients connect to, of the planned type. */
export function buildClientService(plan: ClusterPlan): k8s.core.v1.ServiceArgs {
    const exposesNodePorts = plan.serviceType !== "ClusterIP";
    const metadata = namedMetadata(plan, plan.names.clientService);
    return {
        metadata: { ...metadata, annotations: { "pulumi.com/waitFor": clientServiceReadiness(plan.serviceType) } },
        spec: {
            type: plan.serviceType,
            ...ipFamilies(plan),
            selector: { ...plan.selectorLabels },
            ports: plan.listeners.map((l) => ({
                name: l.name,
                port: l.port,
                targetPort: l.port,
                protocol: "TCP",
                ...(exposesNodePorts && l.nodePort !== undefined ? { nodePort: l.nodePort } : {}),
            })),
        },
    };
}
