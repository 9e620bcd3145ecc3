import type { OwnedPodMetadata } from "./placement";
import { metricsEndpoint } from "./monitoring";
import type { VersionProfile } from "./versions";

/**
 * Every name the cluster's objects and nodes use, derived from one base name. Objects agree on names because
 * they all read them from here.
 */
export interface ClusterNames {
    /** Base name: the client Service and the prefix of everything else. */
    readonly base: string;
    /**
     * The StatefulSet, and so the pods and node names: the base name, with `-g<N>` from volume generation 1 on.
     * A new generation is a new StatefulSet next to the old one, never a replacement under the same name.
     */
    readonly statefulSet: string;
    readonly headlessService: string;
    readonly clientService: string;
    /** The dashboard's own Service (dashboard, REST API; 4.x's management API). */
    readonly dashboardService: string;
    readonly serviceAccount: string;
    readonly role: string;
    readonly roleBinding: string;
    readonly podDisruptionBudget: string;
    /** The NetworkPolicy over every pod of the cluster (all volume generations). */
    readonly networkPolicy: string;
    /** The Secret that keeps the Erlang cookie and the first dashboard password for the life of the cluster. */
    readonly credentialsSecret: string;
    /** The Prometheus Operator's ServiceMonitor or PodMonitor (`monitoring`). */
    readonly monitor: string;
    /** The Ingress of an HTTP listener (`ingress.dashboard`, `ingress.ws`). */
    ingress(route: string): string;
    /** The `name` part of every EMQX node name. No dots and no trailing digits (the Erlang port is 4370 + that number). */
    readonly nodeBaseName: string;
    readonly headlessServiceFqdn: string;
    readonly clientServiceFqdn: string;
    readonly dashboardServiceFqdn: string;
    podName(ordinal: number): string;
    podFqdn(ordinal: number): string;
    nodeName(ordinal: number): string;
}

export const NODE_BASE_NAME = "emqx";

/** Where EMQX keeps its data in the image (4.x and 5.x), and where the data volume is mounted. */
export const DATA_DIR = "/opt/emqx/data";
/** Where EMQX writes its log files (an emptyDir). */
export const LOG_DIR = "/opt/emqx/log";
/** The EMQX container's name in every pod. */
export const EMQX_CONTAINER = "emqx";
/** Variables the pods set besides EMQX's settings: the pod name, and the host part of the node name built from it. */
export const POD_ENV_NAMES = { podName: "POD_NAME", host: "EMQX_HOST" } as const;

/** What distinguishes the objects of a volume generation: nothing for generation 0, `-g<N>` after it. */
export function generationSuffix(volumeGeneration: number): string {
    return volumeGeneration === 0 ? "" : `-g${volumeGeneration}`;
}

export function statefulSetName(base: string, volumeGeneration: number): string {
    return `${base}${generationSuffix(volumeGeneration)}`;
}

export function clusterNames(base: string, namespace: string, clusterDomain: string, volumeGeneration: number): ClusterNames {
    const headlessService = `${base}-headless`;
    const headlessServiceFqdn = `${headlessService}.${namespace}.svc.${clusterDomain}`;
    const statefulSet = statefulSetName(base, volumeGeneration);
    const podName = (ordinal: number) => `${statefulSet}-${ordinal}`;
    const podFqdn = (ordinal: number) => `${podName(ordinal)}.${headlessServiceFqdn}`;
    return {
        base,
        statefulSet,
        headlessService,
        clientService: base,
        dashboardService: `${base}-dashboard`,
        serviceAccount: base,
        role: `${base}-endpoints-reader`,
        roleBinding: `${base}-endpoints-reader`,
        podDisruptionBudget: base,
        networkPolicy: base,
        credentialsSecret: `${base}-credentials`,
        monitor: base,
        ingress: (route) => `${base}-${route}`,
        nodeBaseName: NODE_BASE_NAME,
        headlessServiceFqdn,
        clientServiceFqdn: `${base}.${namespace}.svc.${clusterDomain}`,
        dashboardServiceFqdn: `${base}-dashboard.${namespace}.svc.${clusterDomain}`,
        podName,
        podFqdn,
        nodeName: (ordinal) => `${NODE_BASE_NAME}@${podFqdn(ordinal)}`,
    };
}

/**
 * The longest StatefulSet name whose derived names fit Kubernetes' limits: pods get the label
 * `controller-revision-hash: <statefulset>-<10 chars>`, and labels are at most 63 characters.
 */
export const MAX_STATEFULSET_NAME_LENGTH = 63 - "-".length - 10;

/** The pod label that carries the volume generation: the Services and the PDB select the current one only. */
export const VOLUME_GENERATION_LABEL = "emqx.pulumi.io/volume-generation";

/**
 * The label that tells the component's Services apart (they share every other label): a ServiceMonitor selects the
 * dashboard Service by it, and so scrapes each pod once.
 */
export const SERVICE_LABEL = "emqx.pulumi.io/service";

/** The labels and annotations the component owns on its pods; user-given pod metadata may not override them. */
export function ownedPodMetadata(
    base: string,
    volumeGeneration: number,
    version: Pick<VersionProfile, "version" | "prometheusPort" | "prometheusPath">,
    metricsServed: boolean,
): OwnedPodMetadata {
    const selectorLabels = {
        "app.kubernetes.io/name": "emqx",
        "app.kubernetes.io/instance": base,
        // The Services follow the pods of the current volume generation only: a new generation takes over the
        // traffic and discovery as soon as it exists, and never clusters with the old pods.
        [VOLUME_GENERATION_LABEL]: String(volumeGeneration),
    };
    return {
        selectorLabels,
        labels: {
            ...selectorLabels,
            "app.kubernetes.io/version": version.version.replace(/[^A-Za-z0-9_.-]/g, "_"),
            "app.kubernetes.io/managed-by": "pulumi",
            "app.kubernetes.io/component": "broker",
        },
        // For annotation-based Prometheus scrapers. A scraper sets the path as the URL's path, so a query in it would
        // be escaped (`%3F`): query parameters go in `prometheus.io/param_<name>`, which the Prometheus community
        // chart's pod and service scrape jobs map to `__param_<name>`.
        // None where the endpoint is not served (4.x without the plugin), so that no scraper is pointed at a 404.
        annotations: metricsServed ? scrapeAnnotations(version) : {},
    };
}

/** `prometheus.io/*` annotations for a release's metrics endpoint: scrape, port, path, and one `param_<name>` per query parameter. */
function scrapeAnnotations(version: Pick<VersionProfile, "prometheusPort" | "prometheusPath">): Record<string, string> {
    const { port, path, params } = metricsEndpoint(version);
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": String(port),
        "prometheus.io/path": path,
        ...Object.fromEntries(Object.entries(params).map(([name, values]) => [`prometheus.io/param_${name}`, values.join(",")])),
    };
}
