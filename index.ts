import * as pulumi from "@pulumi/pulumi";
import { AuthorizationNoMatch, ClientListener, DiscoveryMode, EmqxCluster, EmqxClusterArgs, IngressArgs, IpFamily, MonitorKind, PlacementArgs, PodArgs, ServiceType, VolumeRetention } from "./components";

// Every key read here is declared, with its default, in Pulumi.yaml.
const config = new pulumi.Config();
const text = (key: string) => config.get(key) || undefined;
const port = (key: string) => config.getNumber(key) || undefined;
// Pulumi.yaml's default for storageClass names no class: "" is Kubernetes' "no dynamic provisioning", not "default".
const CLUSTER_DEFAULT_STORAGE_CLASS = "(cluster default)";
const storageClass = config.get("storageClass");
const secret = (key: string) => (config.get(key) ? config.requireSecret(key) : undefined);

/** `key=value` lines (an array in the stack's config) as an object; `example` shows the form in the error. */
function pairsFromLines(key: string, example: string): Record<string, string> {
    const pairs: Record<string, string> = {};
    for (const line of config.getObject<string[]>(key) ?? []) {
        const at = line.indexOf("=");
        if (at <= 0) {
            throw new Error(`${key}: "${line}" is not "${example.split("=")[0]}=value", e.g. "${example}"`);
        }
        pairs[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    return pairs;
}

// A monitor exists when `monitoring` names its kind.
const monitorKind = text("monitoring") as MonitorKind | undefined;
const metricsSecret = text("monitoringBasicAuthSecret");
// An Ingress exists for each listener whose host is set.
const ingressRoute = (route: "dashboard" | "ws") =>
    text(`${route}IngressHost`)
        ? { host: text(`${route}IngressHost`), ingressClassName: text("ingressClassName"), tlsSecretName: text(`${route}IngressTlsSecret`) }
        : undefined;
const ingress: IngressArgs = { dashboard: ingressRoute("dashboard"), ws: ingressRoute("ws") };

const etcdEndpoints = config.getObject<string[]>("etcdEndpoints") ?? [];

// TLS from a Secret, or from a Certificate cert-manager issues; neither leaves the image's example certificate.
const tlsIssuer = text("tlsIssuer");
const tlsSecretName = text("tlsSecretName");
const tls: EmqxClusterArgs["tls"] =
    tlsIssuer || tlsSecretName
        ? {
              secretName: tlsSecretName,
              certificate: tlsIssuer
                  ? {
                        issuerRef: { name: tlsIssuer, kind: text("tlsIssuerKind"), group: text("tlsIssuerGroup") },
                        dnsNames: config.getObject<string[]>("tlsDnsNames") ?? [],
                        inClusterNames: config.getBoolean("tlsInClusterNames"),
                    }
                  : undefined,
              caFromSecret: config.getBoolean("tlsCaFromSecret"),
              dashboard: config.getBoolean("tlsDashboard"),
          }
        : undefined;
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
    // Structured values, checked by the component against the Kubernetes schema.
    placement: config.getObject<PlacementArgs>("placement"),
    pod: config.getObject<PodArgs>("pod"),
    autoclean: text("autoclean"),
    resources,
    dashboard: {
        username: text("dashboardUsername"),
        password: secret("dashboardPassword"),
        service: { type: text("dashboardServiceType") as ServiceType | undefined, nodePort: port("dashboardNodePort") },
    },
    licenseKey: secret("licenseKey"),
    tls,
    licenseKeySecret: text("licenseKeySecretName")
        ? { name: text("licenseKeySecretName") as string, key: config.require("licenseKeySecretKey") }
        : undefined,
    authentication: {
        allowAnonymous: config.getBoolean("allowAnonymous"),
        users: text("mqttUsersSecret") ? { secretName: text("mqttUsersSecret") as string, key: text("mqttUsersKey") } : undefined,
    },
    authorization:
        text("authorizationConfigMap") || text("authorizationSecret")
            ? {
                  rules: {
                      configMapName: text("authorizationConfigMap"),
                      secretName: text("authorizationSecret"),
                      key: text("authorizationKey"),
                  },
                  noMatch: text("authorizationNoMatch") as AuthorizationNoMatch | undefined,
              }
            : undefined,
    emqxConfig: pairsFromLines("emqxConfig", "mqtt.max_packet_size=2MB"),
    monitoring: monitorKind
        ? {
              kind: monitorKind,
              labels: pairsFromLines("monitoringLabels", "release=kube-prometheus-stack"),
              interval: text("monitoringInterval"),
              scrapeTimeout: text("monitoringScrapeTimeout"),
              basicAuth: metricsSecret ? { secretName: metricsSecret } : undefined,
          }
        : undefined,
    ingress: ingress.dashboard || ingress.ws ? ingress : undefined,
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
export const mqttUsername = cluster.mqttUsername;
export const mqttPassword = cluster.mqttPassword;
export const managementAppId = cluster.managementAppId;
export const managementAppSecret = cluster.managementAppSecret;
export const clientConfig = cluster.clientConfig;
export const metricsUrls = cluster.metricsUrls;
