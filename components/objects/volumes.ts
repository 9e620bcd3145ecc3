import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan } from "../plan";

/** The name Kubernetes gives pod `ordinal`'s data claim: `<template>-<statefulset>-<ordinal>`. */
export function dataClaimName(plan: ClusterPlan, ordinal: number): string {
    return `${plan.persistence.claimTemplateName}-${plan.names.statefulSet}-${ordinal}`;
}

/**
 * A StatefulSet cannot change the size of claims it already made: this patch sets each pod's claim to the
 * planned size, so a larger `storageSize` expands the existing volumes in place (the StorageClass must allow
 * volume expansion). Forced, because the StatefulSet controller created the claim and owns the field. Not awaited:
 * the patches follow the StatefulSet's rollout, by which the claims are bound, and the provider's claim await
 * (a watch for the Bound phase and a read of the StorageClass, per claim) would only add requests that grow with
 * the replicas; it does not wait for an expansion to finish either.
 */
export function buildDataClaimResize(plan: ClusterPlan, ordinal: number): k8s.core.v1.PersistentVolumeClaimPatchArgs {
    return {
        metadata: {
            name: dataClaimName(plan, ordinal),
            namespace: plan.namespace,
            annotations: { "pulumi.com/patchForce": "true", "pulumi.com/skipAwait": "true" },
        },
        spec: { resources: { requests: { storage: plan.persistence.size } } },
    };
}
