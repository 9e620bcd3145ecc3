import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../components/args";
import { MockEngine, TYPES, isSecret, ofType, single, valueOf } from "./harness";
import { ROOT, programEntry, projectFile, runProgram, stackConfig, stackNames } from "./stack-config";
import * as path from "path";

async function runStack(stack: string, overrides: Record<string, unknown> = {}) {
    const run = await new MockEngine().run(runProgram, { config: stackConfig(stack, overrides) });
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(run.value)) {
        outputs[key] = await valueOf(value as pulumi.Output<unknown>);
    }
    return { ...run, outputs };
}

describe("the Pulumi program with each stack", () => {
    it("is the file `pulumi up` runs: the Node.js host resolves Pulumi.yaml's main to index.ts, not the library entry", () => {
        assert.strictEqual(path.relative(ROOT, programEntry()), "index.ts");
    });

    it("has a dev and a prod stack", () => {
        assert.deepStrictEqual(stackNames(), ["dev", "prod"]);
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: creates a working cluster and exports the outputs clients need`, async () => {
            const { outputs, resources, value } = await runStack(stack);
            for (const key of ["nodePort", "dashboardUrl", "mqttUrl", "mqttInternalUrl", "dashboardUsername", "dashboardPassword"]) {
                assert.ok(outputs[key] !== undefined, `stack output ${key} missing`);
            }
            assert.strictEqual(await isSecret((value as Record<string, pulumi.Output<unknown>>).dashboardPassword), true);
            const client = ofType(resources, TYPES.service).find((s) => s.state.spec.clusterIP !== "None")!;
            const mqtt = client.state.spec.ports.find((p: any) => p.name === "mqtt");
            assert.strictEqual(outputs.nodePort, mqtt.nodePort);
            assert.ok(String(outputs.mqttUrl).endsWith(`:${mqtt.nodePort}`));
            assert.ok(single(resources, TYPES.statefulSet));
        });
    }

    it("dev is small and lets Kubernetes allocate NodePorts", async () => {
        const { resources } = await runStack("dev");
        const sts = single(resources, TYPES.statefulSet).state;
        assert.ok(sts.spec.replicas >= 1 && sts.spec.replicas <= 3);
        const client = ofType(resources, TYPES.service).find((s) => s.state.spec.clusterIP !== "None")!;
        assert.strictEqual(client.inputs.spec.type, "NodePort");
        assert.ok(client.inputs.spec.ports.every((p: any) => p.nodePort === undefined), "dev should not pin NodePorts");
    });

    it("prod runs 3+ nodes on a real StorageClass with pinned NodePorts", async () => {
        const { resources, outputs } = await runStack("prod");
        const sts = single(resources, TYPES.statefulSet).state;
        assert.ok(sts.spec.replicas >= 3);
        assert.strictEqual(sts.spec.volumeClaimTemplates[0].spec.storageClassName, "fast-ssd");
        const client = ofType(resources, TYPES.service).find((s) => s.state.spec.clusterIP !== "None")!;
        assert.ok(client.inputs.spec.ports.every((p: any) => p.nodePort >= 30000), "prod should pin every NodePort");
        assert.strictEqual(outputs.nodePort, 31883);
        assert.strictEqual(outputs.mqttUrl, "mqtt://mqtt.example.com:31883");
    });

    it("passes a dashboard password set as a secret, never in plain text", async () => {
        const { resources, outputs } = await runStack("dev", { dashboardPassword: "from-config" });
        assert.strictEqual(outputs.dashboardPassword, "from-config");
        const configMap = single(resources, TYPES.configMap).state;
        assert.ok(!JSON.stringify(configMap).includes("from-config"));
    });

    it("declares defaults in Pulumi.yaml that agree with the component's", () => {
        const declared = projectFile().config;
        const same: [string, unknown][] = [
            ["replicas", DEFAULTS.replicas],
            ["version", DEFAULTS.version],
            ["discovery", DEFAULTS.discovery],
            ["namespace", DEFAULTS.namespace],
            ["persistence", DEFAULTS.persistence],
            ["storageSize", DEFAULTS.storageSize],
            ["serviceType", DEFAULTS.serviceType],
            ["clusterDomain", DEFAULTS.clusterDomain],
            ["image", DEFAULTS.image],
            ["dashboardUsername", DEFAULTS.dashboardUsername],
            ["volumeGeneration", DEFAULTS.volumeGeneration],
            ["volumeRetentionOnScaleDown", DEFAULTS.volumeRetentionOnScaleDown],
            ["networkPolicy", DEFAULTS.networkPolicy],
        ];
        for (const [key, value] of same) {
            assert.strictEqual(declared[key]?.default, value, `Pulumi.yaml default of ${key}`);
            assert.ok(declared[key].description, `${key} has no description`);
        }
    });

    it("keeps the two meanings of storageClass apart: Pulumi.yaml's default is the cluster default, \"\" no provisioning", async () => {
        const template = async (overrides: Record<string, unknown>) =>
            single((await runStack("dev", overrides)).resources, TYPES.statefulSet).state.spec.volumeClaimTemplates[0].spec;
        assert.ok(!("storageClassName" in (await template({}))), "the default must leave the class to the cluster");
        assert.strictEqual((await template({ storageClass: "" })).storageClassName, "");
        assert.strictEqual((await template({ storageClass: "fast-ssd" })).storageClassName, "fast-ssd");
    });

    it("lets the component warn when externalHost is left empty, and passes one that is set", async () => {
        assert.match((await runStack("dev", { externalHost: "" })).warnings.join("\n"), /externalHost is not set/);
        assert.deepStrictEqual((await runStack("dev")).warnings, [], "dev sets externalHost: localhost explicitly");
        assert.strictEqual(projectFile().config.externalHost.default, "");
    });

    it("refuses a bad stack setting with the component's error", async () => {
        await assert.rejects(() => runStack("dev", { mqttNodePort: 80 }), /nodePorts\.mqtt: 80 is outside the NodePort range/);
    });
});
