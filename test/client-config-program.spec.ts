/**
 * examples/client-config: a second program that reads the EMQX stack's outputs through a StackReference. The
 * referenced outputs are the ones the EMQX program really exports for the dev stack, run on the mock engine.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ClientConfig } from "../components";
import { MockEngine, StackOutputs, TYPES, kubernetesObjects, ofType, single, valueOf } from "./harness";
import { runProgram, stackConfig } from "./stack-config";

const ROOT = path.resolve(__dirname, "..");
const EXAMPLE = path.join(ROOT, "examples", "client-config");
const EMQX_STACK = "acme/emqx-cluster/dev";
const PROJECT = "emqx-client-config";

/** The outputs of the EMQX program for a stack, as `pulumi stack output --show-secrets` would print them. */
async function emqxStackOutputs(overrides: Record<string, unknown> = {}): Promise<StackOutputs> {
    const run = await new MockEngine().run(runProgram, { config: stackConfig("dev", overrides) });
    const outputs: Record<string, unknown> = {};
    const secretOutputNames: string[] = [];
    for (const [name, value] of Object.entries(run.value)) {
        outputs[name] = await valueOf(value as pulumi.Output<unknown>);
        if (await pulumi.isSecret(value as pulumi.Output<unknown>)) {
            secretOutputNames.push(name);
        }
    }
    return { outputs, secretOutputNames };
}

async function runClientConfig(config: Record<string, string>, emqx: StackOutputs) {
    const entry = require.resolve(path.join(EXAMPLE, "index.ts"));
    delete require.cache[entry];
    const run = await new MockEngine(PROJECT, "dev").run(
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        () => ({ ...require(entry) }) as Record<string, pulumi.Output<unknown>>,
        {
            config: Object.fromEntries(Object.entries(config).map(([key, value]) => [`${PROJECT}:${key}`, value])),
            stackReferences: { [EMQX_STACK]: emqx },
        },
    );
    // The output's own promise rejects when the stack reference fails; an apply would never run.
    await (run.value.mqttUrl as unknown as { promise(): Promise<unknown> }).promise();
    return run;
}

describe("examples/client-config: client settings for an application, from the EMQX stack's outputs", () => {
    const DASHBOARD_PASSWORD = "dashboard-admin-secret";
    let emqx: StackOutputs;

    before(async () => {
        emqx = await emqxStackOutputs({ dashboardPassword: DASHBOARD_PASSWORD, allowAnonymous: true });
        assert.ok(emqx.secretOutputNames?.includes("dashboardPassword"));
    });

    it("type-checks", function () {
        // A whole tsc run over the example and the SDK's declarations: seconds when idle, minutes on a loaded runner.
        this.timeout(180_000);
        const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
        execFileSync(process.execPath, [tsc, "--noEmit", "-p", EXAMPLE], { encoding: "utf8", stdio: "pipe" });
    });

    it("writes the in-cluster MQTT URLs and the client id prefix into a ConfigMap in the application's namespace", async () => {
        const run = await runClientConfig({ emqxStack: EMQX_STACK, appNamespace: "shop", clientIdPrefix: "orders-" }, emqx);
        const clientConfig = emqx.outputs.clientConfig as ClientConfig;
        const configMap = single(run.resources, TYPES.configMap).state;
        assert.strictEqual(configMap.metadata.namespace, "shop");
        assert.deepStrictEqual(configMap.data, {
            MQTT_URL: clientConfig.internalUrl,
            MQTT_TLS_URL: clientConfig.listeners.mqtts!.internal.url,
            MQTT_WS_URL: clientConfig.listeners.ws!.internal.url,
            MQTT_CLIENT_ID_PREFIX: "orders-",
        });
        assert.strictEqual(configMap.data.MQTT_URL, "mqtt://emqx.default.svc.cluster.local:1883");
        assert.strictEqual(await valueOf(run.value.configMapName), "mqtt-client");
    });

    it("defaults the client id prefix to the namespace", async () => {
        const run = await runClientConfig({ emqxStack: EMQX_STACK, appNamespace: "shop" }, emqx);
        assert.strictEqual(single(run.resources, TYPES.configMap).state.data.MQTT_CLIENT_ID_PREFIX, "shop-");
    });

    it("creates no Secret for a broker that takes anonymous clients, and never copies the dashboard password", async () => {
        const run = await runClientConfig({ emqxStack: EMQX_STACK, appNamespace: "shop" }, emqx);
        assert.deepStrictEqual(ofType(run.resources, TYPES.secret), []);
        assert.strictEqual(await valueOf(run.value.secretName), undefined);
        assert.deepStrictEqual(run.warnings, []);
        assert.ok(!JSON.stringify(run.resources.map((r) => r.inputs)).includes(DASHBOARD_PASSWORD));
    });

    it("puts the application's own MQTT login in a Secret, as a secret", async () => {
        const run = await runClientConfig(
            { emqxStack: EMQX_STACK, appNamespace: "shop", mqttUsername: "orders", mqttPassword: "orders-login-pw" },
            emqx,
        );
        const secret = single(run.resources, TYPES.secret);
        assert.strictEqual(secret.state.metadata.namespace, "shop");
        assert.deepStrictEqual(secret.inputs.stringData, { MQTT_USERNAME: "orders", MQTT_PASSWORD: "orders-login-pw" });
        assert.ok(secret.secretPaths.some((p) => p.startsWith("stringData")), `secret paths: ${secret.secretPaths}`);
        assert.ok(!JSON.stringify(kubernetesObjects(run.resources).map((r) => r.inputs)).includes(DASHBOARD_PASSWORD));
    });

    it("refuses half a login", async () => {
        await assert.rejects(
            () => runClientConfig({ emqxStack: EMQX_STACK, appNamespace: "shop", mqttUsername: "orders" }, emqx),
            /set both mqttUsername and mqttPassword/,
        );
    });

    it("warns when the broker authenticates clients and the application has no login", async () => {
        const authenticating = await emqxStackOutputs();
        const run = await runClientConfig({ emqxStack: EMQX_STACK, appNamespace: "shop" }, authenticating);
        assert.strictEqual(run.warnings.length, 1);
        assert.match(run.warnings[0], /authenticates clients \(password \(built-in database\)\).*In the Secret emqx-mqtt-users/);
    });

    it("reads the stack its configuration names", async () => {
        await assert.rejects(
            () => runClientConfig({ emqxStack: "acme/emqx-cluster/prod", appNamespace: "shop" }, emqx),
            /unknown stack "acme\/emqx-cluster\/prod"/,
        );
    });
});
