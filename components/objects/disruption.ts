import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan } from "../plan";
import { namedMetadata } from "./metadata";

/** Voluntary disruptions (drains, rollouts) take at most one node at a time, so the cluster keeps a majority. */
export function buildPodDisruptionBudget(plan: ClusterPlan): k8s.policy.v1.PodDisruptionBudgetArgs {
    return {
        metadata: namedMetadata(plan, plan.names.podDisruptionBudget),
        spec: { maxUnavailable: 1, selector: { matchLabels: { ...plan.selectorLabels } } },
    };
}
