import * as pulumi from "@pulumi/pulumi";
import { ClientServiceArgs, DEFAULTS, DashboardArgs, EmqxClusterArgs, IpFamily, NodePortsArgs, ResourcesArgs, ServiceType, VolumeRetention } from "./args";
import { AuthPlan } from "./auth";
import { ChangeGuardState } from "./changes";
import { EmqxArgsError, ResolvedArgs, checkArgs, isDeferred, managedSetting } from "./checks";
import { DiscoveryStrategy, discoverySettings } from "./discovery";
import { DATA_DIR, EMQX_CONTAINER, LOG_DIR, POD_ENV_NAMES, VOLUME_GENERATION_LABEL, ClusterNames, clusterNames, ownedPodMetadata } from "./names";
import { ExtrasPlan, extrasProblems, planExtras } from "./extras";
import { IngressPlan, planIngresses } from "./ingress";
import { MonitoringPlan, loadedPluginsSetting, metricsServed, monitoringPlugins, planMonitoring } from "./monitoring";
import { PlacementPlan, planPlacement } from "./placement";
import { membershipSettings } from "./membership";
import { DASHBOARD_PORT, DASHBOARD_TLS_PORT, LISTENER_PORTS } from "./ports";
import { TLS_DIR, TLS_VOLUME, TlsPlan, planTls } from "./tls";
import { NetworkPolicyPlan, planNetworkPolicy } from "./network-policy";
import { VersionProfile } from "./versions";

export type ListenerName = keyof NodePortsArgs | "dashboard" | "dashboard-tls" | "api";

/** A port the pods serve to clients or operators, and the Service that carries it. */
export interface Listener {
    readonly name: ListenerName;
    readonly port: number;
    readonly tls: boolean;
    /**
     * `client`: an MQTT listener of the client Service; `dashboard`: the dashboard, REST API and 4.x's management
     * API; `none`: on no Service, served by the pods only (an MQTT listener the client Service leaves out,
     * `service.listeners`; the plain dashboard port when the dashboard Service carries HTTPS, which the probes use).
     */
    readonly service: "client" | "dashboard" | "none";
    /** The pinned NodePort, if any. */
    readonly nodePort?: number;
}


export { VOLUME_GENERATION_LABEL } from "./names";

/** Where the etcd TLS Secret is mounted. */
export const ETCD_TLS_DIR = "/opt/emqx/etc/etcd-tls";

/** Keys of the component's Secret. */
export const SECRET_KEYS = {
    cookie: "erlang-cookie",
    dashboardPassword: "dashboard-password",
    licenseKey: "license-key",
} as const;

/**
 * Every decision the component makes, as plain data: names, version profile, discovery, ports, storage and the
 * EMQX settings. Builders turn it into Kubernetes objects without deciding anything again.
 */
