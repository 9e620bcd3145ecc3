/**
 * Faults around a deployed dev stack, with the real Pulumi CLI against a real kube-apiserver (KWOK nodes): the CLI
 * killed in the middle of an update, the API server restarted during an update, pods deleted, a scale-down and a
 * scale-up. Each ends with the cluster Ready, the state and the cluster agreeing (a no-op preview), and every data
 * claim the same object (name, UID and volume) as before the fault.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { Stack } from "@pulumi/pulumi/automation";
import { stackConfig } from "../stack-config";
import { E2eCluster, skipWithoutToolchain, startCluster } from "./cluster";
import { asConfigMap, changes, DataClaim, dataClaims, kubectlJson, openProgramStack, removeUnlessKept, waitReady } from "./stacks";

const NAMESPACE = "default";
const INSTANCE = "emqx";

/** PIDs of the processes whose parent is `parent` (from /proc/<pid>/stat), with their command names. */
function childrenOf(parent: number): { pid: number; name: string }[] {
    return fs.readdirSync("/proc").flatMap((entry) => {
        if (!/^\d+$/.test(entry)) return [];
        try {
            const stat = /^\d+ \((.*)\) \S+ (\d+) /s.exec(fs.readFileSync(`/proc/${entry}/stat`, "utf8"));
            return stat && Number(stat[2]) === parent ? [{ pid: Number(entry), name: stat[1] }] : [];
        } catch {
            return []; // the process ended while we looked
        }
    });
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("faults: a deployed cluster survives them with its data claims", function () {
    let cluster: E2eCluster | undefined;
    let workDir: string;
    let stack: Stack;
    let claims: DataClaim[];
    const config: Record<string, unknown> = { storageClass: "e2e-local", replicas: 3 };

    before(async function () {
        skipWithoutToolchain(this);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-faults-"));
        cluster = startCluster(path.join(workDir, "cluster"));
        stack = await openProgramStack(cluster, path.join(workDir, "backend"), "faults", config);
        assert.strictEqual((await stack.up()).summary.result, "succeeded");
        await waitReady(cluster, NAMESPACE, INSTANCE, 3);
        claims = dataClaims(cluster, NAMESPACE, INSTANCE);
        assert.strictEqual(claims.length, 3);
        assert.ok(claims.every((c) => c.volume), "every claim is bound");
    });

    after(() => {
        cluster?.down();
        removeUnlessKept(workDir);
    });

    const live = () => cluster as E2eCluster;

    /** The end state every fault must reach: Ready, nothing left to change, the same claims. */
    async function assertRecovered(replicas = 3): Promise<any[]> {
        // Up to 3 minutes: after an API server restart the controllers re-establish their watches before the
        // rollout goes on, which on a loaded 2-core machine took longer than a minute.
        const pods = await waitReady(live(), NAMESPACE, INSTANCE, replicas, 180_000);
        assert.deepStrictEqual(dataClaims(live(), NAMESPACE, INSTANCE), claims, "a data claim was lost or re-created");
        for (const pod of pods) {
            const data = pod.spec.volumes.find((v: any) => v.name === "data");
            assert.strictEqual(data?.persistentVolumeClaim?.claimName, `data-${pod.metadata.name}`, pod.metadata.name);
        }
        const preview = await stack.preview();
        assert.deepStrictEqual(changes(preview.changeSummary), {}, "the state and the cluster disagree");
        return pods;
    }

    async function setConfig(overrides: Record<string, unknown>): Promise<void> {
        Object.assign(config, overrides);
        await stack.setAllConfig(asConfigMap(stackConfig("dev", config)));
    }

    function podUids(): Map<string, string> {
        const pods = kubectlJson(live(), "-n", NAMESPACE, "get", "pods", "-l", `app.kubernetes.io/instance=${INSTANCE}`).items;
        return new Map(pods.map((p: any) => [p.metadata.name, p.metadata.uid]));
    }

    it("one pod deleted: it returns with the same name and claim", async () => {
        const before = podUids();
        live().kubectl("-n", NAMESPACE, "delete", "pod", "emqx-1", "--wait=false");
        const pods = await assertRecovered();
        assert.deepStrictEqual(pods.map((p) => p.metadata.name), ["emqx-0", "emqx-1", "emqx-2"]);
        const after = new Map(pods.map((p) => [p.metadata.name, p.metadata.uid]));
        assert.notStrictEqual(after.get("emqx-1"), before.get("emqx-1"), "emqx-1 was not re-created");
        assert.strictEqual(after.get("emqx-0"), before.get("emqx-0"));
        assert.strictEqual(after.get("emqx-2"), before.get("emqx-2"));
    });

    it("all pods deleted at once: they return with the same names and claims", async () => {
        const before = podUids();
        live().kubectl("-n", NAMESPACE, "delete", "pods", "-l", `app.kubernetes.io/instance=${INSTANCE}`, "--wait=false");
        const pods = await assertRecovered();
        assert.deepStrictEqual(pods.map((p) => p.metadata.name), ["emqx-0", "emqx-1", "emqx-2"]);
        for (const pod of pods) {
            assert.notStrictEqual(pod.metadata.uid, before.get(pod.metadata.name), `${pod.metadata.name} was not re-created`);
        }
    });

    it("a scale-down keeps the removed pods' claims, and a scale-up re-uses them", async () => {
        await setConfig({ replicas: 1 });
        assert.strictEqual((await stack.up()).summary.result, "succeeded");
        await waitReady(live(), NAMESPACE, INSTANCE, 1);
        assert.deepStrictEqual(dataClaims(live(), NAMESPACE, INSTANCE), claims, "the scale-down deleted or replaced a claim");
        await setConfig({ replicas: 3 });
        assert.strictEqual((await stack.up()).summary.result, "succeeded");
        await assertRecovered();
    });

    /**
     * Starts `pulumi up` of a config change and runs `fault` once the StatefulSet update has reached the API server
     * (its generation moved), while the provider waits for the rollout. Returns the update's outcome.
     */
    async function upWithFault(maxPacketSize: string, fault: () => Promise<void>): Promise<"succeeded" | Error> {
        const generation = kubectlJson(live(), "-n", NAMESPACE, "get", "statefulset", INSTANCE).metadata.generation;
        await setConfig({ emqxConfig: [`mqtt.max_packet_size=${maxPacketSize}`] });
        const update = stack.up().then(
            (r) => (r.summary.result === "succeeded" ? ("succeeded" as const) : new Error(r.summary.result)),
            (e: Error) => e,
        );
        const kubectl = promisify(execFile);
        let injected = false;
        for (let i = 0; i < 1200 && !injected; i++) {
            const { stdout } = await kubectl(path.join(live().binDir, "kubectl"), ["-n", NAMESPACE, "get", "statefulset", INSTANCE, "-o", "jsonpath={.metadata.generation}"], {
                env: { ...process.env, KUBECONFIG: live().kubeconfig },
            });
            if (Number(stdout) > generation) {
                await fault();
                injected = true;
            }
            await sleep(50);
        }
        assert.ok(injected, "the StatefulSet never changed");
        return update;
    }

    async function assertRolledTo(maxPacketSize: string): Promise<void> {
        const pods = await assertRecovered();
        const configMapName = pods[0].spec.containers[0].envFrom[0].configMapRef.name;
        assert.strictEqual(kubectlJson(live(), "-n", NAMESPACE, "get", "configmap", configMapName).data.EMQX_MQTT__MAX_PACKET_SIZE, maxPacketSize);
    }

    it("the CLI killed in the middle of an update: `pulumi cancel`, then `pulumi up` converges", async () => {
        // SIGKILL: no chance to clean up, as when the CLI's machine or CI job dies.
        let plugins: number[] = [];
        const outcome = await upWithFault("3MB", async () => {
            const cli = childrenOf(process.pid).filter((p) => p.name === "pulumi");
            assert.strictEqual(cli.length, 1, `expected one pulumi child process, found ${JSON.stringify(cli)}`);
            plugins = childrenOf(cli[0].pid).map((p) => p.pid);
            process.kill(cli[0].pid, "SIGKILL");
        });
        assert.ok(outcome instanceof Error, "the update finished although its CLI was killed");
        // The plugins the CLI started lose their engine; stop any that linger (they are this test's processes).
        await sleep(2000);
        for (const pid of plugins.filter(alive)) process.kill(pid, "SIGKILL");

        const pending = (await stack.exportStack()).deployment.pending_operations ?? [];
        console.log(`      pending operations after the kill: ${pending.map((op: any) => `${op.type} ${op.resource.urn.split("::").pop()}`).join(", ") || "none"}`);
        await assert.rejects(() => stack.up(), /the stack is currently locked by 1 lock\(s\)/);
        await stack.cancel();
        assert.strictEqual((await stack.up()).summary.result, "succeeded");
        await assertRolledTo("3MB");
    });

    it("the API server restarted during an update: the update, or the next `pulumi up`, converges", async () => {
        const outcome = await upWithFault("4MB", () => live().restartApiServer(3));
        console.log(`      the update during the restart: ${outcome instanceof Error ? `failed (${outcome.message.split("\n").find((l) => /error:/.test(l))?.trim()})` : outcome}`);
        if (outcome instanceof Error) assert.strictEqual((await stack.up()).summary.result, "succeeded");
        await assertRolledTo("4MB");
    });
});
