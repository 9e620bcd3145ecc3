import * as pulumi from "@pulumi/pulumi";
import { ClientListener, DiscoveryMode, EmqxCluster, EmqxClusterArgs, IpFamily, ServiceType, VolumeRetention } from "./components";

// Every key read here is declared, with its default, in Pulumi.yaml.
const config = new pulumi.Config();
const text = (key: string) => config.get(key) || undefined;
const port = (key: string) => config.getNumber(key) || undefined;
// Pulumi.yaml's default for storageClass names no class: "" is Kubernetes' "no dynamic provisioning", not "default".
const CLUSTER_DEFAULT_STORAGE_CLASS = "(cluster default)";
const storageClass = config.get("storageClass");
const secret = (key: string) => (config.get(key) ? config.requireSecret(key) : undefined);

function settingsFromLines(lines: string[]): Record<string, string> {
    const settings: Record<string, string> = {};
    for (const line of lines) {
        const at = line.indexOf("=");
        if (at <= 0) {
            throw new Error(`emqxConfig: "${line}" is not "path=value", e.g. "mqtt.max_packet_size=2MB"`);
        }
        settings[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    return settings;
}

const etcdEndpoints = config.getObject<string[]>("etcdEndpoints") ?? [];
const clientListeners = config.getObject<ClientListener[]>("clientListeners") ?? [];
// Only the quantities that are set: an empty request would be rejected by the API server.
function quantities(byResource: Record<string, string | undefined>): Record<string, string> {
    return Object.fromEntries(Object.entries(byResource).filter(([, q]) => q)) as Record<string, string>;
}
const resources = {
    requests: quantities({ cpu: text("cpuRequest"), memory: text("memoryRequest") }),
    limits: quantities({ memory: text("memoryLimit") }),
};

const args: EmqxClusterArgs = {
    clusterName: text("clusterName"),
    replicas: config.getNumber("replicas"),
    version: text("version"),
    discovery: text("discovery") as DiscoveryMode | undefined,
    etcd: etcdEndpoints.length > 0 ? { endpoints: etcdEndpoints, prefix: text("etcdPrefix") } : undefined,
    namespace: text("namespace"),
    persistence: config.getBoolean("persistence"),
    storageClass: storageClass === CLUSTER_DEFAULT_STORAGE_CLASS ? undefined : storageClass,
    storageSize: text("storageSize"),
    volumeGeneration: config.getNumber("volumeGeneration"),
    volumeRetentionOnScaleDown: text("volumeRetentionOnScaleDown") as VolumeRetention | undefined,
    serviceType: text("serviceType") as ServiceType | undefined,
    service: { listeners: clientListeners.length > 0 ? clientListeners : undefined },
    networkPolicy: {
        enabled: config.getBoolean("networkPolicy"),
        dashboard: (config.getObject<string[]>("dashboardAllowedCidrs") ?? []).map((cidr) => ({ ipBlock: { cidr } })),
        metrics: (config.getObject<string[]>("metricsNamespaces") ?? []).map((name) => ({
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
        })),
    },
    nodePorts: {
        mqtt: port("mqttNodePort"),
        mqtts: port("mqttsNodePort"),
        ws: port("wsNodePort"),
        wss: port("wssNodePort"),
    },
    externalHost: text("externalHost"),
    clusterDomain: text("clusterDomain"),
    ipFamily: text("ipFamily") as IpFamily | undefined,
    image: text("image"),
    resources,
    dashboard: {
        username: text("dashboardUsername"),
        password: secret("dashboardPassword"),
        service: { type: text("dashboardServiceType") as ServiceType | undefined, nodePort: port("dashboardNodePort") },
    },
    licenseKey: secret("licenseKey"),
    emqxConfig: settingsFromLines(config.getObject<string[]>("emqxConfig") ?? []),
};

const cluster = new EmqxCluster("emqx", args);

export const nodePort = cluster.nodePort;
export const dashboardNodePort = cluster.dashboardNodePort;
export const dashboardUrl = cluster.dashboardUrl;
export const mqttUrl = cluster.mqttUrl;
export const mqttInternalUrl = cluster.mqttInternalUrl;
export const namespace = cluster.namespace;
export const statefulSetName = cluster.statefulSetName;
export const headlessServiceName = cluster.headlessServiceName;
export const nodeNames = cluster.nodeNames;
export const dashboardUsername = cluster.dashboardUsername;
export const dashboardPassword = cluster.dashboardPassword;
export const clientConfig = cluster.clientConfig;