export interface ClusterPlan {
    readonly names: ClusterNames;
    readonly namespace: string;
    readonly clusterDomain: string;
    /** `IPv6`: the Services are single-stack IPv6 and EMQX's IPv6 settings are in `settings`. */
    readonly ipFamily: IpFamily;
    readonly replicas: number;
    readonly version: VersionProfile;
    readonly discovery: DiscoveryStrategy;
    /** `repository:tag` (or `repository:tag@sha256:...`). */
    readonly image: string;
    /** Labels that select the cluster's pods; never change for the life of the cluster. */
    readonly selectorLabels: Readonly<Record<string, string>>;
    /** Labels on every object. */
    readonly labels: Readonly<Record<string, string>>;
    /** Scheduling, pod metadata, pull settings, rollout and probe timings, the disruption budget. */
    readonly placement: PlacementPlan;
    readonly persistence: {
        readonly enabled: boolean;
        /** Undefined: the cluster's default class; "": no class (no dynamic provisioning). */
        readonly storageClass?: string;
        readonly size: string;
        readonly claimTemplateName: string;
        /** Claims are `<template>-<statefulset>-<ordinal>`, and the StatefulSet name carries the generation. */
        readonly volumeGeneration: number;
        readonly retentionOnScaleDown: VolumeRetention;
    };
    readonly serviceType: ServiceType;
    /** The client Service's annotations, load balancer settings and external traffic policy. */
    readonly clientService: pulumi.Unwrap<ClientServiceArgs>;
    /** The dashboard Service's type; its pinned NodePort is the `dashboard` listener's. */
    readonly dashboardServiceType: ServiceType;
    readonly listeners: readonly Listener[];
    /** The ServiceMonitor or PodMonitor (`monitoring`); undefined: none. */
    readonly monitoring?: MonitoringPlan;
    /** Every node's metrics URL, in the cluster; empty where the endpoint is not served (4.x without `monitoring`). */
    readonly metricsUrls: readonly string[];
    /** The Ingresses of the HTTP listeners (`ingress`). */
    readonly ingresses: readonly IngressPlan[];
    /** Who may reach the pods; undefined when `networkPolicy.enabled` is false. */
    readonly networkPolicy?: NetworkPolicyPlan;
    /** Extra env, mounts, volumes, init containers and sidecars (`containers`). */
    readonly extras: ExtrasPlan;
    /** Non-secret EMQX settings by configuration path: discovery, node, dashboard user, autoclean, `emqxConfig`. */
    readonly settings: Readonly<Record<string, string>>;
    readonly dashboardUsername: string;
    /** A licence key was given by value; it reaches the pods through the Secret only. */
    readonly hasLicenseKey: boolean;
    /** Client authentication and authorization, settings from Secrets, the 4.x management application. */
    readonly auth: AuthPlan;
    readonly externalHost: string;
    readonly resources?: pulumi.Unwrap<ResourcesArgs>;
    readonly etcdTlsSecretName?: string;
    /** The user's certificate for the TLS listeners; undefined: the image's example certificate. */
    readonly tls?: TlsPlan;
    readonly createPodDisruptionBudget: boolean;
    /** What the change guard compares between the running cluster and this plan. */
    readonly guard: ChangeGuardState;
    /** Kinds of refused change the user let through (`acknowledgedChanges`). */
    readonly acknowledgedChanges: readonly string[];
    readonly warnings: readonly string[];
}


/** `cluster.dns.name` -> `EMQX_CLUSTER__DNS__NAME`, the override EMQX 4.x and 5.x both read. */
export function settingEnvName(path: string): string {
    return `EMQX_${path.replace(/\./g, "__").toUpperCase()}`;
}

