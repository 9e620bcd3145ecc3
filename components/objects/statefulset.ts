import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DATA_DIR, EMQX_CONTAINER, LOG_DIR, POD_ENV_NAMES } from "../names";
import { ClusterPlan, ETCD_TLS_DIR, SECRET_KEYS, settingEnvName } from "../plan";
import { CLUSTER_PORTS } from "../ports";
import { namedMetadata } from "./metadata";
import { containerSecurityContext, podSecurityContext } from "./security";
import { podPlacement, podTemplateMetadata, probeTiming } from "./placement";
import { podExtras, withExtras } from "./extras";
import { TLS_CONTENT_ANNOTATION, tlsVolume, tlsVolumeMount } from "../tls";

type Container = k8s.types.input.core.v1.Container;
type EnvVar = k8s.types.input.core.v1.EnvVar;
type Probe = k8s.types.input.core.v1.Probe;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/** Names of the objects the pods read their configuration from; auto-named, so they change with their data. */
export interface PodInputs {
    readonly configMapName: pulumi.Input<string>;
    readonly secretName: pulumi.Input<string>;
}

function secretEnv(name: string, secretName: pulumi.Input<string>, key: string): EnvVar {
    return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

/** The environment that completes the ConfigMap: per-pod host name and the secret settings. */
export function buildPodEnv(plan: ClusterPlan, inputs: PodInputs): EnvVar[] {
    const env: EnvVar[] = [
        // Declared before EMQX_HOST, which refers to it.
        { name: POD_ENV_NAMES.podName, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        // Node name = EMQX_NAME@EMQX_HOST: the pod's stable DNS name under the headless Service.
        { name: POD_ENV_NAMES.host, value: `$(${POD_ENV_NAMES.podName}).${plan.names.headlessServiceFqdn}` },
        // The cookie comes from the Secret that keeps it for the life of the cluster; it never rolls the pods.
        secretEnv(settingEnvName("node.cookie"), plan.names.credentialsSecret, SECRET_KEYS.cookie),
        secretEnv(settingEnvName(plan.version.dashboardPasswordPath), inputs.secretName, SECRET_KEYS.dashboardPassword),
    ];
    if (plan.hasLicenseKey && plan.version.licenseKeyPath) {
        env.push(secretEnv(settingEnvName(plan.version.licenseKeyPath), inputs.secretName, SECRET_KEYS.licenseKey));
    }
    // Settings whose values are secrets, read by the kubelet from their Secrets: never in the ConfigMap or the state.
    for (const { path, secretName, key } of plan.auth.secretSettings) {
        env.push(secretEnv(settingEnvName(path), secretName, key));
    }
    return env;
}

function healthProbe(plan: ClusterPlan, timing: Omit<Probe, "httpGet">): Probe {
    return { httpGet: { path: plan.version.healthPath, port: plan.version.healthPort }, ...timing };
}

function buildContainer(plan: ClusterPlan, inputs: PodInputs): Container & { env: EnvVar[]; volumeMounts: VolumeMount[] } {
    const ports = [
        ...plan.listeners.map((l) => ({ name: l.name, containerPort: l.port, protocol: "TCP" })),
        { name: "ekka", containerPort: CLUSTER_PORTS.ekka, protocol: "TCP" },
        { name: "genrpc", containerPort: CLUSTER_PORTS.genrpc, protocol: "TCP" },
    ];
    return {
        name: EMQX_CONTAINER,
        image: plan.image,
        imagePullPolicy: plan.placement.imagePullPolicy,
        ports,
        env: buildPodEnv(plan, inputs),
        envFrom: [{ configMapRef: { name: inputs.configMapName } }],
        resources: plan.resources,
        // Boot may take a while on first start (schema migration, joining); liveness waits for it.
        startupProbe: healthProbe(plan, probeTiming(plan, "startup")),
        // Ready means the node serves; no release offers a cheap local check that it joined the cluster (emqx#14439,
        // README "Scale-down and membership").
        readinessProbe: healthProbe(plan, probeTiming(plan, "readiness")),
        livenessProbe: healthProbe(plan, probeTiming(plan, "liveness")),
        securityContext: containerSecurityContext(plan.version),
        volumeMounts: [
            { name: plan.persistence.claimTemplateName, mountPath: DATA_DIR },
            { name: "log", mountPath: LOG_DIR },
            ...(plan.etcdTlsSecretName ? [{ name: "etcd-tls", mountPath: ETCD_TLS_DIR, readOnly: true }] : []),
            ...(plan.tls ? [tlsVolumeMount()] : []),
            ...plan.auth.mounts,
            ...Object.entries(writablePaths(plan)).map(([name, mountPath]) => ({ name, mountPath })),
        ],
    };
}

/** The emptyDirs a read-only root filesystem needs besides data and log, by volume name. */
function writablePaths(plan: ClusterPlan): Readonly<Record<string, string>> {
    return plan.version.readOnlyRoot?.writablePaths ?? {};
}

function buildVolumes(plan: ClusterPlan): Volume[] {
    return [
        { name: "log", emptyDir: {} },
        ...Object.keys(writablePaths(plan)).map((name) => ({ name, emptyDir: {} })),
        ...(plan.persistence.enabled ? [] : [{ name: plan.persistence.claimTemplateName, emptyDir: {} }]),
        ...(plan.etcdTlsSecretName
            ? [{ name: "etcd-tls", secret: { secretName: plan.etcdTlsSecretName, defaultMode: 0o440 } }]
            : []),
        ...(plan.tls ? [tlsVolume(plan.tls)] : []),
        ...plan.auth.volumes,
    ];
}

/** `tls.contentHash` as a pod template annotation: a new certificate content rolls the pods. */
function withTlsContent(plan: ClusterPlan, metadata: k8s.types.input.meta.v1.ObjectMeta): k8s.types.input.meta.v1.ObjectMeta {
    const contentHash = plan.tls?.contentHash;
    return contentHash === undefined
        ? metadata
        : { ...metadata, annotations: { ...(metadata.annotations as Record<string, string>), [TLS_CONTENT_ANNOTATION]: contentHash } };
}

export function buildStatefulSet(plan: ClusterPlan, inputs: PodInputs): k8s.apps.v1.StatefulSetArgs {
    const { persistence } = plan;
    return {
        metadata: namedMetadata(plan, plan.names.statefulSet),
        spec: {
            replicas: plan.replicas,
            ...(plan.placement.minReadySeconds !== undefined ? { minReadySeconds: plan.placement.minReadySeconds } : {}),
            serviceName: plan.names.headlessService,
            // OrderedReady can deadlock a restart when pod 0 waits for peers that are not started (emqx#3993).
            podManagementPolicy: "Parallel",
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
            selector: { matchLabels: { ...plan.selectorLabels } },
            persistentVolumeClaimRetentionPolicy: {
                whenDeleted: "Retain",
                whenScaled: persistence.retentionOnScaleDown,
            },
            template: {
                metadata: withTlsContent(plan, podTemplateMetadata(plan)),
                spec: {
                    serviceAccountName: plan.names.serviceAccount,
                    automountServiceAccountToken: plan.discovery.needsApiToken,
                    securityContext: podSecurityContext(),
                    ...podPlacement(plan),
                    ...podExtras(plan, withExtras(plan, buildContainer(plan, inputs)), buildVolumes(plan)),
                },
            },
            volumeClaimTemplates: persistence.enabled
                ? [
                      {
                          metadata: { name: persistence.claimTemplateName, labels: { ...plan.selectorLabels } },
                          spec: {
                              accessModes: ["ReadWriteOnce"],
                              // Unset: the default class; "" is Kubernetes' "no class, no dynamic provisioning".
                              ...(persistence.storageClass !== undefined ? { storageClassName: persistence.storageClass } : {}),
                              resources: { requests: { storage: persistence.size } },
                          },
                      },
                  ]
                : [],
        },
    };
}
