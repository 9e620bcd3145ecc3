import * as pulumi from "@pulumi/pulumi";
import { AuthenticationArgs, AuthorizationArgs, SecretKeyRef } from "./auth";
import { ContainersArgs } from "./extras";
import { IngressArgs } from "./ingress";
import { MonitoringArgs } from "./monitoring";
import { NetworkPolicyArgs } from "./network-policy";
import { PlacementArgs, PodArgs } from "./placement";
import { TlsArgs } from "./tls";

/** How EMQX nodes find each other. Every mode sets all the keys it needs; none relies on EMQX's defaults. */
export const DiscoveryMode = {
    /** DNS SRV records of the headless Service. No RBAC needed. EMQX 4.4 and 5.x. */
    Dns: "dns",
    /** The Kubernetes Endpoints API of the headless Service. Creates a Role to read endpoints. */
    K8s: "k8s",
    /** A fixed seed list derived from the replica count. */
    Static: "static",
    /** An etcd cluster you run (set `etcd`). */
    Etcd: "etcd",
    /** No discovery: a single node (replicas must be 1). */
    Manual: "manual",
} as const;
export type DiscoveryMode = (typeof DiscoveryMode)[keyof typeof DiscoveryMode];

/** The type of the Service clients connect to. */
export const ServiceType = {
    /** Listeners on NodePorts of every node (pinned with `nodePorts` or allocated by Kubernetes). */
    NodePort: "NodePort",
    /** Listeners behind a cloud load balancer. */
    LoadBalancer: "LoadBalancer",
    /** Listeners reachable only inside the cluster. */
    ClusterIP: "ClusterIP",
} as const;
export type ServiceType = (typeof ServiceType)[keyof typeof ServiceType];

/** Where a NodePort or LoadBalancer Service sends external traffic (`Service.spec.externalTrafficPolicy`). */
export const ExternalTrafficPolicy = {
    /** Any node forwards to any pod; clients' source addresses are replaced by a node's. */
    Cluster: "Cluster",
    /** Only nodes running a pod take traffic, and clients' source addresses reach EMQX (for ACLs and logs). */
    Local: "Local",
} as const;
export type ExternalTrafficPolicy = (typeof ExternalTrafficPolicy)[keyof typeof ExternalTrafficPolicy];

/** The IP family of the cluster network, in Kubernetes' terms (`Service.spec.ipFamilies`). */
export const IpFamily = {
    /** EMQX's defaults: listeners, cluster RPC and the Erlang distribution on IPv4. Services get the cluster's default family. */
    IPv4: "IPv4",
    /**
     * A single-stack IPv6 cluster: every listener, the dashboard, cluster RPC and the Erlang distribution on IPv6, and
     * Services with `ipFamilies: [IPv6]`. EMQX 5.3.1+ with `dns`, `static` or `manual` discovery.
     */
    IPv6: "IPv6",
} as const;
export type IpFamily = (typeof IpFamily)[keyof typeof IpFamily];

/** What happens to a pod's volume when the StatefulSet scales down past it. */
export const VolumeRetention = {
    /** Keep the PersistentVolumeClaim: scaling up again brings the node back with its data. */
    Retain: "Retain",
    /** Delete the PersistentVolumeClaim of every pod removed by a scale-down. */
    Delete: "Delete",
} as const;
export type VolumeRetention = (typeof VolumeRetention)[keyof typeof VolumeRetention];

/** Fixed NodePorts (30000-32767) per listener. Unset listeners get a port allocated by Kubernetes. */
export interface NodePortsArgs {
    /** MQTT over TCP (container port 1883). */
    mqtt?: number;
    /** MQTT over TLS (container port 8883). */
    mqtts?: number;
    /** MQTT over WebSocket (container port 8083). */
    ws?: number;
    /** MQTT over secure WebSocket (container port 8084). */
    wss?: number;
}

/** An MQTT listener of the client Service. */
export const ClientListener = {
    /** MQTT over TCP (1883). */
    Mqtt: "mqtt",
    /** MQTT over TLS (8883). */
    Mqtts: "mqtts",
    /** MQTT over WebSocket (8083). */
    Ws: "ws",
    /** MQTT over secure WebSocket (8084). */
    Wss: "wss",
} as const;
export type ClientListener = (typeof ClientListener)[keyof typeof ClientListener];

