import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ServiceType } from "./args";
import { ClusterPlan, ListenerName } from "./plan";

/** The port a listener is reachable on from outside the cluster: its NodePort (pinned or allocated). */
export function listenerNodePort(
    serviceType: ServiceType,
    service: k8s.core.v1.Service,
    listener: ListenerName,
): pulumi.Output<number | undefined> {
    if (serviceType === "ClusterIP") {
        return pulumi.output(undefined);
    }
    return service.spec.ports.apply((ports) => ports.find((p) => p.name === listener)?.nodePort);
}

/**
 * Where clients outside the cluster reach a listener: `<externalHost>:<NodePort>` for NodePort, the load
 * balancer's address and the listener port for LoadBalancer, the in-cluster name for ClusterIP.
 */
export function externalEndpoint(
    plan: pulumi.Output<ClusterPlan>,
    serviceType: ServiceType,
    service: k8s.core.v1.Service,
    listener: ListenerName,
): pulumi.Output<{ host: string; port: number }> {
    const portOf = (p: ClusterPlan) => p.listeners.find((l) => l.name === listener)?.port ?? 0;
    switch (serviceType) {
        case "NodePort":
            return pulumi
                .all([plan, listenerNodePort(serviceType, service, listener)])
                .apply(([p, nodePort]) => ({ host: p.externalHost, port: nodePort ?? 0 }));
        case "LoadBalancer":
            return pulumi.all([plan, service.status.loadBalancer]).apply(([p, lb]) => {
                const ingress = lb?.ingress?.[0];
                return { host: ingress?.hostname || ingress?.ip || "", port: portOf(p) };
            });
        default:
            return plan.apply((p) => ({ host: p.names.clientServiceFqdn, port: portOf(p) }));
    }
}

/** `scheme://host:port/path`, with an IPv6 address in brackets. */
export function formatUrl(scheme: string, host: string, port: number, path = ""): string {
    return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${path}`;
}

export function url(scheme: string, endpoint: pulumi.Output<{ host: string; port: number }>, path = ""): pulumi.Output<string> {
    return endpoint.apply(({ host, port }) => formatUrl(scheme, host, port, path));
}
