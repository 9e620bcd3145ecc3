/**
 * Args as Pulumi programs pass them: Outputs of other resources and secrets, from TypeScript and through the
 * component-package construct path other languages use.
 */
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EmqxCluster, EmqxClusterArgs } from "../components";
import { MockEngine, RegisteredResource, RunFailure, TYPES, isSecret, kubernetesObjects, ofType, single, valueOf } from "./harness";

/** Runs a program that creates a Namespace named `namespace` and an EmqxCluster in it, wired by an Output. */
async function inCreatedNamespace(namespace: string, args: EmqxClusterArgs = {}) {
    return new MockEngine().run(() => {
        const ns = new k8s.core.v1.Namespace("messaging", { metadata: { name: namespace } });
        return { ns, cluster: new EmqxCluster("emqx", { ...args, namespace: ns.metadata.name }) };
    });
}

/** Every Kubernetes object's state by type and name, for comparing two runs. */
function objectStates(resources: readonly RegisteredResource[]): Record<string, unknown> {
    return Object.fromEntries(
        kubernetesObjects(resources)
            .filter((r) => r.type !== "kubernetes:core/v1:Namespace")
            // The kept Secrets (credentials, generated MQTT user) hold fresh random values on every new stack.
            .map((r) => [`${r.type} ${r.name}`, r.ignoreChanges.includes("stringData") ? r.state.metadata : r.state]),
    );
}

async function failureOf(run: Promise<unknown>): Promise<RunFailure> {
    try {
        await run;
    } catch (err) {
        assert.ok(err instanceof RunFailure, `not a run failure: ${err}`);
        return err;
    }
    assert.fail("the run succeeded");
}

