import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan } from "../plan";
import { ProbeKind } from "../placement";

type PodSpec = k8s.types.input.core.v1.PodSpec;
type Probe = k8s.types.input.core.v1.Probe;

/** The pod spec fields of `placement` and `pod`: scheduling, pull secrets, the grace period. */
export function podPlacement(
    plan: ClusterPlan,
): Pick<PodSpec, "nodeSelector" | "tolerations" | "affinity" | "topologySpreadConstraints" | "priorityClassName" | "imagePullSecrets" | "terminationGracePeriodSeconds"> {
    const p = plan.placement;
    return {
        terminationGracePeriodSeconds: p.terminationGracePeriodSeconds,
        affinity: p.affinity,
        topologySpreadConstraints: p.topologySpreadConstraints,
        // Unset fields stay out of the spec, so that a stack that sets none of them keeps its pod template.
        ...(p.nodeSelector ? { nodeSelector: p.nodeSelector } : {}),
        ...(p.tolerations ? { tolerations: p.tolerations } : {}),
        ...(p.priorityClassName ? { priorityClassName: p.priorityClassName } : {}),
        ...(p.imagePullSecrets ? { imagePullSecrets: p.imagePullSecrets } : {}),
    };
}

/** The pod template's metadata: the component's labels and scrape annotations, with the user's. */
export function podTemplateMetadata(plan: ClusterPlan): k8s.types.input.meta.v1.ObjectMeta {
    return { labels: { ...plan.placement.podLabels }, annotations: { ...plan.placement.podAnnotations } };
}

/** A probe's timings, as planned. */
export function probeTiming(plan: ClusterPlan, kind: ProbeKind): Omit<Probe, "httpGet"> {
    return { ...plan.placement.probes[kind] };
}
