/**
 * Where the pods run and what they carry besides EMQX's own settings: scheduling (`placement`), pod metadata, pull
 * settings, rollout timings and probe timings (`pod`). The args types, their checks and their piece of the plan live
 * here; `objects/placement.ts` turns the plan into the pod template, the ServiceAccount and the PodDisruptionBudget.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isDns1123Subdomain, isPlainObject, labelKeyProblem, labelValueProblem, podSchemaProblems } from "./validation";

type Toleration = k8s.types.input.core.v1.Toleration;
type Affinity = k8s.types.input.core.v1.Affinity;
type TopologySpreadConstraint = k8s.types.input.core.v1.TopologySpreadConstraint;

/** How many nodes a voluntary disruption (a drain, an eviction) may take at once. Give exactly one of the two. */
export interface DisruptionBudgetArgs {
    /** Pods that may be unavailable at once, 1 or more. Default 1 (when `minAvailable` is not given). */
    maxUnavailable?: pulumi.Input<number>;
    /** Pods that must stay available, 1 to replicas - 1 (replicas or more would block every drain). */
    minAvailable?: pulumi.Input<number>;
}

/** Where the pods are scheduled. Each field is the pod spec field of the same name (Kubernetes' meaning). */
export interface PlacementArgs {
    /** Node labels a node must have to run a pod, e.g. `{ "node.kubernetes.io/instance-type": "m5.large" }`. Default none. */
    nodeSelector?: pulumi.Input<{ [label: string]: pulumi.Input<string> }>;
    /** Taints the pods tolerate, e.g. `[{ key: "dedicated", value: "mqtt", effect: "NoSchedule" }]`. Default none. */
    tolerations?: pulumi.Input<pulumi.Input<Toleration>[]>;
    /**
     * The pods' affinity. Given, it replaces the default: a soft anti-affinity (weight 100) that prefers one pod per
     * host (`kubernetes.io/hostname`) among this volume generation's pods.
     */
    affinity?: pulumi.Input<Affinity>;
    /**
     * Given, replaces the default: a soft spread (maxSkew 1, `ScheduleAnyway`) across zones
     * (`topology.kubernetes.io/zone`) and hosts (`kubernetes.io/hostname`), so that a zone loss does not take the
     * majority where the cluster has zones. A constraint without `labelSelector` selects this volume generation's
     * pods. `[]` turns spreading off.
     */
    topologySpreadConstraints?: pulumi.Input<pulumi.Input<TopologySpreadConstraint>[]>;
    /** A PriorityClass of the cluster, e.g. `high-priority`. Default none (the cluster's default priority). */
    priorityClassName?: pulumi.Input<string>;
    /** The PodDisruptionBudget (created for more than one node). Default `{ maxUnavailable: 1 }`. */
    disruptionBudget?: pulumi.Input<DisruptionBudgetArgs>;
}

/** Timings of one probe, in seconds and counts (Kubernetes' Probe fields). Unset fields keep the defaults. */
export interface ProbeTimingArgs {
    /** Seconds after the container starts before the first probe. Default 0. */
    initialDelaySeconds?: pulumi.Input<number>;
    /** Seconds between probes. Defaults: startup 5, readiness 5, liveness 15. */
    periodSeconds?: pulumi.Input<number>;
    /** Seconds a probe may take. Default 5. */
    timeoutSeconds?: pulumi.Input<number>;
    /** Failed probes in a row that count as a failure. Defaults: startup 60, readiness 3, liveness 4. */
    failureThreshold?: pulumi.Input<number>;
    /** Successful probes in a row that count as a success. Default 1; Kubernetes allows only 1 for startup and liveness. */
    successThreshold?: pulumi.Input<number>;
}

/** Timings of the three probes on the version's health endpoint. */
export interface ProbesArgs {
    /** Until it passes, the other probes wait: covers first boots and data migrations. */
    startup?: pulumi.Input<ProbeTimingArgs>;
    /** A failing pod is taken out of the Services' endpoints. */
    readiness?: pulumi.Input<ProbeTimingArgs>;
    /** A failing container is restarted. */
    liveness?: pulumi.Input<ProbeTimingArgs>;
}

