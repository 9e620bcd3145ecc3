/**
 * What runs next to EMQX (`containers`): extra environment and volume mounts of the EMQX container, extra volumes,
 * init containers and sidecars. The args types, their checks and their piece of the plan live here;
 * `objects/extras.ts` adds them to the pod template. Nothing here may replace what the component owns.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isPlainObject, podSchemaProblems } from "./validation";

type EnvVar = k8s.types.input.core.v1.EnvVar;
type EnvFromSource = k8s.types.input.core.v1.EnvFromSource;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;
type Volume = k8s.types.input.core.v1.Volume;
type ResourceRequirements = k8s.types.input.core.v1.ResourceRequirements;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type ContainerPort = k8s.types.input.core.v1.ContainerPort;

/** An init container or sidecar: the Kubernetes Container fields the component passes through. */
export interface ExtraContainerArgs {
    /** Container name, unique in the pod; `emqx` is the component's. Required. */
    name: pulumi.Input<string>;
    /** Image, e.g. `busybox:1.36`. Required. */
    image: pulumi.Input<string>;
    /** Entrypoint array. Default: the image's. */
    command?: pulumi.Input<pulumi.Input<string>[]>;
    /** Arguments to the entrypoint. Default: the image's. */
    args?: pulumi.Input<pulumi.Input<string>[]>;
    /** Environment variables (values or references, e.g. `secretKeyRef`). */
    env?: pulumi.Input<pulumi.Input<EnvVar>[]>;
    /** Environment from whole ConfigMaps or Secrets. */
    envFrom?: pulumi.Input<pulumi.Input<EnvFromSource>[]>;
    /** Mounts of the pod's volumes: the component's (`data`, `log`) or those of `containers.volumes`. */
    volumeMounts?: pulumi.Input<pulumi.Input<VolumeMount>[]>;
    /** CPU and memory requests and limits. */
    resources?: pulumi.Input<ResourceRequirements>;
    /** Security context, e.g. `{ privileged: true }` for an init container that tunes sysctls. */
    securityContext?: pulumi.Input<SecurityContext>;
    /** Ports the container listens on (informational; the Services expose EMQX's only). */
    ports?: pulumi.Input<pulumi.Input<ContainerPort>[]>;
    /** Working directory. Default: the image's. */
    workingDir?: pulumi.Input<string>;
    /** `IfNotPresent`, `Always` or `Never`. Default: Kubernetes' (by the image tag). */
    imagePullPolicy?: pulumi.Input<string>;
}

/** Additions to the pods. Each list is empty by default. */
export interface ContainersArgs {
    /**
     * Extra environment of the EMQX container, e.g. `{ name: "EMQX_AUTHENTICATION__1__PASSWORD_HASH_ALGORITHM__NAME",
     * value: "sha256" }` or a `valueFrom.secretKeyRef`. Variables the component sets, and EMQX settings it owns
     * (the same as in `emqxConfig`), are refused.
     */
    env?: pulumi.Input<pulumi.Input<EnvVar>[]>;
    /** Extra mounts of the EMQX container, of `volumes`. The data and log paths and volumes are the component's. */
    volumeMounts?: pulumi.Input<pulumi.Input<VolumeMount>[]>;
    /** Extra volumes of the pod (ConfigMaps, Secrets, emptyDirs, ...). `data`, `log` and `etcd-tls` are the component's. */
    volumes?: pulumi.Input<pulumi.Input<Volume>[]>;
    /** Containers that run to completion before EMQX starts, e.g. sysctl tuning. */
    initContainers?: pulumi.Input<pulumi.Input<ExtraContainerArgs>[]>;
    /** Containers that run next to EMQX in every pod, e.g. a log shipper reading the `log` volume. */
    sidecars?: pulumi.Input<pulumi.Input<ExtraContainerArgs>[]>;
}

type Containers = pulumi.Unwrap<ContainersArgs>;

/** The plan's piece: what the builders add to the pod template. */
export interface ExtrasPlan {
    readonly env: pulumi.Unwrap<EnvVar>[];
    readonly volumeMounts: pulumi.Unwrap<VolumeMount>[];
    readonly volumes: pulumi.Unwrap<Volume>[];
    readonly initContainers: pulumi.Unwrap<ExtraContainerArgs>[];
    readonly sidecars: pulumi.Unwrap<ExtraContainerArgs>[];
}

/** What the component owns in the pod, which `containers` may not replace. */
export interface OwnedPodParts {
    /** Names of the variables the component sets on the EMQX container (its env and its ConfigMap). */
    readonly envNames: ReadonlySet<string>;
    /** The component's volumes by name, with the EMQX container's mount path of each. */
    readonly volumes: Readonly<Record<string, string>>;
    /** The EMQX container's name. */
    readonly containerName: string;
    /** Why an EMQX setting (a configuration path) is the component's, or undefined when it is not. */
    readonly managedSetting: (path: string) => string | undefined;
}

const LISTS = ["env", "volumeMounts", "volumes", "initContainers", "sidecars"] as const;

/** `EMQX_MQTT__MAX_PACKET_SIZE` -> `mqtt.max_packet_size`: the setting EMQX reads from a variable. */
function settingPath(envName: string): string | undefined {
    return envName.startsWith("EMQX_") ? envName.slice(5).toLowerCase().replace(/__/g, ".") : undefined;
}

function isUnder(path: string, dir: string): boolean {
    const normal = path.replace(/\/+$/, "");
    return normal === dir || normal.startsWith(`${dir}/`) || dir.startsWith(`${normal}/`);
}