/**
 * The dashboard's own Service, which serves the dashboard and REST API (container port 18083) and, on 4.x, the
 * management API (8081). Default: a ClusterIP Service, reachable from inside the cluster only (`kubectl
 * port-forward`, see the README); the client Service never carries these ports.
 */
export interface DashboardServiceArgs {
    /** `ClusterIP` (default), `NodePort` or `LoadBalancer`. */
    type?: pulumi.Input<ServiceType>;
    /** Fixed NodePort (30000-32767) of the dashboard, for `NodePort` and `LoadBalancer`. Default: allocated by Kubernetes. */
    nodePort?: pulumi.Input<number>;
}

/**
 * Options of the client Service, the one MQTT clients connect to (its type is `serviceType`, its NodePorts
 * `nodePorts`). Every field is optional; a change updates the Service in place and rolls no pod.
 */
export interface ClientServiceArgs {
    /**
     * Annotations of the Service, e.g. a cloud load balancer's settings
     * (`service.beta.kubernetes.io/aws-load-balancer-type: nlb`). Keys are Kubernetes annotation names; `pulumi.com/`
     * keys are refused (the component sets `pulumi.com/skipAwait` or `pulumi.com/waitFor`). Default none.
     */
    annotations?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /**
     * CIDRs allowed to reach the load balancer (`spec.loadBalancerSourceRanges`), e.g. `["203.0.113.0/24"]`.
     * `LoadBalancer` only. Default: the provider's, usually everywhere.
     */
    loadBalancerSourceRanges?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * The load balancer implementation (`spec.loadBalancerClass`), a prefixed name such as `service.k8s.aws/nlb`.
     * `LoadBalancer` only. Kubernetes does not let it change on an existing Service. Default: the cluster's.
     */
    loadBalancerClass?: pulumi.Input<string>;
    /**
     * `Cluster` (Kubernetes' default) or `Local`, which keeps clients' source addresses. `NodePort` and
     * `LoadBalancer` only.
     */
    externalTrafficPolicy?: pulumi.Input<ExternalTrafficPolicy>;
    /**
     * The MQTT listeners the Service exposes (and the NetworkPolicy opens), e.g. `["mqtt", "mqtts"]` for a cluster
     * without WebSocket. Default all four: `mqtt`, `mqtts`, `ws`, `wss`. Each at most once, at least one. The pods
     * still serve every listener (for the headless Service); the URLs, `clientConfig` and `nodePorts` follow this
     * list. `nodePorts` of a listener left out are refused.
     */
    listeners?: pulumi.Input<ClientListener[]>;
}

/** The dashboard's admin account. */
export interface DashboardArgs {
    /** Admin username. Default `admin`. */
    username?: pulumi.Input<string>;
    /**
     * Admin password, best passed as a secret. Default: a generated 32-character alphanumeric password.
     * EMQX sets it only on the first boot of an empty data directory, so the component records the first value in
     * the cluster's credentials Secret and keeps it: a later change is ignored (with a warning at preview) and rolls
     * nothing. To change the password for real, see "Changing the dashboard password" in the README.
     */
    password?: pulumi.Input<string>;
    /** How the dashboard is reachable. Default: a ClusterIP Service, private to the cluster. */
    service?: DashboardServiceArgs;
}

/** etcd discovery settings (discovery `etcd`). */
export interface EtcdArgs {
    /** etcd client URLs, e.g. `http://etcd-0.etcd:2379`. Required. */
    endpoints: pulumi.Input<pulumi.Input<string>[]>;
    /** Key prefix under which nodes register. Default `emqxcl`. */
    prefix?: string;
    /**
     * Name of a Secret in the cluster's namespace with `ca.crt`, `tls.crt` and `tls.key` for a TLS etcd.
     * Mounted read-only; unset means plain HTTP.
     */
    tlsSecretName?: string;
}

/** CPU and memory for each EMQX container, as Kubernetes quantities. */
export interface ResourcesArgs {
    /** e.g. `{ cpu: "500m", memory: "512Mi" }`. */
    requests?: pulumi.Input<{ [resource: string]: pulumi.Input<string> }>;
    /** e.g. `{ memory: "1Gi" }`. */
    limits?: pulumi.Input<{ [resource: string]: pulumi.Input<string> }>;
}

