import { formatUrl } from "./outputs";
import { ClusterPlan } from "./plan";
import { TLS_SECRET_KEYS } from "./tls";

const TLS_CA_KEY = TLS_SECRET_KEYS.ca;

/*
 * The `clientConfig` output: everything an MQTT client needs to connect, as plain data. Only interfaces and
 * optional fields, so that Pulumi's schema inference can describe it to YAML and Python programs.
 */

/** A host and port, and the URL a client library takes for them. */
export interface MqttEndpoint {
    /** The URL to pass to a client library, e.g. `mqtts://mqtt.example.com:30883` or `wss://10.0.0.7:8084/mqtt`. */
    url: string;
    /** Host name or address to connect to. */
    host: string;
    /** TCP port to connect to. */
    port: number;
}

/** One MQTT listener of the broker, from outside and from inside the cluster. */
export interface MqttListenerConfig {
    /** Whether the listener speaks TLS (`mqtts`, `wss`). */
    tls: boolean;
    /** HTTP path of a WebSocket listener (`/mqtt`); undefined for MQTT over TCP. */
    path?: string;
    /**
     * For clients outside the cluster: `<externalHost>:<NodePort>` for NodePort, the load balancer's address and
     * the listener port for LoadBalancer. For ClusterIP this is the in-cluster address (see `externallyReachable`).
     */
    external: MqttEndpoint;
    /** For pods in the cluster: `<service>.<namespace>.svc.<clusterDomain>` and the listener port. */
    internal: MqttEndpoint;
}

/** The MQTT listeners the client Service exposes (all four by default); one it leaves out (`service.listeners`) is absent. */
export interface MqttListeners {
    /** MQTT over TCP (1883). */
    mqtt?: MqttListenerConfig;
    /** MQTT over TLS (8883). */
    mqtts?: MqttListenerConfig;
    /** MQTT over WebSocket (8083, path `/mqtt`). */
    ws?: MqttListenerConfig;
    /** MQTT over secure WebSocket (8084, path `/mqtt`). */
    wss?: MqttListenerConfig;
}

/** A key of a Kubernetes Secret: where a client (or `kubectl`) reads a value the stack does not copy. */
export interface SecretKeyReference {
    /** Secret name, in the cluster's namespace. */
    name: string;
    /** Key in the Secret's data, e.g. `ca.crt`. */
    key: string;
}

/** What a client needs to trust the TLS listeners (`mqtts`, `wss`). */
export interface ClientTlsConfig {
    /**
     * PEM CA certificate that signs the listeners' server certificate, as given in `tls.caCertificate`. Undefined
     * when none was given (see `caSecret`) and without `tls`: EMQX then serves the example certificate built into its
     * image (see `note`).
     */
    caCertificate?: string;
    /**
     * Where the cluster keeps that CA, with `tls.caFromSecret`: the TLS Secret's `ca.crt`
     * (`kubectl -n <namespace> get secret <name> -o jsonpath='{.data.ca\.crt}' | base64 -d`).
     */
    caSecret?: SecretKeyReference;
    /**
     * The name clients outside the cluster verify in the server certificate (TLS SNI and host check):
     * `externalHost` when it is set, otherwise the client Service's in-cluster name. Undefined without `tls`.
     */
    serverName?: string;
    /**
     * The name pods in the cluster verify: `<service>.<namespace>.svc.<clusterDomain>` (`externalHost` with
     * `tls.certificate.inClusterNames: false`). Undefined without `tls`.
     */
    internalServerName?: string;
    /** Where the server certificate comes from and what a client must do to connect over TLS. */
    note: string;
}

/** How the broker authenticates clients, and where their credentials live: names and keys, never values. */
export interface ClientAuthConfig {
    /**
     * What EMQX checks when a client connects: `password (built-in database)`, `none configured (anonymous allowed)`,
     * or, with `allowAnonymous: true` and authentication set up through `emqxConfig`, the settings that do it.
     */
    authentication: string;
    /** Whether clients without a user name and password are accepted. */
    anonymousAllowed: boolean;
    /** The Secret (in the cluster's namespace) holding client credentials; undefined when there is none. */
    secretName?: string;
    /** Key of that Secret holding the generated user's name (`mqtt`). */
    usernameKey?: string;
    /** Key of that Secret holding the generated user's password. */
    passwordKey?: string;
    /** Key of that Secret holding the users file EMQX imported (CSV or JSON; 5.7.2+). */
    usersFileKey?: string;
    /**
     * Where client credentials are managed. Never the dashboard admin account: that account administers the broker
     * and is not an MQTT login.
     */
    credentials: string;
}

