import * as k8s from "@pulumi/kubernetes";
import { IngressPlan, SKIP_AWAIT } from "../ingress";
import { ClusterPlan } from "../plan";
import { namedMetadata } from "./metadata";

/**
 * The Ingress of one HTTP listener, to the Service and port that carry it. The provider does not wait for a
 * controller to publish its address (`pulumi.com/skipAwait`): the update ends when the API server has the object.
 */
export function buildIngress(plan: ClusterPlan, route: IngressPlan["route"]): k8s.networking.v1.IngressArgs {
    const ingress = plan.ingresses.find((i) => i.route === route);
    if (!ingress) {
        throw new Error(`buildIngress: no ${route} Ingress is planned`);
    }
    const listener = plan.listeners.find((l) => l.name === route);
    if (!listener) {
        throw new Error(`buildIngress: no ${route} listener`);
    }
    const serviceName = listener.service === "dashboard" ? plan.names.dashboardService : plan.names.clientService;
    return {
        metadata: { ...namedMetadata(plan, plan.names.ingress(route)), annotations: { ...ingress.annotations, ...SKIP_AWAIT } },
        spec: {
            ...(ingress.ingressClassName !== undefined ? { ingressClassName: ingress.ingressClassName } : {}),
            ...(ingress.tlsSecretName !== undefined
                ? { tls: [{ ...(ingress.host !== undefined ? { hosts: [ingress.host] } : {}), secretName: ingress.tlsSecretName }] }
                : {}),
            rules: [
                {
                    ...(ingress.host !== undefined ? { host: ingress.host } : {}),
                    http: {
                        paths: [
                            {
                                path: ingress.path,
                                pathType: "Prefix",
                                backend: { service: { name: serviceName, port: { number: listener.port } } },
                            },
                        ],
                    },
                },
            ],
        },
    };
}