/** What the pods carry and how they roll. */
export interface PodArgs {
    /**
     * Extra labels of the pods (e.g. a service mesh's). The labels the component sets (`app.kubernetes.io/*`, the
     * volume generation) are refused. Default none.
     */
    labels?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /**
     * Extra annotations of the pods (secret injectors, service meshes). The Prometheus scrape annotations
     * (`prometheus.io/*`) the component sets for the version's metrics endpoint are refused. Default none.
     */
    annotations?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /**
     * Annotations of the pods' ServiceAccount, e.g. a cloud workload identity
     * (`eks.amazonaws.com/role-arn`, `iam.gke.io/gcp-service-account`). Default none.
     */
    serviceAccountAnnotations?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /** Names of `kubernetes.io/dockerconfigjson` Secrets in the namespace to pull the image with. Default none. */
    imagePullSecrets?: pulumi.Input<pulumi.Input<string>[]>;
    /** `IfNotPresent` (default), `Always` or `Never`. */
    imagePullPolicy?: pulumi.Input<string>;
    /** Seconds a stopping pod gets between SIGTERM and SIGKILL. Default 60. */
    terminationGracePeriodSeconds?: pulumi.Input<number>;
    /** Seconds a new pod must be Ready before a rolling update moves on. Default 0. */
    minReadySeconds?: pulumi.Input<number>;
    /** Timings of the startup, readiness and liveness probes. */
    probes?: pulumi.Input<ProbesArgs>;
}

export type ProbeKind = keyof ProbesArgs;
export type ProbeTiming = pulumi.Unwrap<ProbeTimingArgs>;
const PROBE_TIMINGS = ["initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"] as const;

