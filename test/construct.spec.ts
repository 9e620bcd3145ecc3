/**
 * EmqxCluster as YAML, Python and other languages construct it: the engine sends the args to the component
 * package's provider, whose server turns every arg that is secret or depends on a resource into one Output
 * (`deserializeInputs`), and the SDK's ComponentProvider constructs the component from them.
 */
import * as assert from "assert";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as components from "../components";
import { EmqxCluster } from "../components";
import { MockEngine, RegisteredResource, TYPES, isSecret, kubernetesObjects, ofType, single, valueOf } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const server = require("@pulumi/pulumi/provider/server");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

const ROOT = path.resolve(__dirname, "..");
const PASSWORD = "from-a-yaml-secret";

/** A secret value as it travels over the wire. */
function wireSecret(value: unknown): Record<string, unknown> {
    return { [rpc.specialSigKey]: rpc.specialSecretSig, value };
}

/** Kubernetes objects by type and name, with their state, for comparing two runs. */
function objectStates(resources: readonly RegisteredResource[]): Record<string, unknown> {
    return Object.fromEntries(
        kubernetesObjects(resources)
            .filter((r) => r.type !== "kubernetes:core/v1:Namespace")
            // The kept Secrets (cookie, generated MQTT user) are random per stack.
            .map((r) => [`${r.type} ${r.name}`, r.ignoreChanges.includes("stringData") ? r.state.metadata : r.state]),
    );
}

describe("constructed through the component package (YAML, Python, ...)", function () {
    // The provider infers the schema from the sources (a TypeScript program over the package): a few seconds when
    // idle, more than a minute on a runner shared with other jobs.
    this.timeout(240_000);

    it("constructs from a secret dashboard and a namespace that depends on a resource, as the TypeScript path does", async () => {
        const provider = new ComponentProvider({ components: getPulumiComponents(components), dirname: ROOT, name: "emqx" });
        const constructed = await new MockEngine().run(async () => {
            const ns = new k8s.core.v1.Namespace("messaging", { metadata: { name: "messaging" } });
            const namespaceUrn = await valueOf(ns.urn);
            // What the engine sends for `namespace: ${messaging.metadata.name}` and `dashboard: {password: <secret>}`.
            const inputs = await server.deserializeInputs(
                Struct.fromJavaScript({
                    namespace: "messaging",
                    dashboard: wireSecret({ username: "ops", password: PASSWORD }),
                    discovery: "k8s",
                    replicas: 3,
                }),
                new Map([["namespace", { getUrnsList: () => [namespaceUrn] }]]),
            );
            assert.ok(pulumi.Output.isInstance(inputs.namespace) && pulumi.Output.isInstance(inputs.dashboard));
            const { urn } = await provider.construct("broker", "emqx:index:EmqxCluster", inputs, {});
            return { namespaceUrn, urn };
        });
        const typed = await new MockEngine().run(() => {
            const ns = new k8s.core.v1.Namespace("messaging", { metadata: { name: "messaging" } });
            return new EmqxCluster("broker", {
                namespace: ns.metadata.name,
                dashboard: { username: "ops", password: pulumi.secret(PASSWORD) },
                discovery: "k8s",
                replicas: 3,
            });
        });

        assert.deepStrictEqual(objectStates(constructed.resources), objectStates(typed.resources));
        const { namespaceUrn } = await constructed.value;
        for (const object of kubernetesObjects(constructed.resources).filter((r) => r.urn !== namespaceUrn)) {
            assert.ok(object.dependencies.includes(namespaceUrn), `${object.type} ${object.name} does not wait for the Namespace`);
        }
        const credentials = ofType(constructed.resources, TYPES.secret).find((r) => r.name === "broker-credentials")!;
        assert.ok(credentials.secretPaths.includes("stringData"));
        assert.strictEqual(Buffer.from(credentials.state.data["dashboard-password"], "base64").toString(), PASSWORD);
        assert.strictEqual(single(constructed.resources, TYPES.configMap).state.data.EMQX_DASHBOARD__DEFAULT_USERNAME, "ops");
    });

    it("returns the outputs, the password still secret", async () => {
        const provider = new ComponentProvider({ components: getPulumiComponents(components), dirname: ROOT, name: "emqx" });
        const run = await new MockEngine().run(async () => {
            const inputs = await server.deserializeInputs(
                Struct.fromJavaScript({ namespace: "iot", dashboard: wireSecret({ password: PASSWORD }) }),
                new Map(),
            );
            return (await provider.construct("broker", "emqx:index:EmqxCluster", inputs, {})).state as Record<string, pulumi.Output<unknown>>;
        });
        const state = await run.value;
        assert.strictEqual(await valueOf(state.dashboardPassword), PASSWORD);
        assert.strictEqual(await isSecret(state.dashboardPassword as pulumi.Output<unknown>), true);
        assert.strictEqual(await valueOf(state.mqttInternalUrl), "mqtt://broker.iot.svc.cluster.local:1883");
    });
});
