import * as k8s from "@pulumi/kubernetes";
import { ClusterPlan } from "../plan";

type PodSpec = k8s.types.input.core.v1.PodSpec;
type Container = k8s.types.input.core.v1.Container;

/** The EMQX container with the extra env and mounts added after the component's own. */
export function withExtras(
    plan: ClusterPlan,
    container: Container & { env: k8s.types.input.core.v1.EnvVar[]; volumeMounts: k8s.types.input.core.v1.VolumeMount[] },
): Container {
    return {
        ...container,
        env: [...container.env, ...plan.extras.env],
        volumeMounts: [...container.volumeMounts, ...plan.extras.volumeMounts],
    };
}

/** The pod's containers, volumes and init containers with the extras added; no init containers stay unset. */
export function podExtras(
    plan: ClusterPlan,
    emqx: Container,
    volumes: k8s.types.input.core.v1.Volume[],
): Pick<PodSpec, "containers" | "volumes" | "initContainers"> {
    const { initContainers, sidecars } = plan.extras;
    return {
        ...(initContainers.length > 0 ? { initContainers } : {}),
        containers: [emqx, ...sidecars],
        volumes: [...volumes, ...plan.extras.volumes],
    };
}
