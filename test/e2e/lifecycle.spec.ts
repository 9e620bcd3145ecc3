/**
 * The dev stack and a k8s-discovery stack, deployed with the real Pulumi CLI against a real kube-apiserver
 * (KWOK nodes): converge, report the allocated NodePort, roll on a config change, scale, refuse an unsafe change at
 * preview, stay a no-op when nothing changed, and leave only the retained data claims after destroy.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { EmqxCluster, EmqxClusterArgs } from "../../components";
import { stackConfig } from "../stack-config";
import { E2eCluster, pulumiCommand, pulumiEnv, skipWithoutToolchain, startCluster } from "./cluster";
import { PROJECT, asConfigMap, changes, openProgramStack, removeUnlessKept } from "./stacks";

async function timed<T>(label: string, figures: string[], work: () => Promise<T>): Promise<T> {
    const start = Date.now();
    const result = await work();
    figures.push(`${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    return result;
}

describe("pulumi up against a real Kubernetes API server", function () {
    let cluster: E2eCluster | undefined;
    let workDir: string;
    const figures: string[] = [];

    before(function () {
        skipWithoutToolchain(this);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-"));
        // Two volume generations of 5 pods and a 3-pod stack: 13 claims, all retained.
        process.env.E2E_PV_SIZES ??= "1 1 1 1 1 1 1 1 1 1 2 2 2 2 2 2";
        cluster = startCluster(path.join(workDir, "cluster"));
    });

    after(() => {
        cluster?.down();
        removeUnlessKept(workDir);
        if (figures.length > 0) {
            console.log(`\n    Wall-clock figures (2-core machine, KWOK nodes; expect noise of several seconds):\n${figures.map((f) => `      ${f}`).join("\n")}`);
        }
    });

    function openStack(name: string, overrides: Record<string, unknown>): Promise<Stack> {
        return openProgramStack(cluster as E2eCluster, path.join(workDir, "backend"), name, overrides);
    }

    function kubectlJson(...args: string[]): any {
        return JSON.parse((cluster as E2eCluster).kubectl(...args, "-o", "json"));
    }

    describe("the dev stack", () => {
        let stack: Stack;
        const config: Record<string, unknown> = { storageClass: "e2e-local", replicas: 3 };

        it("converges: the StatefulSet is Ready and every object exists with the expected spec", async () => {
            stack = await openStack("dev", config);
            const result = await timed("first up to Ready (dev, 3 nodes)", figures, () => stack.up());
            assert.strictEqual(result.summary.result, "succeeded");

            const sts = kubectlJson("-n", "default", "get", "statefulset", "emqx");
            assert.strictEqual(sts.status.readyReplicas, 3);
            assert.strictEqual(sts.spec.serviceName, "emqx-headless");
            assert.strictEqual(sts.spec.podManagementPolicy, "Parallel");
            assert.strictEqual(sts.spec.volumeClaimTemplates[0].spec.storageClassName, "e2e-local");
            const headless = kubectlJson("-n", "default", "get", "service", "emqx-headless");
            assert.strictEqual(headless.spec.clusterIP, "None");
            assert.strictEqual(headless.spec.publishNotReadyAddresses, true);
            const claims = kubectlJson("-n", "default", "get", "pvc", "-l", "app.kubernetes.io/instance=emqx").items;
            assert.deepStrictEqual(claims.map((c: any) => c.status.phase), ["Bound", "Bound", "Bound"]);
            const pdb = kubectlJson("-n", "default", "get", "pdb", "emqx");
            assert.strictEqual(pdb.spec.maxUnavailable, 1);
            const configMapName = sts.spec.template.spec.containers[0].envFrom[0].configMapRef.name;
            const configMap = kubectlJson("-n", "default", "get", "configmap", configMapName);
            assert.strictEqual(configMap.data.EMQX_CLUSTER__DISCOVERY_STRATEGY, "dns");
            assert.strictEqual(configMap.data.EMQX_CLUSTER__DNS__NAME, "emqx-headless.default.svc.cluster.local");
            assert.ok(!JSON.stringify(configMap.data).includes(String(result.outputs.dashboardPassword.value)));
            assert.strictEqual(result.outputs.dashboardPassword.secret, true);
        });

        it("routes the client Service to the Ready pods", async () => {
            // pulumi up no longer waits for the client Service's endpoints (the StatefulSet's await waits for the pods);
            // the endpoints follow the Ready pods within moments.
            const readyEndpoints = () =>
                kubectlJson("-n", "default", "get", "endpointslices", "-l", "kubernetes.io/service-name=emqx").items
                    .flatMap((slice: any) => slice.endpoints ?? [])
                    .filter((endpoint: any) => endpoint.conditions?.ready).length;
            const deadline = Date.now() + 10_000;
            while (readyEndpoints() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
            assert.strictEqual(readyEndpoints(), 3);
        });

        it("reports the NodePort the API server allocated", async () => {
            const outputs = await stack.outputs();
            const service = kubectlJson("-n", "default", "get", "service", "emqx");
            const allocated = service.spec.ports.find((p: any) => p.name === "mqtt").nodePort;
            assert.ok(allocated >= 30000 && allocated <= 32767);
            assert.strictEqual(outputs.nodePort.value, allocated);
            assert.strictEqual(outputs.mqttUrl.value, `mqtt://localhost:${allocated}`);
            assert.ok(!service.spec.ports.some((p: any) => p.name === "dashboard"), "the client Service carries the dashboard");
            // The dev stack exposes the dashboard on a NodePort of its own Service.
            const dashboardService = kubectlJson("-n", "default", "get", "service", "emqx-dashboard");
            const dashboard = dashboardService.spec.ports.find((p: any) => p.name === "dashboard").nodePort;
            assert.strictEqual(outputs.dashboardNodePort.value, dashboard);
            assert.strictEqual(outputs.dashboardUrl.value, `http://localhost:${dashboard}`);
        });

        it("previews no change and runs a no-op up when nothing changed", async () => {
            const preview = await stack.preview();
            assert.deepStrictEqual(changes(preview.changeSummary), {});
            const result = await timed("no-op up", figures, () => stack.up());
            assert.deepStrictEqual(changes(result.summary.resourceChanges), {});
        });

        it("rolls every pod to a new ConfigMap when a setting changes", async () => {
            const before = kubectlJson("-n", "default", "get", "statefulset", "emqx");
            await stack.setAllConfig(asConfigMap(stackConfig("dev", { ...config, emqxConfig: ["mqtt.max_packet_size=2MB"] })));
            await timed("config-change rollout (3 pods)", figures, () => stack.up());
            const after = kubectlJson("-n", "default", "get", "statefulset", "emqx");
            const configMapOf = (sts: any) => sts.spec.template.spec.containers[0].envFrom[0].configMapRef.name;
            assert.notStrictEqual(configMapOf(after), configMapOf(before));
            assert.notStrictEqual(after.status.updateRevision, before.status.updateRevision);
            assert.strictEqual(after.status.currentRevision, after.status.updateRevision);
            const pods = kubectlJson("-n", "default", "get", "pods", "-l", "app.kubernetes.io/instance=emqx").items;
            assert.strictEqual(pods.length, 3);
            for (const pod of pods) {
                assert.strictEqual(pod.metadata.labels["controller-revision-hash"], after.status.updateRevision, pod.metadata.name);
            }
            const configMap = kubectlJson("-n", "default", "get", "configmap", configMapOf(after));
            assert.strictEqual(configMap.data.EMQX_MQTT__MAX_PACKET_SIZE, "2MB");
            assert.throws(() => cluster!.kubectl("-n", "default", "get", "configmap", configMapOf(before)), "the old ConfigMap is left over");
        });

        it("scales to 5 nodes in place", async () => {
            await stack.setAllConfig(asConfigMap(stackConfig("dev", { ...config, replicas: 5, emqxConfig: ["mqtt.max_packet_size=2MB"] })));
            const result = await stack.up();
            assert.ok(!("replace" in changes(result.summary.resourceChanges)), "scaling replaced something");
            const sts = kubectlJson("-n", "default", "get", "statefulset", "emqx");
            assert.strictEqual(sts.status.readyReplicas, 5);
            assert.strictEqual((await stack.outputs()).nodeNames.value.length, 5);
        });

        it("refuses a StorageClass change at preview, before anything changes", async () => {
            const applied = kubectlJson("-n", "default", "get", "statefulset", "emqx").metadata.resourceVersion;
            await stack.setAllConfig(asConfigMap(stackConfig("dev", { ...config, replicas: 5, storageClass: "other-class", emqxConfig: ["mqtt.max_packet_size=2MB"] })));
            await assert.rejects(() => stack.preview(), /storageClass: "e2e-local" -> "other-class".*bump volumeGeneration/s);
            await assert.rejects(() => stack.up(), /bump volumeGeneration/);
            assert.strictEqual(kubectlJson("-n", "default", "get", "statefulset", "emqx").metadata.resourceVersion, applied);
            await stack.setAllConfig(asConfigMap(stackConfig("dev", { ...config, replicas: 5, emqxConfig: ["mqtt.max_packet_size=2MB"] })));
        });

        it("grows the volumes in place: the same claims get the new size, the StatefulSet and pods stay", async () => {
            const claimsBefore = kubectlJson("-n", "default", "get", "pvc", "-l", "app.kubernetes.io/instance=emqx").items;
            const stsBefore = kubectlJson("-n", "default", "get", "statefulset", "emqx");
            await stack.setAllConfig(asConfigMap(stackConfig("dev", { ...config, replicas: 5, storageSize: "512Mi", emqxConfig: ["mqtt.max_packet_size=2MB"] })));
            const preview = await stack.preview();
            assert.deepStrictEqual(Object.keys(changes(preview.changeSummary)), ["update"], "only updates: guard and claim patches");
            const result = await timed("volume growth (5 claims patched in place)", figures, () => stack.up());
            assert.strictEqual(result.summary.result, "succeeded");
            const claimsAfter = kubectlJson("-n", "default", "get", "pvc", "-l", "app.kubernetes.io/instance=emqx").items;
            assert.deepStrictEqual(
                claimsAfter.map((c: any) => [c.metadata.name, c.metadata.uid]).sort(),
                claimsBefore.map((c: any) => [c.metadata.name, c.metadata.uid]).sort(),
                "the claims (and their data) must be the same objects",
            );
            for (const claim of claimsAfter) {
                assert.strictEqual(claim.spec.resources.requests.storage, "512Mi", claim.metadata.name);
            }
            const stsAfter = kubectlJson("-n", "default", "get", "statefulset", "emqx");
            assert.strictEqual(stsAfter.metadata.uid, stsBefore.metadata.uid, "the StatefulSet was re-created");
            assert.strictEqual(stsAfter.status.updateRevision, stsBefore.status.updateRevision, "the pods were rolled");
            config.storageSize = "512Mi";
        });

        it("moves to new, empty volumes on a volumeGeneration bump: a new StatefulSet takes over, the old claims stay", async () => {
            const oldClaims = kubectlJson("-n", "default", "get", "pvc", "-l", "app.kubernetes.io/instance=emqx").items.map((c: any) => c.metadata.name);
            config.volumeGeneration = 1;
            config.storageSize = "256Mi";
            await stack.setAllConfig(asConfigMap(stackConfig("dev", { ...config, replicas: 5, emqxConfig: ["mqtt.max_packet_size=2MB"] })));
            await timed("volumeGeneration bump (new StatefulSet of 5 on new claims)", figures, () => stack.up());
            assert.strictEqual(kubectlJson("-n", "default", "get", "statefulset", "emqx-g1").status.readyReplicas, 5);
            assert.throws(() => cluster!.kubectl("-n", "default", "get", "statefulset", "emqx"), "the old StatefulSet is left over");
            const claims = kubectlJson("-n", "default", "get", "pvc", "-l", "app.kubernetes.io/instance=emqx").items;
            const names = claims.map((c: any) => c.metadata.name);
            for (const old of oldClaims) {
                assert.ok(names.includes(old), `old claim ${old} was deleted`);
            }
            const fresh = claims.filter((c: any) => c.metadata.name.startsWith("data-emqx-g1-"));
            assert.strictEqual(fresh.length, 5);
            assert.ok(fresh.every((c: any) => c.spec.resources.requests.storage === "256Mi"));
            const endpoints = kubectlJson("-n", "default", "get", "endpoints", "emqx-headless");
            const hosts = endpoints.subsets.flatMap((s: any) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]).map((a: any) => a.hostname);
            assert.ok(hosts.length > 0 && hosts.every((h: string) => h.startsWith("emqx-g1-")), `discovery would see ${hosts}`);
            assert.ok((await stack.outputs()).nodeNames.value.every((n: string) => n.startsWith("emqx@emqx-g1-")));
        });

        it("destroys everything but the retained data claims", async () => {
            await stack.destroy();
            const left = cluster!.kubectl(
                "-n", "default", "get", "statefulset,service,configmap,secret,serviceaccount,pdb",
                "-l", "app.kubernetes.io/instance=emqx", "-o", "name",
            ).trim();
            assert.strictEqual(left, "");
            const claims = kubectlJson("-n", "default", "get", "pvc", "-l", "app.kubernetes.io/instance=emqx").items;
            assert.strictEqual(claims.length, 10, "both generations' claims are retained");
        });
    });

    describe("a k8s-discovery stack in its own namespace", () => {
        it("converges with a Role that lets the pods read exactly their endpoints, and destroys cleanly", async () => {
            cluster!.kubectl("create", "namespace", "e2e-k8s");
            const stack = await openStack("k8s", { storageClass: "e2e-local", discovery: "k8s", namespace: "e2e-k8s" });
            await timed("first up to Ready (k8s discovery, 3 nodes)", figures, () => stack.up());
            const sts = kubectlJson("-n", "e2e-k8s", "get", "statefulset", "emqx");
            assert.strictEqual(sts.status.readyReplicas, 3);
            const as = ["--as", "system:serviceaccount:e2e-k8s:emqx", "-n", "e2e-k8s"];
            assert.strictEqual(cluster!.kubectl("auth", "can-i", "get", "endpoints/emqx-headless", ...as).trim(), "yes");
            assert.throws(() => cluster!.kubectl("auth", "can-i", "list", "pods", ...as), "the pods may do more than read endpoints");
            const role = kubectlJson("-n", "e2e-k8s", "get", "role", "emqx-endpoints-reader");
            assert.strictEqual(role.apiVersion, "rbac.authorization.k8s.io/v1");
            const preview = await stack.preview();
            assert.deepStrictEqual(changes(preview.changeSummary), {});
            await stack.destroy();
            assert.strictEqual(cluster!.kubectl("-n", "e2e-k8s", "get", "role,rolebinding,statefulset", "-o", "name").trim(), "");
        });
    });

    describe("kept credentials and the change guard, as the real CLI runs them", () => {
        const NAMESPACE = "e2e-keep";
        // Read by the program on every run; each test changes it the way a user edits the program.
        let args: EmqxClusterArgs = { namespace: NAMESPACE, persistence: false, replicas: 3, version: "5.8.8" };
        let stack: Stack;
        let cookie: string;
        let password: string;

        function heldInCluster(key: string): string {
            const secret = kubectlJson("-n", NAMESPACE, "get", "secret", "keep-credentials");
            return Buffer.from(secret.data[key], "base64").toString("utf8");
        }
        const statefulSet = () => kubectlJson("-n", NAMESPACE, "get", "statefulset", "keep");

        async function up(label: string) {
            const result = await timed(label, figures, () => stack.up());
            assert.strictEqual(result.summary.result, "succeeded");
            assert.strictEqual(heldInCluster("erlang-cookie"), cookie, `the cookie changed on ${label}`);
            assert.strictEqual(result.outputs.dashboardPassword.value, password, `the password output changed on ${label}`);
            return result;
        }

        before(async () => {
            const live = cluster as E2eCluster;
            live.kubectl("create", "namespace", NAMESPACE);
            stack = await LocalWorkspace.createOrSelectStack(
                {
                    stackName: "keep",
                    projectName: PROJECT,
                    program: async () => {
                        const broker = new EmqxCluster("keep", args);
                        return { dashboardPassword: broker.dashboardPassword };
                    },
                },
                { envVars: pulumiEnv(live, path.join(workDir, "backend")), pulumiCommand: await pulumiCommand(live) },
            );
        });

        it("generates the cookie and password once: the output is what the cluster holds, the state has both only as secrets", async () => {
            const result = await stack.up();
            assert.strictEqual(result.summary.result, "succeeded");
            cookie = heldInCluster("erlang-cookie");
            password = heldInCluster("dashboard-password");
            assert.match(cookie, /^[A-Za-z0-9]{32}$/);
            assert.strictEqual(result.outputs.dashboardPassword.value, password);
            assert.strictEqual(result.outputs.dashboardPassword.secret, true);
            // The state file as the backend keeps it (the Automation API's exportStack decrypts secrets).
            const state = fs.readFileSync(path.join(workDir, "backend", ".pulumi", "stacks", PROJECT, "keep.json"), "utf8");
            assert.match(state, /"ciphertext"/, "nothing in the state is a secret");
            for (const [name, value] of [["cookie", cookie], ["password", password]]) {
                assert.ok(!state.includes(value), `the state holds the ${name} in plain text`);
                assert.ok(!state.includes(Buffer.from(value).toString("base64")), `the state holds the ${name} base64-encoded`);
            }
            assert.ok(!state.includes("GeneratedSecret"), "a dynamic provider still generates secrets");
        });

        it("keeps both through a config change, a scale and a version patch", async () => {
            const before = statefulSet().status.updateRevision;
            args = { ...args, emqxConfig: { "mqtt.max_packet_size": "2MB" } };
            await up("config change (kept credentials)");
            assert.notStrictEqual(statefulSet().status.updateRevision, before, "the config change did not roll the pods");
            args = { ...args, replicas: 5 };
            await up("scale to 5 (kept credentials)");
            assert.strictEqual(statefulSet().status.readyReplicas, 5);
            args = { ...args, version: "5.8.9" };
            await up("version patch 5.8.8 -> 5.8.9");
            assert.strictEqual(statefulSet().spec.template.spec.containers[0].image, "emqx/emqx:5.8.9");
        });

        it("ignores a later dashboard password with a warning at preview, rolling nothing", async () => {
            const before = statefulSet();
            args = { ...args, dashboard: { password: "changed-after-first-boot" } };
            const preview = await stack.preview();
            assert.match(preview.stdout, /dashboard\.password differs from the password the cluster was first started with/);
            assert.deepStrictEqual(changes(preview.changeSummary), {}, "the preview plans a change");
            const result = await up("password change (ignored)");
            assert.match(result.stdout, /dashboard\.password differs from the password the cluster was first started with/);
            assert.ok(!result.stdout.includes("changed-after-first-boot"));
            assert.deepStrictEqual(changes(result.summary.resourceChanges), {}, "the update changed something");
            const after = statefulSet();
            assert.strictEqual(after.metadata.generation, before.metadata.generation, "the StatefulSet changed");
            assert.strictEqual(heldInCluster("dashboard-password"), password);
        });

        it("follows a password recorded by hand after a refresh, as the README's procedure says", async () => {
            cluster!.kubectl("-n", NAMESPACE, "patch", "secret", "keep-credentials", "--type", "merge", "-p", JSON.stringify({ stringData: { "dashboard-password": "changed-after-first-boot" } }));
            await stack.refresh();
            password = "changed-after-first-boot";
            await up("up after the recorded password change");
            assert.strictEqual(heldInCluster("dashboard-password"), password, "the update put the old password back");
            const preview = await stack.preview();
            assert.doesNotMatch(preview.stdout, /dashboard\.password differs/);
        });

        it("refuses a version change EMQX cannot roll, printing the reason and the override, not the recorded state", async () => {
            const applied = statefulSet().metadata.resourceVersion;
            args = { ...args, version: "4.4.19", discovery: "k8s" };
            const refusal = await stack.preview().then(
                () => assert.fail("the preview went ahead"),
                (err: Error) => err.message,
            );
            assert.match(refusal, /has a problem: version: EMQX 5\.8\.9 -> 4\.4\.19 .*add "version" to acknowledgedChanges/s);
            assert.doesNotMatch(refusal, /rollsFromRank|storageBytes|property state value/);
            const shown = refusal.split("\n").find((line) => line.includes("has a problem")) ?? "";
            console.log(`      the CLI says: ${shown.trim()}`);
            await assert.rejects(() => stack.up(), /add "version" to acknowledgedChanges/);
            assert.strictEqual(statefulSet().metadata.resourceVersion, applied);
        });

        it("lets the acknowledged change through, and destroys cleanly", async () => {
            args = { ...args, acknowledgedChanges: ["version"] };
            const preview = await stack.preview();
            assert.match(preview.stdout, /acknowledgedChanges lets version changes through/);
            await up("acknowledged 5.8.9 -> 4.4.19");
            assert.strictEqual(statefulSet().spec.template.spec.containers[0].image, "emqx/emqx:4.4.19");
            await stack.destroy();
            assert.strictEqual(cluster!.kubectl("-n", NAMESPACE, "get", "statefulset,secret,configmap", "-l", "app.kubernetes.io/instance=keep", "-o", "name").trim(), "");
        });
    });
});
