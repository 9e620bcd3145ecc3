import * as k8s from "@pulumi/kubernetes";
import { SERVICE_LABEL } from "../names";
import { ClusterPlan } from "../plan";
import { namedMetadata } from "./metadata";

/** The Prometheus Operator's API group and version of ServiceMonitor and PodMonitor. */
export const MONITORING_API_VERSION = "monitoring.coreos.com/v1";

/**
 * A ServiceMonitor's or PodMonitor's metadata and spec. Its `apiVersion` (`MONITORING_API_VERSION`) and `kind` (the
 * planned kind) are given to `k8s.apiextensions.CustomResource` as plain values: they make the resource's type.
 */
export interface MonitorObject {
    readonly metadata: k8s.types.input.meta.v1.ObjectMeta;
    readonly spec: Record<string, unknown>;
}

/**
 * The ServiceMonitor (over the dashboard Service, which carries the metrics port and no other Service does under
 * its label) or PodMonitor (over the pods' named container port) of `monitoring`. Call only when it is planned.
 */
export function buildMonitor(plan: ClusterPlan): MonitorObject {
    const monitoring = plan.monitoring;
    if (!monitoring) {
        throw new Error("buildMonitor: monitoring is not planned");
    }
    const metadata = namedMetadata(plan, plan.names.monitor);
    const endpoint = { ...monitoring.endpoint, scheme: "http" };
    return {
        metadata: { ...metadata, labels: { ...monitoring.labels } },
        spec:
            monitoring.kind === "ServiceMonitor"
                ? { selector: { matchLabels: { ...plan.selectorLabels, [SERVICE_LABEL]: "dashboard" } }, endpoints: [endpoint] }
                : { selector: { matchLabels: { ...plan.selectorLabels } }, podMetricsEndpoints: [endpoint] },
    };
}