describe("args that are Outputs of other resources", () => {
    it("builds the same objects from a namespace Output as from the plain name, each waiting for the Namespace", async () => {
        // A given password, so that the two stacks' Secrets agree; the cookie is random per stack.
        const args: EmqxClusterArgs = { discovery: "k8s", dashboard: { password: "same-on-both" } };
        const wired = await inCreatedNamespace("messaging", args);
        const plain = await new MockEngine().run(() => new EmqxCluster("emqx", { ...args, namespace: "messaging" }));
        const cluster = wired.value.cluster;
        assert.deepStrictEqual(objectStates(wired.resources), objectStates(plain.resources));

        const namespace = single(wired.resources, "kubernetes:core/v1:Namespace");
        for (const object of kubernetesObjects(wired.resources).filter((r) => r !== namespace)) {
            assert.ok(object.dependencies.includes(namespace.urn), `${object.type} ${object.name} does not wait for the Namespace`);
            assert.ok(object.order > namespace.order);
        }
        const container = single(wired.resources, TYPES.statefulSet).state.spec.template.spec.containers[0];
        assert.strictEqual(container.env.find((e: any) => e.name === "EMQX_HOST").value, "$(POD_NAME).emqx-headless.messaging.svc.cluster.local");
        assert.strictEqual(single(wired.resources, TYPES.roleBinding).state.subjects[0].namespace, "messaging");
        assert.deepStrictEqual(await valueOf(cluster.nodeNames), [0, 1, 2].map((i) => `emqx@emqx-${i}.emqx-headless.messaging.svc.cluster.local`));
        assert.strictEqual(await valueOf(cluster.namespace), "messaging");
        assert.strictEqual(await valueOf(cluster.mqttInternalUrl), "mqtt://emqx.messaging.svc.cluster.local:1883");
        const guard = wired.resources.find((r) => r.type.endsWith(":ChangeGuard"))!;
        assert.strictEqual(guard.inputs.state.namespace, "messaging");
    });

    it("takes storage, host, resources, emqxConfig and etcd endpoints as Outputs", async () => {
        const later = <T>(value: T) => pulumi.output(Promise.resolve(value));
        const run = await new MockEngine().run(
            () =>
                new EmqxCluster("emqx", {
                    storageClass: later("fast-ssd"),
                    storageSize: later("5Gi"),
                    externalHost: later("mqtt.example.com"),
                    resources: later({ requests: { memory: "512Mi" } }),
                    emqxConfig: { "mqtt.max_packet_size": later("2MB") },
                    discovery: "etcd",
                    etcd: { endpoints: later(["http://etcd:2379"]) },
                }),
        );
        const sts = single(run.resources, TYPES.statefulSet).state;
        assert.strictEqual(sts.spec.volumeClaimTemplates[0].spec.storageClassName, "fast-ssd");
        assert.strictEqual(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "5Gi");
        assert.deepStrictEqual(sts.spec.template.spec.containers[0].resources, { requests: { memory: "512Mi" } });
        const settings = single(run.resources, TYPES.configMap).state.data;
        assert.strictEqual(settings.EMQX_MQTT__MAX_PACKET_SIZE, "2MB");
        assert.strictEqual(settings.EMQX_CLUSTER__ETCD__SERVER, "http://etcd:2379");
        assert.match(await valueOf(run.value.mqttUrl), /^mqtt:\/\/mqtt\.example\.com:\d+$/);
    });

    const BAD_OUTPUTS: [string, EmqxClusterArgs, RegExp][] = [
        ["namespace", { namespace: pulumi.output("IoT.Prod") }, /- namespace: "IoT\.Prod" is not a valid namespace name/],
        ["storageClass", { storageClass: pulumi.output("Fast_SSD") }, /- storageClass: "Fast_SSD" is not a valid StorageClass name/],
        ["storageSize", { storageSize: pulumi.output("ten gigs") }, /- storageSize: "ten gigs" is not a positive Kubernetes quantity/],
        ["emqxConfig", { emqxConfig: { "mqtt.client_id_prefix": pulumi.output("a#b") } }, /- emqxConfig\["mqtt\.client_id_prefix"\]: .*double quotes/],
        ["etcd.endpoints", { discovery: "etcd", etcd: { endpoints: [pulumi.output("etcd:2379")] } }, /- etcd\.endpoints: "etcd:2379" is not an http/],
        ["dashboard.username", { dashboard: pulumi.output({ username: "ops team" }) }, /- dashboard\.username: "ops team" may contain only/],
    ];
    for (const [field, args, message] of BAD_OUTPUTS) {
        it(`checks ${field} once the Output is known, with the field-named error, before any object is created`, async () => {
            const failure = await failureOf(new MockEngine().run(() => new EmqxCluster("emqx", args)));
            assert.match(failure.message, message);
            assert.doesNotMatch(failure.message, /toString|Output<T>/);
            assert.deepStrictEqual(kubernetesObjects(failure.resources).map((r) => r.type), []);
        });
    }

    it("checks a secret password Output once known, before the Secret that keeps it is created", async () => {
        // No check refuses a password today; a check that refuses every password stands in for one.
        const { VALUE_CHECKS } = await import("../components/checks");
        const checks = VALUE_CHECKS["dashboard.password"] as ((value: string) => string | undefined)[];
        checks.push(() => "refused for the test");
        try {
            const failure = await failureOf(
                new MockEngine().run(() => new EmqxCluster("emqx", { dashboard: { password: pulumi.secret("x") } })),
            );
            assert.match(failure.message, /- dashboard\.password: refused for the test/);
            assert.ok(!failure.resources.some((r) => r.name === "emqx-credentials"));
        } finally {
            checks.pop();
        }
    });

    for (const [field, args] of [
        ["replicas", { replicas: pulumi.output(3) }],
        ["discovery", { discovery: pulumi.output("dns") }],
        ["persistence", { persistence: pulumi.output(true) }],
        ["volumeGeneration", { volumeGeneration: pulumi.output(1) }],
        ["clusterName", { clusterName: pulumi.output("broker") }],
        ["serviceType", { serviceType: pulumi.output("NodePort") }],
    ] as [string, unknown][]) {
        it(`refuses an Output for ${field}, which decides the objects, saying to pass the value and use dependsOn`, async () => {
            let error: Error | undefined;
            const run = await new MockEngine().run(() => {
                try {
                    new EmqxCluster("emqx", args as never);
                } catch (err) {
                    error = err as Error;
                }
            });
            assert.ok(error);
            assert.match(error.message, new RegExp(`- ${field}: must be a plain value, not an Output.*dependsOn`, "s"));
            assert.doesNotMatch(error.message, /toString/);
            assert.deepStrictEqual(kubernetesObjects(run.resources), []);
        });
    }
});

describe("secret args", () => {
    it("keeps a secret password Output secret in the Secret and the output", async () => {
        const run = await new MockEngine().run(
            () => new EmqxCluster("emqx", { dashboard: pulumi.secret({ username: "ops", password: "hunter2" }) }),
        );
        const credentials = ofType(run.resources, TYPES.secret).find((r) => r.name === "emqx-credentials")!;
        assert.ok(credentials.secretPaths.includes("stringData"), "the kept credentials are not secret");
        assert.strictEqual(Buffer.from(credentials.state.data["dashboard-password"], "base64").toString(), "hunter2");
        assert.strictEqual(await valueOf(run.value.dashboardPassword), "hunter2");
        assert.strictEqual(await isSecret(run.value.dashboardPassword), true);
        // The user name is not secret, nor is anything built from the plan.
        assert.strictEqual(await valueOf(run.value.dashboardUsername), "ops");
        assert.strictEqual(await isSecret(run.value.dashboardUsername), false);
        const settings = single(run.resources, TYPES.configMap);
        assert.deepStrictEqual(settings.secretPaths, []);
        assert.strictEqual(settings.state.data.EMQX_DASHBOARD__DEFAULT_USERNAME, "ops");
    });
});