/** Turns checked args into the plan. Throws `EmqxArgsError` (see `checkArgs`) before deciding anything. */
export function planCluster(componentName: string, args: ResolvedArgs): ClusterPlan {
    const checked = checkArgs(componentName, args);
    const { replicas, version, discovery, namespace, clusterDomain, etcd } = checked;

    const names = clusterNames(checked.base, namespace, clusterDomain, checked.volumeGeneration);
    if (names.podFqdn(replicas - 1).length > 253) {
        throw new EmqxArgsError(componentName, [
            `clusterName/namespace/clusterDomain: the pod host name ${names.podFqdn(replicas - 1)} exceeds 253 characters; shorten one of them`,
        ]);
    }
    const nodeNames = Array.from({ length: replicas }, (_, ordinal) => names.nodeName(ordinal));

    const discoveryKeys = discoverySettings(discovery, {
        major: version.family.major,
        nodeBaseName: names.nodeBaseName,
        namespace,
        clusterDomain,
        headlessServiceName: names.headlessService,
        headlessServiceFqdn: names.headlessServiceFqdn,
        nodeNames,
        etcd:
            discovery.mode === "etcd" && etcd
                ? {
                      endpoints: etcd.endpoints,
                      prefix: etcd.prefix ?? DEFAULTS.etcdPrefix,
                      tlsDir: etcd.tlsSecretName ? ETCD_TLS_DIR : undefined,
                  }
                : undefined,
    });

    const tls = planTls(checked.tls, {
        version,
        names,
        ipFamily: checked.ipFamily,
        serviceType: checked.serviceType,
        externalHost: args.externalHost,
    });
    const dashboardNodePort = checked.dashboardService.nodePort;
    const listeners: Listener[] = [
        ...LISTENER_PORTS.map((l) => ({
            ...l,
            service: checked.clientListeners.includes(l.name) ? ("client" as const) : ("none" as const),
            nodePort: checked.nodePorts[l.name],
        })),
        ...(tls?.dashboard
            ? [
                  { name: "dashboard" as const, port: DASHBOARD_PORT, tls: false, service: "none" as const },
                  { name: "dashboard-tls" as const, port: DASHBOARD_TLS_PORT, tls: true, service: "dashboard" as const, nodePort: dashboardNodePort },
              ]
            : [{ name: "dashboard" as const, port: DASHBOARD_PORT, tls: false, service: "dashboard" as const, nodePort: dashboardNodePort }]),
    ];
    if (version.managementPort !== undefined) {
        listeners.push({ name: "api", port: version.managementPort, tls: false, service: "dashboard" });
    }

    const settings = {
        // The same name on every pod; EMQX_HOST (set per pod) completes the node name.
        name: names.nodeBaseName,
        ...discoveryKeys,
        ...(checked.ipFamily === "IPv6" ? version.ipv6Settings : {}),
        ...loadedPluginsSetting(version, [...monitoringPlugins(checked.monitoring, version), ...checked.auth.plugins]),
        [version.dashboardUsernamePath]: checked.dashboardUsername,
        ...membershipSettings(checked.autoclean, version),
        ...tls?.settings,
        ...checked.auth.settings,
        ...checked.emqxConfig,
    };
    const extraProblems = extrasProblems(checked.containers, {
        envNames: new Set([
            ...Object.values(POD_ENV_NAMES),
            ...[
                ...Object.keys(settings),
                "node.cookie",
                version.dashboardPasswordPath,
                ...(version.licenseKeyPath ? [version.licenseKeyPath] : []),
                ...checked.auth.secretSettings.map((s) => s.path),
            ].map(settingEnvName),
        ]),
        volumes: {
            data: DATA_DIR,
            log: LOG_DIR,
            ...(etcd?.tlsSecretName ? { "etcd-tls": ETCD_TLS_DIR } : {}),
            ...(tls ? { [TLS_VOLUME]: TLS_DIR } : {}),
            ...Object.fromEntries(checked.auth.mounts.map((m) => [m.name, m.mountPath])),
            ...version.readOnlyRoot?.writablePaths,
        },
        containerName: EMQX_CONTAINER,
        managedSetting: (path) => {
            const managed = managedSetting(path, version);
            return managed && `the component manages: ${managed.why}; ${managed.fix}`;
        },
    });
    if (extraProblems.length > 0) {
        throw new EmqxArgsError(componentName, extraProblems);
    }

    const served = metricsServed(version, checked.monitoring);
    const owned = ownedPodMetadata(checked.base, checked.volumeGeneration, version, served);
    const { selectorLabels } = owned;
    const metricsListener = listeners.find((l) => l.port === version.prometheusPort);
    if (!metricsListener) {
        throw new Error(`no listener serves the metrics port ${version.prometheusPort}`);
    }
    // Every generation's pods: during a volume generation switch the old pods stay behind the policy too.
    const clusterPodLabels = Object.fromEntries(Object.entries(selectorLabels).filter(([key]) => key !== VOLUME_GENERATION_LABEL));
    const networkPolicy = planNetworkPolicy(checked.networkPolicy, {
        podSelector: clusterPodLabels,
        clusterPorts: [version.clusterPorts.distribution, version.clusterPorts.rpc],
        clientPorts: listeners.filter((l) => l.service === "client").map((l) => l.port),
        dashboardPorts: listeners.filter((l) => l.service === "dashboard").map((l) => l.port),
        metricsPort: version.prometheusPort,
        discovery: discovery.mode,
        etcdEndpoints: etcd?.endpoints ?? [],
    });

    return {
        names,
        namespace,
        clusterDomain,
        ipFamily: checked.ipFamily,
        replicas,
        version,
        discovery,
        image: `${checked.image}:${version.imageTag}`,
        selectorLabels,
        labels: owned.labels,
        placement: planPlacement(checked.placement, checked.pod, owned),
        persistence: {
            enabled: checked.persistence,
            storageClass: checked.storageClass,
            size: checked.storageSize,
            claimTemplateName: "data",
            volumeGeneration: checked.volumeGeneration,
            retentionOnScaleDown: checked.retentionOnScaleDown,
        },
        serviceType: checked.serviceType,
        clientService: checked.clientService,
        dashboardServiceType: checked.dashboardService.type,
        listeners,
        networkPolicy,
        settings,
        extras: planExtras(checked.containers),
        monitoring: planMonitoring(checked.monitoring, { version, portName: metricsListener.name, labels: owned.labels }),
        metricsUrls: served ? nodeNames.map((_, i) => `http://${names.podFqdn(i)}:${version.prometheusPort}${version.prometheusPath}`) : [],
        ingresses: planIngresses(checked.ingress),
        dashboardUsername: checked.dashboardUsername,
        hasLicenseKey: checked.hasLicenseKey,
        auth: checked.auth,
        externalHost: args.externalHost ?? DEFAULTS.externalHost,
        resources: args.resources,
        etcdTlsSecretName: discovery.mode === "etcd" ? etcd?.tlsSecretName : undefined,
        tls,
        createPodDisruptionBudget: checked.createPodDisruptionBudget,
        guard: {
            clusterName: checked.base,
            namespace,
            version: version.version,
            major: version.family.major,
            versionRank: version.rank,
            refusedSources: version.refusedSources,
            dataCreatedSinceRank: version.dataCreatedSinceRank,
            persistence: checked.persistence,
            storageClass: checked.storageClass ?? "",
            noDynamicProvisioning: checked.storageClass === "",
            storageSize: checked.storageSize,
            storageBytes: checked.storageBytes,
            volumeGeneration: checked.volumeGeneration,
            clusterDomain,
            firstNodeName: names.nodeName(0),
            ipFamily: checked.ipFamily,
            allowAnonymous: checked.auth.allowAnonymous,
        },
        acknowledgedChanges: checked.acknowledgedChanges,
        warnings: checked.warnings,
    };
}