/** How an MQTT client connects to the cluster: URLs per listener, TLS and authentication. */
export interface ClientConfig {
    /**
     * The URL to start with, from outside the cluster, the same as the `mqttUrl` output: plain MQTT, or the first of
     * mqtts, ws, wss the client Service exposes when it leaves mqtt out.
     */
    url: string;
    /** The same listener from pods in the cluster, the same as the `mqttInternalUrl` output. */
    internalUrl: string;
    /** Whether the `external` endpoints are reachable from outside the cluster; false for a ClusterIP Service. */
    externallyReachable: boolean;
    /** MQTT protocol versions the broker accepts (`protocolVersion` 3, 4 and 5 in most client libraries). */
    protocolVersions: string[];
    /** Every MQTT listener the client Service exposes, with its external and in-cluster endpoints. */
    listeners: MqttListeners;
    /** What a client needs for the TLS listeners. */
    tls: ClientTlsConfig;
    /** How clients authenticate. */
    auth: ClientAuthConfig;
}

/** A host and port, as the endpoint helpers in `outputs.ts` resolve them. */
export interface HostPort {
    readonly host: string;
    readonly port: number;
}

/** The external endpoint of each MQTT listener, resolved. */
export type ExternalEndpoints = Readonly<Record<keyof MqttListeners, HostPort>>;

const LISTENER_ORDER: readonly (keyof MqttListeners)[] = ["mqtt", "mqtts", "ws", "wss"];

const LISTENER_SHAPES: Readonly<Record<keyof MqttListeners, { scheme: string; path?: string }>> = {
    mqtt: { scheme: "mqtt" },
    mqtts: { scheme: "mqtts" },
    // EMQX 4.x and 5.x both serve MQTT over WebSocket at /mqtt by default.
    ws: { scheme: "ws", path: "/mqtt" },
    wss: { scheme: "wss", path: "/mqtt" },
};

/** Where the EMQX image keeps the example certificate its default TLS listeners serve (4.x and 5.x alike). */
export const IMAGE_CERTS_DIR = "/opt/emqx/etc/certs";

// emqxConfig paths that change what the TLS listeners serve or how clients authenticate, in 4.x and 5.x syntax.
// When one is set, the client configuration says so instead of describing EMQX's defaults.
const TLS_SETTINGS = /^(listeners\.(ssl|wss)\.|listener\.(ssl|wss)\.)/;
const AUTH_SETTINGS =
    /^(authentication(\.|$)|listeners\.[a-z]+\.[a-z0-9_]+\.(authentication|enable_authn)(\.|$)|allow_anonymous$|zone\.[a-z0-9_]+\.allow_anonymous$|auth\.|loaded_plugins$)/;

function endpoint(scheme: string, hostPort: HostPort, path?: string): MqttEndpoint {
    return { url: formatUrl(scheme, hostPort.host, hostPort.port, path), host: hostPort.host, port: hostPort.port };
}

function tlsConfig(plan: ClusterPlan, tlsSettings: string[]): ClientTlsConfig {
    const { tls } = plan;
    if (tls) {
        const source = tls.certificate
            ? `the cert-manager Certificate ${tls.certificate.name} (issuer ${tls.certificate.issuerRef.kind} ${tls.certificate.issuerRef.name}), written to the Secret ${tls.secretName}`
            : `the Secret ${tls.secretName}`;
        const trust = tls.caCertificate
            ? "trust caCertificate"
            : tls.caFromSecret
              ? `trust the CA in the Secret ${tls.secretName}, key ${TLS_CA_KEY}`
              : "trust the CA that issued it (your issuer's CA, or a public CA your clients already trust)";
        return {
            caCertificate: tls.caCertificate,
            caSecret: tls.caFromSecret ? { name: tls.secretName, key: TLS_CA_KEY } : undefined,
            serverName: tls.serverName,
            internalServerName: tls.internalServerName,
            note:
                `mqtts (8883) and wss (8084)${tls.dashboard ? " and the dashboard (HTTPS 18084)" : ""} serve the ` +
                `certificate of ${source}: ${trust}, and verify the host name ${tls.serverName} ` +
                `(${tls.internalServerName} from inside the cluster).`,
        };
    }
    if (tlsSettings.length > 0) {
        return {
            caCertificate: undefined,
            note:
                `The TLS listeners are configured through emqxConfig (${tlsSettings.join(", ")}): trust the CA ` +
                `that signed the certificate you configured there.`,
        };
    }
    return {
        caCertificate: undefined,
        note:
            `mqtts (8883) and wss (8084) serve the example certificate built into the EMQX image ` +
            `(${IMAGE_CERTS_DIR}/cert.pem): traffic is encrypted, but the certificate names no host of this ` +
            `cluster, so no CA can vouch for it. For testing, copy the image's example CA ` +
            `(kubectl -n ${plan.namespace} exec ${plan.names.podName(0)} -- cat ${IMAGE_CERTS_DIR}/cacert.pem) ` +
            `and turn off host name verification (mosquitto --insecure, Node rejectUnauthorized: false); ` +
            `use your own certificate before production.`,
    };
}

