/**
 * Placement against a real scheduler: the program's stack with a node selector, a toleration, a hard spread across
 * zones, a priority class and a registry pull Secret converges, and the pods land on the chosen pool, spread over
 * the zones of the KWOK nodes (six nodes, two per zone, `topology.kubernetes.io/zone`).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { E2eCluster, skipWithoutToolchain, startCluster } from "./cluster";
import { kubectlJson, openProgramStack, removeUnlessKept, waitReady } from "./stacks";

const ZONE = "topology.kubernetes.io/zone";
// e2e-node-0 (zone 0) stays outside the pool: a pod there would mean the node selector was ignored.
const POOL_NODES = ["e2e-node-1", "e2e-node-2", "e2e-node-3", "e2e-node-4", "e2e-node-5"];
const TOLERATION = { key: "dedicated", operator: "Equal", value: "mqtt", effect: "NoSchedule" };
const PULL_SECRET = "registry-credentials";

describe("placement on a real scheduler: pool, taints, zones, pull Secret", function () {
    let cluster: E2eCluster | undefined;
    let workDir: string;
    let stack: Stack;
    let zoneOf: Record<string, string> = {};

    before(function () {
        skipWithoutToolchain(this);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-placement-"));
        const live = startCluster(path.join(workDir, "cluster"), { nodes: 6 });
        cluster = live;
        for (const node of POOL_NODES) {
            live.kubectl("label", "node", node, "workload=mqtt");
            live.kubectl("taint", "node", node, "dedicated=mqtt:NoSchedule");
        }
        live.kubectl(
            "create", "secret", "docker-registry", PULL_SECRET,
            "--docker-server=registry.example.com", "--docker-username=pull", "--docker-password=not-a-real-one",
        );
        live.kubectl("create", "priorityclass", "mqtt-critical", "--value=1000000");
        zoneOf = Object.fromEntries(
            kubectlJson(live, "get", "nodes").items.map((n: any) => [n.metadata.name, n.metadata.labels[ZONE]]),
        );
    });

    after(async () => {
        if (stack) await stack.destroy().catch(() => undefined);
        cluster?.down();
        removeUnlessKept(workDir);
    });

    function config(replicas: number): Record<string, unknown> {
        return {
            storageClass: "e2e-local",
            replicas,
            placement: {
                nodeSelector: { workload: "mqtt" },
                tolerations: [TOLERATION],
                topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: "DoNotSchedule" }],
                priorityClassName: "mqtt-critical",
            },
            pod: { imagePullSecrets: [PULL_SECRET] },
        };
    }

    /** Pods per zone, after checking every pod runs on a pool node. */
    function podsPerZone(pods: any[]): Record<string, number> {
        const perZone: Record<string, number> = {};
        for (const pod of pods) {
            assert.ok(POOL_NODES.includes(pod.spec.nodeName), `${pod.metadata.name} runs on ${pod.spec.nodeName}, outside the pool`);
            const zone = zoneOf[pod.spec.nodeName];
            perZone[zone] = (perZone[zone] ?? 0) + 1;
        }
        return perZone;
    }

    it("has zone-labelled nodes: six nodes, two in each of three zones", () => {
        const counts: Record<string, number> = {};
        for (const zone of Object.values(zoneOf)) counts[zone] = (counts[zone] ?? 0) + 1;
        assert.deepStrictEqual(counts, { "e2e-zone-0": 2, "e2e-zone-1": 2, "e2e-zone-2": 2 });
    });

    it("converges, with one pod in each zone, all on the tainted pool, pulled with the Secret", async () => {
        stack = await openProgramStack(cluster as E2eCluster, path.join(workDir, "backend"), "placement", config(3));
        const result = await stack.up();
        assert.strictEqual(result.summary.result, "succeeded");
        const pods = await waitReady(cluster as E2eCluster, "default", "emqx", 3);
        assert.deepStrictEqual(podsPerZone(pods), { "e2e-zone-0": 1, "e2e-zone-1": 1, "e2e-zone-2": 1 });
        for (const pod of pods) {
            assert.deepStrictEqual(pod.spec.imagePullSecrets, [{ name: PULL_SECRET }]);
            assert.ok(pod.spec.tolerations.some((t: any) => t.key === "dedicated" && t.effect === "NoSchedule"));
            assert.strictEqual(pod.spec.priorityClassName, "mqtt-critical");
            assert.strictEqual(pod.spec.priority, 1000000, "the API server resolved the priority class");
        }
    });

    it("keeps the zones at most one pod apart after a scale-up to 5", async () => {
        await stack.setConfig("replicas", { value: "5" });
        const scaled = await stack.up();
        assert.strictEqual(scaled.summary.result, "succeeded");
        const perZone = podsPerZone(await waitReady(cluster as E2eCluster, "default", "emqx", 5));
        const counts = Object.values(perZone);
        assert.strictEqual(counts.length, 3, `pods per zone: ${JSON.stringify(perZone)}`);
        assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `pods per zone: ${JSON.stringify(perZone)}`);
    });
});
