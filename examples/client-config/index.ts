import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The part of the EMQX stack's `clientConfig` output this program reads. */
interface ClientConfig {
    internalUrl: string;
    listeners: { mqtts: { internal: { url: string } }; ws: { internal: { url: string } } };
    tls: { caCertificate?: string; note: string };
    auth: { authentication: string; credentials: string };
}

const config = new pulumi.Config();
const appNamespace = config.require("appNamespace");
const clientIdPrefix = config.get("clientIdPrefix") || `${appNamespace}-`;
const mqttUsername = config.get("mqttUsername") || undefined;
const mqttPassword = config.get("mqttPassword") ? config.requireSecret("mqttPassword") : undefined;

// Only the client-facing output is read: the EMQX stack's dashboard account administers the broker and is not an
// MQTT login, so this program never asks for it.
const emqx = new pulumi.StackReference(config.require("emqxStack"));
const clientConfig = emqx.requireOutput("clientConfig") as pulumi.Output<ClientConfig>;

const labels = { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "mqtt-client" };

// Fixed names, so that the application's own manifests can load them with envFrom.
const settings = new k8s.core.v1.ConfigMap("mqtt-client", {
    metadata: { name: "mqtt-client", namespace: appNamespace, labels },
    data: clientConfig.apply((c) => ({
        // The application runs in the cluster, so it gets the in-cluster addresses.
        MQTT_URL: c.internalUrl,
        // Only the listeners the cluster's client Service exposes (its service.listeners).
        ...(c.listeners.mqtts ? { MQTT_TLS_URL: c.listeners.mqtts.internal.url } : {}),
        ...(c.listeners.ws ? { MQTT_WS_URL: c.listeners.ws.internal.url } : {}),
        MQTT_CLIENT_ID_PREFIX: clientIdPrefix,
        ...(c.tls.caCertificate ? { MQTT_CA_CERT: c.tls.caCertificate } : {}),
    })),
});

let credentials: k8s.core.v1.Secret | undefined;
if (mqttUsername !== undefined && mqttPassword !== undefined) {
    credentials = new k8s.core.v1.Secret("mqtt-client-credentials", {
        metadata: { name: "mqtt-client-credentials", namespace: appNamespace, labels },
        type: "Opaque",
        stringData: { MQTT_USERNAME: mqttUsername, MQTT_PASSWORD: mqttPassword },
    });
} else if (mqttUsername !== undefined || mqttPassword !== undefined) {
    throw new Error("set both mqttUsername and mqttPassword (the application's MQTT login), or neither");
} else {
    clientConfig.apply((c) => {
        if (!c.auth.authentication.startsWith("none")) {
            pulumi.log.warn(
                `the broker authenticates clients (${c.auth.authentication}) but no mqttUsername/mqttPassword is set: ` +
                    `the application will connect anonymously and be refused. ${c.auth.credentials}`,
            );
        }
    });
}

export const configMapName = settings.metadata.name;
export const secretName = credentials?.metadata.name;
export const mqttUrl = clientConfig.apply((c) => c.internalUrl);