/** The probe timings the component runs with unless told otherwise. */
export const DEFAULT_PROBE_TIMINGS: Readonly<Record<ProbeKind, ProbeTiming>> = {
    // A first boot may take a while (schema migration, joining); liveness waits for it.
    startup: { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
    readiness: { periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
    liveness: { periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
};

const DEFAULT_TERMINATION_GRACE_SECONDS = 60;
const PULL_POLICIES = ["IfNotPresent", "Always", "Never"];

/** Labels and annotations the component sets on the pods, and why a user may not set them. */
export interface OwnedPodMetadata {
    readonly selectorLabels: Readonly<Record<string, string>>;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
}

/** The plan's piece of this concern: every value the builders put into the pod template, PDB and ServiceAccount. */
export interface PlacementPlan {
    readonly nodeSelector?: Record<string, string>;
    readonly tolerations?: pulumi.Unwrap<Toleration>[];
    readonly affinity: pulumi.Unwrap<Affinity>;
    readonly topologySpreadConstraints: pulumi.Unwrap<TopologySpreadConstraint>[];
    readonly priorityClassName?: string;
    readonly imagePullSecrets?: { name: string }[];
    readonly imagePullPolicy: string;
    readonly podLabels: Record<string, string>;
    readonly podAnnotations: Record<string, string>;
    readonly serviceAccountAnnotations?: Record<string, string>;
    readonly terminationGracePeriodSeconds: number;
    readonly minReadySeconds?: number;
    readonly disruptionBudget: { maxUnavailable: number } | { minAvailable: number };
    readonly probes: Readonly<Record<ProbeKind, ProbeTiming>>;
}

type Placement = pulumi.Unwrap<PlacementArgs>;
type PodOptions = pulumi.Unwrap<PodArgs>;

// Where a pod spec field comes from, for the field names of the OpenAPI validation's errors.
const POD_SPEC_FIELDS: Record<string, string> = {
    nodeSelector: "placement.nodeSelector",
    tolerations: "placement.tolerations",
    affinity: "placement.affinity",
    topologySpreadConstraints: "placement.topologySpreadConstraints",
    priorityClassName: "placement.priorityClassName",
    terminationGracePeriodSeconds: "pod.terminationGracePeriodSeconds",
};

/** `/spec/tolerations/0/effect` -> `placement.tolerations[0].effect`. */
function argPath(instancePath: string): string {
    const [, root, field, ...rest] = instancePath.split("/");
    const base = root === "metadata" ? `pod.${field}` : (POD_SPEC_FIELDS[field] ?? `pod.${field}`);
    return base + rest.map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join("");
}

/** The user's scheduling fields and pod metadata checked against the Kubernetes OpenAPI schema. */
function openApiProblems(placement: Placement, pod: PodOptions): string[] {
    return podSchemaProblems(
        {
            metadata: { labels: pod.labels, annotations: pod.annotations },
            spec: {
                nodeSelector: placement.nodeSelector,
                tolerations: placement.tolerations,
                affinity: placement.affinity,
                topologySpreadConstraints: placement.topologySpreadConstraints,
                priorityClassName: placement.priorityClassName,
                terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
            },
        },
        argPath,
    );
}

function metadataProblems(field: string, entries: Record<string, unknown> | undefined, values: "label" | "annotation"): string[] {
    return Object.entries(entries ?? {}).flatMap(([key, value]) => {
        const problems: string[] = [];
        const keyProblem = labelKeyProblem(key);
        if (keyProblem) {
            problems.push(`${field}["${key}"]: ${keyProblem}`);
        }
        const valueProblem = values === "label" && typeof value === "string" ? labelValueProblem(value) : undefined;
        if (valueProblem) {
            problems.push(`${field}["${key}"]: ${valueProblem}`);
        }
        return problems;
    });
}

function ownedKeyProblems(pod: PodOptions, owned: OwnedPodMetadata): string[] {
    const problems: string[] = [];
    for (const key of Object.keys(pod.labels ?? {})) {
        if (key in owned.selectorLabels) {
            problems.push(
                `pod.labels["${key}"]: is a selector label the component owns: the StatefulSet, the Services and the ` +
                    `PodDisruptionBudget find the pods by it, and a StatefulSet's selector cannot change; remove it`,
            );
        } else if (key in owned.labels) {
            problems.push(`pod.labels["${key}"]: the component sets it on every object it creates; remove it`);
        }
    }
    for (const key of Object.keys(pod.annotations ?? {})) {
        if (key in owned.annotations) {
            problems.push(
                `pod.annotations["${key}"]: the component sets it for the version's metrics endpoint, which ` +
                    `annotation-based Prometheus scrapers read; remove it`,
            );
        }
    }
    return problems;
}

function wholeNumberProblem(field: string, value: unknown, min: number): string[] {
    return value === undefined || (Number.isInteger(value) && (value as number) >= min)
        ? []
        : [`${field}: ${JSON.stringify(value)} must be a whole number, ${min} or more`];
}

function probeProblems(probes: pulumi.Unwrap<ProbesArgs> | undefined): string[] {
    if (probes === undefined) {
        return [];
    }
    if (!isPlainObject(probes)) {
        return [`pod.probes: must be an object with startup, readiness and/or liveness`];
    }
    return Object.entries(probes).flatMap(([kind, timing]) => {
        const field = `pod.probes.${kind}`;
        if (!(kind in DEFAULT_PROBE_TIMINGS)) {
            return [`${field}: unknown probe; use startup, readiness or liveness`];
        }
        if (timing === undefined) {
            return [];
        }
        if (!isPlainObject(timing)) {
            return [`${field}: must be an object of probe timings`];
        }
        const problems = Object.keys(timing)
            .filter((key) => !(PROBE_TIMINGS as readonly string[]).includes(key))
            .map((key) => `${field}.${key}: unknown timing; use ${PROBE_TIMINGS.join(", ")}`);
        problems.push(
            ...wholeNumberProblem(`${field}.initialDelaySeconds`, timing.initialDelaySeconds, 0),
            ...(["periodSeconds", "timeoutSeconds", "failureThreshold", "successThreshold"] as const).flatMap((key) =>
                wholeNumberProblem(`${field}.${key}`, timing[key], 1),
            ),
        );
        if (kind !== "readiness" && timing.successThreshold !== undefined && timing.successThreshold !== 1) {
            problems.push(`${field}.successThreshold: Kubernetes allows only 1 for ${kind} probes; remove it`);
        }
        return problems;
    });
}

function disruptionBudgetProblems(budget: pulumi.Unwrap<DisruptionBudgetArgs> | undefined, replicas: number): string[] {
    if (budget === undefined) {
        return [];
    }
    const field = "placement.disruptionBudget";
    const { maxUnavailable, minAvailable } = budget;
    if ((maxUnavailable === undefined) === (minAvailable === undefined)) {
        return [`${field}: give exactly one of maxUnavailable and minAvailable (Kubernetes takes one)`];
    }
    if (replicas < 2) {
        return [`${field}: a single node gets no PodDisruptionBudget; remove it or run more than one replica`];
    }
    const problems = [
        ...wholeNumberProblem(`${field}.maxUnavailable`, maxUnavailable, 1),
        ...wholeNumberProblem(`${field}.minAvailable`, minAvailable, 1),
    ];
    if (problems.length === 0 && minAvailable !== undefined && minAvailable >= replicas) {
        problems.push(
            `${field}.minAvailable: ${minAvailable} with ${replicas} replicas lets no pod be evicted, so every node ` +
                `drain blocks; use at most ${replicas - 1}`,
        );
    }
    return problems;
}

/** What is wrong with `placement` and `pod` (known values), as `field: message`. */
export function placementProblems(
    placement: Placement | undefined,
    pod: PodOptions | undefined,
    context: { readonly replicas: number; readonly owned: OwnedPodMetadata },
): string[] {
    if (placement !== undefined && !isPlainObject(placement)) {
        return [`placement: must be an object (nodeSelector, tolerations, affinity, ...)`];
    }
    if (pod !== undefined && !isPlainObject(pod)) {
        return [`pod: must be an object (labels, annotations, imagePullSecrets, ...)`];
    }
    const p = placement ?? {};
    const o = pod ?? {};
    const problems = openApiProblems(p, o);
    problems.push(
        ...metadataProblems("placement.nodeSelector", p.nodeSelector, "label"),
        ...metadataProblems("pod.labels", o.labels, "label"),
        ...metadataProblems("pod.annotations", o.annotations, "annotation"),
        ...metadataProblems("pod.serviceAccountAnnotations", o.serviceAccountAnnotations, "annotation"),
        ...ownedKeyProblems(o, context.owned),
        ...disruptionBudgetProblems(p.disruptionBudget, context.replicas),
        ...probeProblems(o.probes),
        ...wholeNumberProblem("pod.minReadySeconds", o.minReadySeconds, 0),
        ...wholeNumberProblem("pod.terminationGracePeriodSeconds", o.terminationGracePeriodSeconds, 0),
    );
    if (p.priorityClassName !== undefined && !isDns1123Subdomain(p.priorityClassName)) {
        problems.push(`placement.priorityClassName: "${p.priorityClassName}" is not a valid PriorityClass name`);
    }
    (o.imagePullSecrets ?? []).forEach((name, i) => {
        if (typeof name !== "string" || !isDns1123Subdomain(name)) {
            problems.push(`pod.imagePullSecrets[${i}]: ${JSON.stringify(name)} is not a Secret name; give the names of Secrets in the namespace`);
        }
    });
    if (o.imagePullPolicy !== undefined && !PULL_POLICIES.includes(o.imagePullPolicy)) {
        problems.push(`pod.imagePullPolicy: "${o.imagePullPolicy}" must be one of ${PULL_POLICIES.join(", ")}`);
    }
    return problems;
}

/** Kubernetes' default spread for this cluster's pods: soft, across zones and then hosts. */
function defaultSpread(selectorLabels: Readonly<Record<string, string>>): pulumi.Unwrap<TopologySpreadConstraint>[] {
    return ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { ...selectorLabels } },
    }));
}

