import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan } from "../plan";
import { namedMetadata } from "./metadata";

/**
 * Voluntary disruptions (drains, evictions) take at most one node at a time by default, so the cluster keeps a
 * majority; `placement.disruptionBudget` sets another bound.
 */
export function buildPodDisruptionBudget(plan: ClusterPlan): k8s.policy.v1.PodDisruptionBudgetArgs {
    return {
        metadata: namedMetadata(plan, plan.names.podDisruptionBudget),
        spec: { ...plan.placement.disruptionBudget, selector: { matchLabels: { ...plan.selectorLabels } } },
    };
}
