/**
 * Stacks of this project's program driven through the Automation API (inline programs, see cluster.ts), and what
 * the suites read back from the cluster: the StatefulSet's readiness and the data claims.
 */
import * as fs from "fs";
import { ConfigMap, LocalWorkspace, OpMap, Stack } from "@pulumi/pulumi/automation";
import { runProgram, stackConfig } from "../stack-config";
import { E2eCluster, pulumiCommand, pulumiEnv } from "./cluster";

export const PROJECT = "emqx-cluster";

export function asConfigMap(config: Record<string, string>): ConfigMap {
    return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, { value }]));
}

/** The operations of a preview or update summary other than `same`, with their counts. */
export function changes(summary: OpMap | undefined): Record<string, number> {
    return Object.fromEntries(Object.entries(summary ?? {}).filter(([op, n]) => op !== "same" && (n ?? 0) > 0)) as Record<string, number>;
}

/**
 * Creates or selects stack `name` of this project's program (index.ts through `runProgram`) in the file backend
 * `backendDir`, configured as `stacks/Pulumi.<base>.yaml` with `overrides`.
 */
export async function openProgramStack(
    cluster: E2eCluster,
    backendDir: string,
    name: string,
    overrides: Record<string, unknown>,
    base = "dev",
): Promise<Stack> {
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: name, projectName: PROJECT, program: async () => runProgram() },
        { envVars: pulumiEnv(cluster, backendDir), pulumiCommand: await pulumiCommand(cluster) },
    );
    await stack.setAllConfig(asConfigMap(stackConfig(base, overrides)));
    return stack;
}

export function kubectlJson(cluster: E2eCluster, ...args: string[]): any {
    return JSON.parse(cluster.kubectl(...args, "-o", "json"));
}

/** A data claim as the suites compare it: the same name, UID and volume means the same data. */
export interface DataClaim {
    name: string;
    uid: string;
    volume: string;
}

/** The data claims of cluster `instance` in `namespace`, by name. */
export function dataClaims(cluster: E2eCluster, namespace: string, instance: string): DataClaim[] {
    return kubectlJson(cluster, "-n", namespace, "get", "pvc", "-l", `app.kubernetes.io/instance=${instance}`)
        .items.map((c: any) => ({ name: c.metadata.name, uid: c.metadata.uid, volume: c.spec.volumeName }))
        .sort((a: DataClaim, b: DataClaim) => a.name.localeCompare(b.name));
}

/**
 * Waits until StatefulSet `name` has `replicas` pods, all Ready on its current revision, and returns its pods
 * (sorted by name). Throws with the last seen status after `timeoutMs`.
 */
export async function waitReady(cluster: E2eCluster, namespace: string, name: string, replicas: number, timeoutMs = 60_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    let seen = "";
    for (;;) {
        const sts = kubectlJson(cluster, "-n", namespace, "get", "statefulset", name);
        const pods = kubectlJson(cluster, "-n", namespace, "get", "pods", "-l", `app.kubernetes.io/instance=${sts.metadata.labels["app.kubernetes.io/instance"]}`)
            .items.filter((p: any) => p.metadata.ownerReferences?.some((o: any) => o.kind === "StatefulSet" && o.uid === sts.metadata.uid))
            .sort((a: any, b: any) => a.metadata.name.localeCompare(b.metadata.name));
        const ready = pods.filter(
            (p: any) =>
                !p.metadata.deletionTimestamp &&
                p.metadata.labels["controller-revision-hash"] === sts.status.updateRevision &&
                p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
        );
        const status = sts.status ?? {};
        if (
            sts.spec.replicas === replicas &&
            status.observedGeneration === sts.metadata.generation &&
            status.readyReplicas === replicas &&
            status.currentRevision === status.updateRevision &&
            pods.length === replicas &&
            ready.length === replicas
        ) {
            return pods;
        }
        seen = `spec.replicas ${sts.spec.replicas}, status ${JSON.stringify(status)}, pods ${pods.length} (${ready.length} ready on the update revision)`;
        if (Date.now() > deadline) {
            throw new Error(`StatefulSet ${namespace}/${name} not Ready with ${replicas} pods: ${seen}\n${podsAndNodes(cluster, pods)}`);
        }
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** Each pod's revision, node and conditions, and each node's Ready condition: what a timed-out wait reports. */
function podsAndNodes(cluster: E2eCluster, pods: any[]): string {
    const conditions = (object: any) =>
        (object.status?.conditions ?? []).map((c: any) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ""}`).join(", ");
    const nodes = kubectlJson(cluster, "get", "nodes").items;
    return [
        ...pods.map(
            (p: any) =>
                `  pod ${p.metadata.name}: revision ${p.metadata.labels["controller-revision-hash"]}, node ${p.spec.nodeName ?? "none"}, ` +
                `phase ${p.status.phase}${p.metadata.deletionTimestamp ? ", being deleted" : ""}; ${conditions(p)}`,
        ),
        ...nodes.map((n: any) => `  node ${n.metadata.name}: ${conditions(n).split(", ").filter((c: string) => c.startsWith("Ready=")).join("")}`),
    ].join("\n");
}

/** Removes a suite's temporary folder unless E2E_KEEP_STATE is set. */
export function removeUnlessKept(dir: string | undefined): void {
    if (dir && !process.env.E2E_KEEP_STATE) fs.rmSync(dir, { recursive: true, force: true });
}