/** Decides every value of this concern from checked args: the given ones, or the defaults. */
export function planPlacement(
    placement: Placement | undefined,
    pod: PodOptions | undefined,
    owned: OwnedPodMetadata,
): PlacementPlan {
    const p = placement ?? {};
    const o = pod ?? {};
    const selector = { matchLabels: { ...owned.selectorLabels } };
    const probes = Object.fromEntries(
        (Object.keys(DEFAULT_PROBE_TIMINGS) as ProbeKind[]).map((kind) => [
            kind,
            { ...DEFAULT_PROBE_TIMINGS[kind], ...Object.fromEntries(Object.entries(o.probes?.[kind] ?? {}).filter(([, v]) => v !== undefined)) },
        ]),
    ) as Record<ProbeKind, ProbeTiming>;
    const budget = p.disruptionBudget;
    return {
        nodeSelector: p.nodeSelector,
        tolerations: p.tolerations,
        affinity: p.affinity ?? {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: selector } },
                ],
            },
        },
        topologySpreadConstraints:
            p.topologySpreadConstraints?.map((c) => ({ ...c, labelSelector: c.labelSelector ?? selector })) ??
            defaultSpread(owned.selectorLabels),
        priorityClassName: p.priorityClassName,
        imagePullSecrets: o.imagePullSecrets?.map((name) => ({ name })),
        imagePullPolicy: o.imagePullPolicy ?? "IfNotPresent",
        podLabels: { ...(o.labels ?? {}), ...owned.labels },
        podAnnotations: { ...(o.annotations ?? {}), ...owned.annotations },
        serviceAccountAnnotations: o.serviceAccountAnnotations,
        terminationGracePeriodSeconds: o.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS,
        minReadySeconds: o.minReadySeconds,
        disruptionBudget:
            budget?.minAvailable !== undefined ? { minAvailable: budget.minAvailable } : { maxUnavailable: budget?.maxUnavailable ?? 1 },
        probes,
    };
}