function authConfig(plan: ClusterPlan, authSettings: string[]): ClientAuthConfig {
    const dashboardPlace = plan.version.authenticationConsole;
    const { auth } = plan;
    if (!auth.allowAnonymous) {
        const { secretName } = auth.credentials;
        return {
            authentication: "password (built-in database)",
            anonymousAllowed: false,
            ...auth.credentials,
            credentials:
                secretName === undefined
                    ? `Users you add in the dashboard (${dashboardPlace}) or the REST API: this release cannot import ` +
                      `them from configuration. Not the dashboard admin account, which is not an MQTT login.`
                    : `In the Secret ${secretName} (namespace ${plan.namespace})` +
                      (auth.credentials.usernameKey
                          ? `, keys ${auth.credentials.usernameKey} and ${auth.credentials.passwordKey}`
                          : `, the users file under key ${auth.credentials.usersFileKey}`) +
                      `; more users in the dashboard (${dashboardPlace}). Not the dashboard admin account, which is ` +
                      `not an MQTT login.`,
        };
    }
    if (authSettings.length > 0) {
        return {
            authentication: `configured through emqxConfig (${authSettings.join(", ")})`,
            // 5.x refuses a client no authenticator accepts; 4.x lets it in unless allow_anonymous is false.
            anonymousAllowed: plan.version.family.major === 4 && plan.settings.allow_anonymous !== "false",
            credentials:
                `In the authenticator those settings configure (dashboard: ${dashboardPlace}). ` +
                `Not the dashboard admin account, which is not an MQTT login.`,
        };
    }
    return {
        authentication: "none configured (anonymous allowed)",
        anonymousAllowed: true,
        credentials:
            `None: EMQX accepts any client until an authenticator is added, in the dashboard ` +
            `(${dashboardPlace}) or with emqxConfig. Keep client credentials out of this stack's outputs; ` +
            `the dashboard admin account is not an MQTT login.`,
    };
}

/** The client configuration of a planned cluster, given where its listeners are reachable from outside. */
export function buildClientConfig(plan: ClusterPlan, external: ExternalEndpoints): ClientConfig {
    const listener = (name: keyof MqttListeners): MqttListenerConfig => {
        const planned = plan.listeners.find((l) => l.name === name);
        if (!planned) {
            throw new Error(`the plan has no ${name} listener`);
        }
        const { scheme, path } = LISTENER_SHAPES[name];
        return {
            tls: planned.tls,
            path,
            external: endpoint(scheme, external[name], path),
            internal: endpoint(scheme, { host: plan.names.clientServiceFqdn, port: planned.port }, path),
        };
    };
    const exposed = LISTENER_ORDER.filter((name) => plan.listeners.some((l) => l.name === name && l.service === "client"));
    const listeners: MqttListeners = Object.fromEntries(exposed.map((name) => [name, listener(name)]));
    const first = listeners[exposed[0]] as MqttListenerConfig;
    const configured = (pattern: RegExp) => Object.keys(plan.settings).filter((path) => pattern.test(path)).sort();
    return {
        url: first.external.url,
        internalUrl: first.internal.url,
        externallyReachable: plan.serviceType !== "ClusterIP",
        protocolVersions: ["3.1", "3.1.1", "5.0"],
        listeners,
        tls: tlsConfig(plan, configured(TLS_SETTINGS)),
        auth: authConfig(plan, configured(AUTH_SETTINGS)),
    };
}
