/**
 * Changes EMQX cannot take on a running cluster, refused by `pulumi preview` with the real CLI against a real
 * kube-apiserver: the change guard runs as Pulumi runs it (a serialized dynamic provider whose check sees the
 * stored state), and nothing in the cluster changes.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { runProgram, stackConfig } from "../stack-config";
import { E2eCluster, pulumiCommand, pulumiEnv, skipWithoutToolchain, startCluster } from "./cluster";

describe("pulumi preview refuses what EMQX cannot roll", function () {
    let cluster: E2eCluster | undefined;
    let workDir: string;

    before(function () {
        skipWithoutToolchain(this);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-refusals-"));
        process.env.E2E_PV_SIZES ??= "1 1 1";
        cluster = startCluster(path.join(workDir, "cluster"));
    });

    after(() => {
        cluster?.down();
        if (workDir && !process.env.E2E_KEEP_STATE) {
            fs.rmSync(workDir, { recursive: true, force: true });
        }
    });

    it("refuses 4.2 -> 4.3 and a clusterDomain change at preview, and leaves the StatefulSet untouched", async () => {
        const live = cluster as E2eCluster;
        const stack: Stack = await LocalWorkspace.createOrSelectStack(
            { stackName: "refusals", projectName: "emqx-cluster", program: async () => runProgram() },
            { envVars: pulumiEnv(live, path.join(workDir, "backend")), pulumiCommand: await pulumiCommand(live) },
        );
        const running = { version: "v4.2.14", discovery: "static", replicas: 1, storageClass: "e2e-local", allowAnonymous: true };
        const configure = (overrides: Record<string, unknown>) =>
            stack.setAllConfig(
                Object.fromEntries(Object.entries(stackConfig("dev", { ...running, ...overrides })).map(([k, value]) => [k, { value }])),
            );
        await configure({});
        assert.strictEqual((await stack.up()).summary.result, "succeeded");
        const statefulSet = () => JSON.parse(live.kubectl("-n", "default", "get", "statefulset", "emqx", "-o", "json"));
        const applied = statefulSet().metadata.resourceVersion;

        await configure({ version: "4.3.22" });
        await assert.rejects(
            () => stack.preview(),
            /version: EMQX 4\.2\.14 -> 4\.3\.22: EMQX 4\.3 changed the database schema and the inter-node API.*data export.*bump volumeGeneration \(to 1\)/s,
        );

        await configure({ clusterDomain: "corp.example" });
        await assert.rejects(
            () => stack.preview(),
            /clusterDomain: cluster\.local -> corp\.example renames every node on its old volume.*data\/mnesia\/<node name>/s,
        );

        // The way forward is accepted: a new volume generation takes nothing over.
        await configure({ clusterDomain: "corp.example", volumeGeneration: 1 });
        await stack.preview();

        assert.strictEqual(statefulSet().metadata.resourceVersion, applied, "a refused change touched the StatefulSet");
        await configure({});
        await stack.destroy();
    });
});