function envProblems(env: Containers["env"], owned: OwnedPodParts): string[] {
    return (env ?? []).flatMap((variable, i) => {
        const field = `containers.env[${i}]`;
        const name = variable?.name;
        if (typeof name !== "string") {
            return [];
        }
        if (owned.envNames.has(name)) {
            return [`${field}: ${name} is set by the component (node name, cookie, discovery, dashboard or licence); remove it, or use the arg that sets it`];
        }
        const path = settingPath(name);
        const why = path === undefined ? undefined : owned.managedSetting(path);
        return why ? [`${field}: ${name} sets ${path}, which ${why}`] : [];
    });
}

function mountProblems(containers: Containers, owned: OwnedPodParts): string[] {
    const problems: string[] = [];
    const ownedPaths = Object.entries(owned.volumes);
    const userVolumes = new Set((containers.volumes ?? []).map((v) => v?.name));
    (containers.volumes ?? []).forEach((volume, i) => {
        if (typeof volume?.name === "string" && volume.name in owned.volumes) {
            problems.push(`containers.volumes[${i}]: the volume name "${volume.name}" is the component's (mounted at ${owned.volumes[volume.name]}); use another name`);
        }
    });
    (containers.volumeMounts ?? []).forEach((mount, i) => {
        const field = `containers.volumeMounts[${i}]`;
        if (typeof mount?.name === "string" && mount.name in owned.volumes) {
            problems.push(`${field}: the volume "${mount.name}" is already mounted in the EMQX container at ${owned.volumes[mount.name]}`);
        } else if (typeof mount?.name === "string" && !userVolumes.has(mount.name)) {
            problems.push(`${field}: no volume "${mount.name}"; add it to containers.volumes`);
        }
        const clash = typeof mount?.mountPath === "string" ? ownedPaths.find(([, dir]) => isUnder(mount.mountPath as string, dir)) : undefined;
        if (clash) {
            problems.push(`${field}: ${mount.mountPath} overlaps the component's ${clash[0]} volume at ${clash[1]}, which would hide or replace it; mount elsewhere`);
        }
    });
    for (const list of ["initContainers", "sidecars"] as const) {
        (containers[list] ?? []).forEach((container, i) => {
            (container?.volumeMounts ?? []).forEach((mount, j) => {
                if (typeof mount?.name === "string" && !userVolumes.has(mount.name) && !(mount.name in owned.volumes)) {
                    problems.push(`containers.${list}[${i}].volumeMounts[${j}]: no volume "${mount.name}"; add it to containers.volumes`);
                }
            });
        });
    }
    return problems;
}

function containerNameProblems(containers: Containers, owned: OwnedPodParts): string[] {
    const problems: string[] = [];
    const seen = new Map<string, string>();
    for (const list of ["initContainers", "sidecars"] as const) {
        (containers[list] ?? []).forEach((container, i) => {
            const field = `containers.${list}[${i}].name`;
            const name = container?.name;
            if (name === owned.containerName) {
                problems.push(`${field}: "${name}" is the EMQX container's name; use another`);
            } else if (typeof name === "string" && seen.has(name)) {
                problems.push(`${field}: "${name}" is already the name of ${seen.get(name)}; container names are unique in a pod`);
            }
            if (typeof name === "string") {
                seen.set(name, field.replace(/\.name$/, ""));
            }
            if (typeof container?.image !== "string" || container.image === "") {
                problems.push(`containers.${list}[${i}].image: required; give the container's image, e.g. busybox:1.36`);
            }
        });
    }
    (containers.volumes ?? []).forEach((volume, i) => {
        const earlier = (containers.volumes ?? []).findIndex((v) => v?.name === volume?.name);
        if (earlier < i) {
            problems.push(`containers.volumes[${i}]: "${volume?.name}" is already the name of containers.volumes[${earlier}]`);
        }
    });
    return problems;
}

/** `/spec/containers/1/image` -> `containers.sidecars[0].image`, and so on. */
function argPath(instancePath: string): string {
    const [, , list, index, ...rest] = instancePath.split("/");
    const tail = rest.map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join("");
    if (list === "containers") {
        // Container 0 is EMQX: its env and mounts are containers.env and containers.volumeMounts.
        if (index === "0") {
            const [field, ...more] = rest;
            return `containers.${field}` + more.map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join("");
        }
        return `containers.sidecars[${Number(index) - 1}]${tail}`;
    }
    return `containers.${list}${index === undefined ? "" : `[${index}]`}${tail}`;
}

/** What is wrong with `containers` (known values), as `field: message`. */
export function extrasProblems(containers: Containers | undefined, owned: OwnedPodParts): string[] {
    if (containers === undefined) {
        return [];
    }
    if (!isPlainObject(containers)) {
        return [`containers: must be an object (env, volumeMounts, volumes, initContainers, sidecars)`];
    }
    const notLists = LISTS.filter((list) => containers[list] !== undefined && !Array.isArray(containers[list]));
    if (notLists.length > 0) {
        return notLists.map((list) => `containers.${list}: must be a list`);
    }
    const schema = podSchemaProblems(
        {
            spec: {
                containers: [
                    { name: owned.containerName, env: containers.env, volumeMounts: containers.volumeMounts },
                    ...(containers.sidecars ?? []),
                ],
                initContainers: containers.initContainers,
                volumes: containers.volumes,
            },
        },
        argPath,
    );
    return [
        ...schema,
        ...envProblems(containers.env, owned),
        ...mountProblems(containers, owned),
        ...containerNameProblems(containers, owned),
    ];
}

export function planExtras(containers: Containers | undefined): ExtrasPlan {
    return {
        env: containers?.env ?? [],
        volumeMounts: containers?.volumeMounts ?? [],
        volumes: containers?.volumes ?? [],
        initContainers: containers?.initContainers ?? [],
        sidecars: containers?.sidecars ?? [],
    };
}
