import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ServiceType } from "./args";
import { ClusterPlan, ListenerName } from "./plan";

/** A Service that carries listeners, and its name inside the cluster. */
export interface ListenerService {
    readonly service: k8s.core.v1.Service;
    readonly internalHost: (plan: ClusterPlan) => string;
}

/** The port a listener is reachable on from outside the cluster: its NodePort (pinned or allocated). */
export function listenerNodePort({ service }: ListenerService, listener: ListenerName): pulumi.Output<number | undefined> {
    return service.spec.apply((spec) => (spec.type === "ClusterIP" ? undefined : spec.ports.find((p) => p.name === listener)?.nodePort));
}

/**
 * Where clients outside the cluster reach a listener: `<externalHost>:<NodePort>` for NodePort, the load
 * balancer's address and the listener port for LoadBalancer, the in-cluster name for ClusterIP.
 */
export function externalEndpoint(
    plan: pulumi.Output<ClusterPlan>,
    exposure: ListenerService,
    listener: ListenerName,
): pulumi.Output<{ host: string; port: number }> {
    return pulumi.all([plan, exposure.service.spec, exposure.service.status]).apply(([p, spec, status]) => {
        const port = p.listeners.find((l) => l.name === listener)?.port ?? 0;
        switch (spec.type as ServiceType) {
            case "NodePort":
                return { host: p.externalHost, port: spec.ports.find((l) => l.name === listener)?.nodePort ?? 0 };
            case "LoadBalancer": {
                const ingress = status?.loadBalancer?.ingress?.[0];
                return { host: ingress?.hostname || ingress?.ip || "", port };
            }
            default:
                return { host: exposure.internalHost(p), port };
        }
    });
}

/** `scheme://host:port/path`, with an IPv6 address in brackets. */
export function formatUrl(scheme: string, host: string, port: number, path = ""): string {
    return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}${path}`;
}

export function url(scheme: string, endpoint: pulumi.Output<{ host: string; port: number }>, path = ""): pulumi.Output<string> {
    return endpoint.apply(({ host, port }) => formatUrl(scheme, host, port, path));
}