/**
 * Everything `EmqxCluster` takes. Settings that decide which objects exist (replicas, version, discovery,
 * persistence, volume generation, service type, names) are plain values, checked before anything is created; an
 * Output there is refused with the fix. Everything else takes `Input<>` (Outputs of other resources, secrets) and is
 * checked, with the same messages, as soon as its value is known and before any object that uses it is created.
 */
export interface EmqxClusterArgs {
    /** Number of EMQX nodes. Default 3. Odd counts make split brain less likely. */
    replicas?: number;
    /**
     * EMQX version, used as the image tag: `5.8.9`, `5.8`, `4.4.19`, `v4.1-rc.1`, or any of them with a digest
     * (`5.8.9@sha256:...`). Default `5.8.9`, the last Apache-2.0 release. 5.9 and later need `licenseKey` for more
     * than one node.
     */
    version?: string;
    /** How nodes find each other. Default `dns`. */
    discovery?: DiscoveryMode;
    /** etcd settings; required when `discovery` is `etcd`, refused otherwise. */
    etcd?: pulumi.Input<EtcdArgs>;
    /** Keep `/opt/emqx/data` on a PersistentVolumeClaim per pod. Default true; false uses an emptyDir (throwaway). */
    persistence?: boolean;
    /**
     * StorageClass of the data volumes. Omitted: the cluster's default StorageClass. An empty string means what it
     * means in Kubernetes: no class and no dynamic provisioning, so each claim binds a pre-provisioned
     * PersistentVolume without a class.
     */
    storageClass?: pulumi.Input<string>;
    /**
     * Size of each data volume, as a Kubernetes quantity. Default `1Gi`; at least `20Mi`, the size EMQX's own Helm
     * chart and operator examples boot on. Increases resize the existing volumes in place.
     */
    storageSize?: pulumi.Input<string>;
    /**
     * Bump (1, 2, ...) to move the cluster to new, empty volumes: the only way to change `storageClass`, shrink
     * `storageSize` or turn `persistence` off or on. A new StatefulSet `<clusterName>-g<N>` starts on new claims, the
     * Services follow it, and the old StatefulSet is deleted; its claims are kept until you delete them. Default 0.
     */
    volumeGeneration?: number;
    /** What happens to the volume of a pod removed by a scale-down. Default `Retain`. */
    volumeRetentionOnScaleDown?: VolumeRetention;
    /** An existing namespace to deploy into, e.g. `ns.metadata.name` of a Namespace in the same program. Default `default`. */
    namespace?: pulumi.Input<string>;
    /**
     * Base name of every Kubernetes object. Default: the component's name. Set it to the old name when you rename the
     * component (with an alias), so the cluster keeps its objects, node names and volumes.
     */
    clusterName?: string;
    /** Type of the client Service. Default `NodePort`. */
    serviceType?: ServiceType;
    /**
     * Options of the client Service: annotations, load balancer source ranges and class, external traffic policy,
     * which listeners it exposes.
     */
    service?: ClientServiceArgs;
    /**
     * A NetworkPolicy over the pods, on by default: the exposed MQTT listeners open to every source (or
     * `networkPolicy.clients`), the cluster ports to the cluster's own pods only, the dashboard and the metrics
     * endpoint only to the peers named in `networkPolicy.dashboard` and `networkPolicy.metrics`; egress unrestricted
     * unless `networkPolicy.egress` is given. `{ enabled: false }` (a plain value) creates none.
     */
    networkPolicy?: NetworkPolicyArgs;
    /** Fixed NodePorts per MQTT listener of the client Service (NodePort and LoadBalancer only). The dashboard's is `dashboard.service.nodePort`. */
    nodePorts?: NodePortsArgs;
    /**
     * Host name or IP address (IPv6 without brackets) clients use to reach the NodePorts; no scheme, port or path.
     * Default `localhost`, which is right only on a machine with port mappings to the nodes (kind, k3d, minikube
     * tunnels): a NodePort cluster that keeps it gets a preview warning.
     */
    externalHost?: pulumi.Input<string>;
    /**
     * The cluster's DNS domain. Default `cluster.local`. It ends every node name: changing it on a running cluster
     * is refused unless `volumeGeneration` is bumped.
     */
    clusterDomain?: pulumi.Input<string>;
    /** `IPv4` (default) or `IPv6` for a single-stack IPv6 cluster network. Cannot change on a running cluster. */
    ipFamily?: IpFamily;
    /** Image repository. Default `emqx/emqx`; e.g. a mirror, or `emqx/emqx-enterprise`. */
    image?: pulumi.Input<string>;
    /**
     * Where the pods run: `{ nodeSelector?, tolerations?, affinity?, topologySpreadConstraints?, priorityClassName?,
     * disruptionBudget? }`, the pod spec fields of those names. Default: a soft spread across zones and hosts, a soft
     * host anti-affinity, a PodDisruptionBudget of `maxUnavailable: 1`. Checked against the Kubernetes schema.
     */
    placement?: pulumi.Input<PlacementArgs>;
    /**
     * What the pods carry and how they roll: `{ labels?, annotations?, serviceAccountAnnotations?, imagePullSecrets?,
     * imagePullPolicy?, terminationGracePeriodSeconds?, minReadySeconds?, probes? }`. Labels and annotations the
     * component sets are refused. A change rolls the pods (except `serviceAccountAnnotations`).
     */
    pod?: pulumi.Input<PodArgs>;
    /**
     * What runs next to EMQX: `{ env?, volumeMounts?, volumes?, initContainers?, sidecars? }`. `env` and
     * `volumeMounts` are added to the EMQX container (values or `secretKeyRef`s; mounts of `volumes`), `volumes` to
     * the pod, `initContainers` run before EMQX, `sidecars` next to it. Refused: variables the component sets and
     * EMQX settings it owns, the data and log volumes and paths, the container name `emqx`. A change rolls the pods.
     */
    containers?: pulumi.Input<ContainersArgs>;
    /**
     * How long a stopped node stays a cluster member before the remaining nodes remove it (EMQX's
     * `cluster.autoclean`): a whole number of `s`, `m` or `h`, at least `1m`. After a scale-down, `emqx ctl cluster
     * status` lists the removed nodes as stopped for this long, then no more. A node that is down longer (a lost
     * host, a pod that cannot be scheduled) is removed too and joins again through discovery when it returns (on
     * 5.x possibly only once its data directory is emptied: EMQX's reason for its own 24h).
     * Default: `5m` on 4.x (EMQX's own), `1h` on 5.1+ (EMQX's own is `24h`). Refused on 5.0.x, which ignore the
     * setting (emqx#11070). A change rolls the pods. See "Scale-down and membership" in the README.
     */
    autoclean?: pulumi.Input<string>;
    /**
     * A Prometheus Operator `ServiceMonitor` (default) or `PodMonitor` `<clusterName>` on every node's metrics
     * endpoint (5.x `:18083/api/v5/prometheus/stats`; 4.x `:8081/api/v4/emqx_prometheus?type=prometheus`, for which
     * the component loads the `emqx_prometheus` plugin): `{ kind?, labels?, interval?, scrapeTimeout?, basicAuth? }`.
     * Created only when given; the cluster needs the operator's CRDs. `basicAuth` (a Secret's name) is required where
     * the release asks scrapers for credentials. Default: none (the pods' `prometheus.io/*` annotations stay).
     */
    monitoring?: MonitoringArgs;
    /**
     * Ingresses for the HTTP listeners: `{ dashboard?, ws? }`, each `{ host?, path?, ingressClassName?, annotations?,
     * tlsSecretName? }`, created when given (`<clusterName>-dashboard`, `<clusterName>-ws`). Raw MQTT (`mqtt`,
     * `mqtts`) is refused: an Ingress routes HTTP only. Needs an Ingress controller. Default: none.
     */
    ingress?: IngressArgs;
    /** CPU and memory requests and limits of each EMQX container. */
    resources?: pulumi.Input<ResourcesArgs>;
    /**
     * TLS with your certificate for mqtts (8883) and wss (8084), and optionally the dashboard (HTTPS 18084):
     * `{ secretName? | certificate?, caFromSecret?, caCertificate?, dashboard? }`, an existing `kubernetes.io/tls`
     * Secret or a cert-manager Certificate the component creates. The object, `certificate`, `dashboard` and
     * `caFromSecret` are plain values; names, issuer and DNS names take Inputs. Default: none, so the TLS listeners
     * serve the EMQX image's example certificate (a preview warning when they are reachable from outside).
     */
    tls?: TlsArgs;
    /** Dashboard admin account, and how the dashboard is exposed (`dashboard.service`, private by default). */
    dashboard?: pulumi.Input<DashboardArgs>;
    /** EMQX licence key (5.x). Stored in a Secret, passed as `EMQX_LICENSE__KEY`. */
    licenseKey?: pulumi.Input<string>;
    /**
     * The licence key from a Secret you manage, `{ name, key }` in the cluster's namespace, instead of `licenseKey`
     * (5.x). Passed as `EMQX_LICENSE__KEY` with a `secretKeyRef`: the value never enters the program or its state.
     */
    licenseKeySecret?: pulumi.Input<SecretKeyRef>;
    /**
     * How MQTT clients authenticate: `{ allowAnonymous?, users? }`, plain values. Default: anonymous clients
     * refused, password-based authentication against EMQX's built-in database with a generated user (outputs
     * `mqttUsername`, `mqttPassword`); refused on 4.0-4.2, which cannot (set `allowAnonymous: true` there). A cluster
     * deployed before this arg existed accepted anonymous clients: the change guard refuses turning that off until you
     * choose (see the README's production checklist).
     */
    authentication?: AuthenticationArgs;
    /**
     * Authorization rules (EMQX's ACL file) from a ConfigMap or Secret: `{ rules: { configMapName | secretName, key? },
     * noMatch? }`. Mounted read-only; EMQX reads it when it starts, so a change of the rules needs a restart of the
     * pods (`kubectl rollout restart`). Default: EMQX's own rules.
     */
    authorization?: pulumi.Input<AuthorizationArgs>;
    /**
     * EMQX settings whose values are secrets, by configuration path, each from a Secret: `{ "<path>": { name, key } }`,
     * e.g. `{ "bridges.mqtt.cloud.password": { name: "bridge-creds", key: "password" } }`. Passed as `EMQX_*`
     * variables with a `secretKeyRef`, never through the ConfigMap or the state. 5.x parses the value as HOCON (store
     * a string with `#` quoted). Refused: settings the component owns, paths `emqxConfig` sets, and on 4.0-4.2 paths
     * the image's entrypoint would print to the log.
     */
    secretSettings?: pulumi.Input<{ [path: string]: pulumi.Input<SecretKeyRef> }>;
    /**
     * Extra EMQX settings by their configuration path, e.g. `{ "mqtt.max_packet_size": "2MB" }`. Values are
     * HOCON (5.x) or cuttlefish (4.x) values, passed as `EMQX_*` environment variables through the ConfigMap; a
     * change rolls the pods. Settings the component manages or derives something from are refused here (node name,
     * role, cookie, data directory, cluster discovery, cluster ports and IP protocol, the listeners' binds, enables
     * and WebSocket paths, the dashboard's HTTP listener, licence, dashboard account): use the dedicated args. On
     * 4.0-4.2 values with characters the image's entrypoint changes are refused. Never put secrets here.
     */
    emqxConfig?: pulumi.Input<{ [path: string]: pulumi.Input<string> }>;
    /**
     * Kinds of refused change to let through once, by the name the refusal gives (`version`, `storageClass`,
     * `storageSize`, `persistence`, `volumeGeneration`, ...), e.g. `["storageSize"]`. Each acknowledged kind is
     * warned about at every preview; remove it once the update is done. Default: none.
     */
    acknowledgedChanges?: string[];
    /**
     * Whether the change guard (a dynamic-provider resource that refuses unsafe changes at preview) runs. Default
     * true. Set false only where dynamic providers cannot run (e.g. `pulumi:disable-default-providers` covering
     * `pulumi-nodejs`): nothing then stops an unsafe change, and every preview warns so.
     */
    changeGuard?: boolean;
}

/** Defaults of every optional arg, in one place. */
export const DEFAULTS = {
    replicas: 3,
    version: "5.8.9",
    discovery: "dns" as DiscoveryMode,
    persistence: true,
    storageSize: "1Gi",
    volumeGeneration: 0,
    volumeRetentionOnScaleDown: "Retain" as VolumeRetention,
    namespace: "default",
    serviceType: "NodePort" as ServiceType,
    externalHost: "localhost",
    clusterDomain: "cluster.local",
    ipFamily: "IPv4" as IpFamily,
    image: "emqx/emqx",
    dashboardUsername: "admin",
    dashboardServiceType: "ClusterIP" as ServiceType,
    networkPolicy: true,
    etcdPrefix: "emqxcl",
} as const;
