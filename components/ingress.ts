/**
 * Ingresses (`ingress`) for what EMQX serves over HTTP: the dashboard and REST API, and MQTT over WebSocket. Raw MQTT
 * (TCP or TLS) is not HTTP and is refused with the reason. The args types, their checks and their piece of the plan
 * live here; `objects/ingress.ts` builds the `networking.k8s.io/v1` Ingresses.
 */
import * as pulumi from "@pulumi/pulumi";
import { isDns1123Subdomain, isPlainObject, isQualifiedName } from "./validation";

/** One Ingress: where it answers and how the controller handles it. */
export interface IngressRouteArgs {
    /**
     * Host name the Ingress answers for, e.g. `mqtt.example.com` (a leading `*.` for a wildcard). Default: every host
     * (a rule without host).
     */
    host?: pulumi.Input<string>;
    /**
     * Path prefix (`pathType: Prefix`). Dashboard: default `/` (its pages and API are served from the root, so another
     * path needs a controller that strips it). WebSocket: `/mqtt` (default) or `/`, since EMQX answers MQTT over
     * WebSocket on `/mqtt` only and an Ingress forwards the path unchanged.
     */
    path?: pulumi.Input<string>;
    /** The IngressClass, e.g. `nginx`. Default: the cluster's default class. */
    ingressClassName?: pulumi.Input<string>;
    /**
     * Annotations of the Ingress, e.g. a controller's timeouts (`nginx.ingress.kubernetes.io/proxy-read-timeout`) or
     * cert-manager's `cert-manager.io/cluster-issuer`. `pulumi.com/` keys are refused (the component sets
     * `pulumi.com/skipAwait`). Default none.
     */
    annotations?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /**
     * A `kubernetes.io/tls` Secret in the cluster's namespace with the certificate for `host`: the controller
     * terminates TLS (`https://`, `wss://`) and forwards plain HTTP to EMQX. Default: no TLS.
     */
    tlsSecretName?: pulumi.Input<string>;
}

/**
 * Ingresses for the HTTP listeners, each created when given: `<clusterName>-dashboard` to the dashboard Service's
 * port 18083, `<clusterName>-ws` to the client Service's WebSocket port 8083. Needs an Ingress controller in the
 * cluster. Raw MQTT (`mqtt`, `mqtts`) is refused: an Ingress routes HTTP only; use `serviceType`.
 */
export interface IngressArgs {
    /** The dashboard and REST API (4.x: the dashboard only; the management API on 8081 stays private). */
    dashboard?: IngressRouteArgs;
    /** MQTT over WebSocket: clients connect to `ws://<host>/mqtt`, or `wss://` with `tlsSecretName`. */
    ws?: IngressRouteArgs;
}

export type IngressRoute = keyof IngressArgs;
type Ingress = pulumi.Unwrap<IngressArgs>;
type Route = pulumi.Unwrap<IngressRouteArgs>;

/** The plan's piece: one Ingress per route. */
export interface IngressPlan {
    readonly route: IngressRoute;
    readonly host?: string;
    readonly path: string;
    readonly ingressClassName?: string;
    readonly annotations: Readonly<Record<string, string>>;
    readonly tlsSecretName?: string;
}

/** EMQX's WebSocket path, which the component keeps (`listeners.ws.default.websocket.mqtt_path`). */
export const WEBSOCKET_PATH = "/mqtt";
const DEFAULT_PATHS: Record<IngressRoute, string> = { dashboard: "/", ws: WEBSOCKET_PATH };
export const INGRESS_ROUTES = Object.keys(DEFAULT_PATHS) as IngressRoute[];

/** Keys that are not routes, and why. */
const REFUSED_ROUTES: Record<string, string> = {
    mqtt:
        "MQTT over TCP is not HTTP: an Ingress routes HTTP requests by host and path, so no Ingress controller can " +
        "carry it; expose it with serviceType LoadBalancer or NodePort",
    mqtts:
        "MQTT over TLS is not HTTP: an Ingress routes HTTP requests by host and path, so no Ingress controller can " +
        "carry it; expose it with serviceType LoadBalancer or NodePort",
    wss:
        "the Ingress controller terminates TLS itself and forwards HTTP, so it connects to the plain WebSocket " +
        "listener: use ingress.ws with tlsSecretName, and clients connect with wss://",
};

/** The Pulumi annotation that stops the provider from waiting for the controller to publish an address. */
export const SKIP_AWAIT = { "pulumi.com/skipAwait": "true" } as const;

