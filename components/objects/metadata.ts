import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan } from "../plan";

type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;

/** Metadata of a named object of the cluster. */
export function namedMetadata(plan: ClusterPlan, name: string): ObjectMeta {
    return { name, namespace: plan.namespace, labels: { ...plan.labels } };
}

/**
 * Metadata without a name: Pulumi names the object `<resource name>-<random suffix>` and replaces it, under a new
 * name, whenever its data changes. The pod template refers to that name, so a change rolls the pods.
 */
export function autoNamedMetadata(plan: ClusterPlan): ObjectMeta {
    return { namespace: plan.namespace, labels: { ...plan.labels } };
}