/**
 * The plan of args that may hold Outputs. Secret args (`dashboard.password`, `licenseKey`) are left out: they
 * reach only the credentials, so the plan, and every object built from it, stays unsecret. When every other arg
 * is a plain value the plan is made at once (and `EmqxArgsError` thrown here); otherwise when the Outputs are
 * known, and the error fails every object built from the plan before it is created.
 */
export function planOutput(
    componentName: string,
    args: EmqxClusterArgs,
    fail: (error: unknown) => Error = (error) => error as Error,
): pulumi.Output<ClusterPlan> {
    const { dashboard, licenseKey, ...rest } = args;
    const resolvable = {
        ...rest,
        // The engine hands other languages' `dashboard` over as one secret Output when the password is secret;
        // the user name is not secret.
        dashboard:
            pulumi.Output.isInstance(dashboard) || dashboard instanceof Promise
                ? {
                      username: pulumi.unsecret(pulumi.output(dashboard).apply((d) => d?.username)),
                      service: pulumi.unsecret(pulumi.output(dashboard).apply((d) => d?.service)),
                  }
                : {
                      username: (dashboard as DashboardArgs | undefined)?.username,
                      service: (dashboard as DashboardArgs | undefined)?.service,
                  },
        hasLicenseKey: licenseKey !== undefined,
    };
    if (!isDeferred(resolvable)) {
        return pulumi.output(planCluster(componentName, resolvable as ResolvedArgs));
    }
    return pulumi.output(resolvable).apply((resolved) => {
        try {
            return planCluster(componentName, resolved as ResolvedArgs);
        } catch (error) {
            throw fail(error);
        }
    });
}