function routeProblems(route: IngressRoute, given: Route): string[] {
    const field = `ingress.${route}`;
    if (!isPlainObject(given)) {
        return [`${field}: must be an object such as { host: "emqx.example.com" }`];
    }
    const problems: string[] = [];
    const { host, path, ingressClassName, annotations, tlsSecretName } = given;
    if (host !== undefined && (typeof host !== "string" || !isDns1123Subdomain(host.replace(/^\*\./, "")))) {
        problems.push(`${field}.host: ${JSON.stringify(host)} is not a host name such as emqx.example.com (lowercase, no scheme, port or path)`);
    }
    if (path !== undefined && (typeof path !== "string" || !path.startsWith("/") || /\s/.test(path))) {
        problems.push(`${field}.path: ${JSON.stringify(path)} must be a path starting with '/'`);
    } else if (route === "ws" && path !== undefined && path.replace(/\/+$/, "") !== WEBSOCKET_PATH && path !== "/") {
        problems.push(
            `${field}.path: "${path}" does not lead to ${WEBSOCKET_PATH}: EMQX answers MQTT over WebSocket on ` +
                `${WEBSOCKET_PATH} only and an Ingress forwards the path unchanged; use "${WEBSOCKET_PATH}" (the default) or "/"`,
        );
    }
    if (ingressClassName !== undefined && (typeof ingressClassName !== "string" || !isDns1123Subdomain(ingressClassName))) {
        problems.push(`${field}.ingressClassName: ${JSON.stringify(ingressClassName)} is not an IngressClass name such as nginx`);
    }
    if (tlsSecretName !== undefined && (typeof tlsSecretName !== "string" || !isDns1123Subdomain(tlsSecretName))) {
        problems.push(`${field}.tlsSecretName: ${JSON.stringify(tlsSecretName)} is not a Secret name; give a kubernetes.io/tls Secret in the namespace`);
    }
    if (annotations !== undefined && !isPlainObject(annotations)) {
        problems.push(`${field}.annotations: must be an object of annotation names to values`);
    }
    for (const key of Object.keys(isPlainObject(annotations) ? annotations : {})) {
        if (!isQualifiedName(key)) {
            problems.push(`${field}.annotations["${key}"]: is not an annotation name such as "nginx.ingress.kubernetes.io/proxy-read-timeout"`);
        } else if (key.startsWith("pulumi.com/")) {
            problems.push(`${field}.annotations["${key}"]: pulumi.com/ annotations are the component's (it sets pulumi.com/skipAwait); remove it`);
        }
    }
    return problems;
}

/** What is wrong with `ingress` (known values), as `field: message`. */
export function ingressProblems(ingress: Ingress | undefined): string[] {
    if (ingress === undefined) {
        return [];
    }
    if (!isPlainObject(ingress)) {
        return [`ingress: must be an object such as { dashboard: { host: "emqx.example.com" } }`];
    }
    const problems: string[] = [];
    for (const [key, route] of Object.entries(ingress)) {
        if (key in REFUSED_ROUTES) {
            problems.push(`ingress.${key}: refused: ${REFUSED_ROUTES[key]}`);
        } else if (!(INGRESS_ROUTES as string[]).includes(key)) {
            problems.push(`ingress.${key}: unknown; an Ingress can carry ${INGRESS_ROUTES.join(" and ")}`);
        } else if (route !== undefined) {
            problems.push(...routeProblems(key as IngressRoute, route as Route));
        }
    }
    const { dashboard, ws } = ingress;
    if (problems.length === 0 && dashboard && ws && (dashboard.host ?? "") === (ws.host ?? "") && (dashboard.path ?? "/") === (ws.path ?? WEBSOCKET_PATH)) {
        problems.push(
            `ingress.ws.path: "${ws.path}" on ${ws.host ? `host ${ws.host}` : "every host"} is the dashboard's too, so ` +
                `the controller could send either to the other; give them different hosts, or keep ws on ${WEBSOCKET_PATH}`,
        );
    }
    return problems;
}

/** Decides the Ingresses from checked args: one per route given. */
export function planIngresses(ingress: Ingress | undefined): IngressPlan[] {
    return INGRESS_ROUTES.flatMap((route) => {
        const given = ingress?.[route];
        if (given === undefined) {
            return [];
        }
        return [
            {
                route,
                host: given.host,
                path: given.path ?? DEFAULT_PATHS[route],
                ingressClassName: given.ingressClassName,
                annotations: { ...(given.annotations ?? {}) },
                tlsSecretName: given.tlsSecretName,
            },
        ];
    });
}
