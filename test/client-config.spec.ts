import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ClientConfig, EmqxClusterArgs } from "../components";
import { ResolvedArgs } from "../components/checks";
import { planCluster } from "../components/plan";
import { ExternalEndpoints, buildClientConfig } from "../components/client-config";
import { LOAD_BALANCER_IP, MockEngine, TYPES, isSecret, ofType, valueOf } from "./harness";
import { deploy } from "./deploy";
import { runProgram, stackConfig } from "./stack-config";

async function clientConfigOf(args: EmqxClusterArgs, name?: string) {
    const d = await deploy(args, { name });
    const config = await valueOf(d.cluster.clientConfig);
    const client = ofType(d.resources, TYPES.service).find((s) => s.state.spec.clusterIP !== "None")!;
    const nodePort = (listener: string) => client.state.spec.ports.find((p: any) => p.name === listener).nodePort;
    return { d, config, nodePort };
}

const SOME_ENDPOINTS: ExternalEndpoints = {
    mqtt: { host: "broker.lan", port: 31883 },
    mqtts: { host: "broker.lan", port: 31884 },
    ws: { host: "broker.lan", port: 31885 },
    wss: { host: "broker.lan", port: 31886 },
};

function configFor(args: EmqxClusterArgs): ClientConfig {
    return buildClientConfig(planCluster("emqx", args as ResolvedArgs), SOME_ENDPOINTS);
}

describe("client configuration (clientConfig output)", () => {
    it("gives every listener's URL through the NodePorts Kubernetes allocated, and in-cluster", async () => {
        const { d, config, nodePort } = await clientConfigOf({ externalHost: "broker.lan", namespace: "iot" });
        const { mqtt, mqtts, ws, wss } = config.listeners;
        assert.ok(mqtt && mqtts && ws && wss, "a listener is missing");
        assert.strictEqual(mqtt.external.url, `mqtt://broker.lan:${nodePort("mqtt")}`);
        assert.strictEqual(mqtts.external.url, `mqtts://broker.lan:${nodePort("mqtts")}`);
        assert.strictEqual(ws.external.url, `ws://broker.lan:${nodePort("ws")}/mqtt`);
        assert.strictEqual(wss.external.url, `wss://broker.lan:${nodePort("wss")}/mqtt`);
        assert.deepStrictEqual(
            [mqtt, mqtts, ws, wss].map((l) => l.internal.url),
            [
                "mqtt://emqx.iot.svc.cluster.local:1883",
                "mqtts://emqx.iot.svc.cluster.local:8883",
                "ws://emqx.iot.svc.cluster.local:8083/mqtt",
                "wss://emqx.iot.svc.cluster.local:8084/mqtt",
            ],
        );
        assert.deepStrictEqual([mqtt, mqtts, ws, wss].map((l) => l.tls), [false, true, false, true]);
        assert.deepStrictEqual([mqtt, mqtts, ws, wss].map((l) => l.path), [undefined, undefined, "/mqtt", "/mqtt"]);
        assert.deepStrictEqual(wss.external, { url: wss.external.url, host: "broker.lan", port: nodePort("wss") });
        assert.strictEqual(config.externallyReachable, true);
        // The headline URLs are the ones the component already outputs.
        assert.strictEqual(config.url, await valueOf(d.cluster.mqttUrl));
        assert.strictEqual(config.internalUrl, await valueOf(d.cluster.mqttInternalUrl));
    });

    it("uses pinned NodePorts", async () => {
        const { config } = await clientConfigOf({ nodePorts: { mqtts: 30883, wss: 30884 } });
        assert.strictEqual(config.listeners.mqtts!.external.url, "mqtts://localhost:30883");
        assert.strictEqual(config.listeners.wss!.external.url, "wss://localhost:30884/mqtt");
    });

    it("uses the load balancer's address and the listener ports for LoadBalancer", async () => {
        const { config } = await clientConfigOf({ serviceType: "LoadBalancer" });
        assert.strictEqual(config.listeners.mqtts!.external.url, `mqtts://${LOAD_BALANCER_IP}:8883`);
        assert.strictEqual(config.listeners.ws!.external.url, `ws://${LOAD_BALANCER_IP}:8083/mqtt`);
        assert.strictEqual(config.externallyReachable, true);
    });

    it("says a ClusterIP cluster is not reachable from outside, and points every URL inside the cluster", async () => {
        const { config } = await clientConfigOf({ serviceType: "ClusterIP", clusterDomain: "corp.example" }, "broker");
        assert.strictEqual(config.externallyReachable, false);
        for (const listener of Object.values(config.listeners)) {
            assert.deepStrictEqual(listener.external, listener.internal);
        }
        assert.strictEqual(config.listeners.wss!.external.url, "wss://broker.default.svc.corp.example:8084/mqtt");
    });

    it("brackets an IPv6 external address in URLs", () => {
        const config = buildClientConfig(planCluster("emqx", {}), { ...SOME_ENDPOINTS, mqtt: { host: "2001:db8::7", port: 31883 } });
        assert.strictEqual(config.url, "mqtt://[2001:db8::7]:31883");
        assert.strictEqual(config.listeners.mqtt!.external.host, "2001:db8::7");
    });

    it("offers no CA for EMQX's built-in example certificate and says how to connect over TLS", () => {
        const { tls } = configFor({ namespace: "iot" });
        assert.strictEqual(tls.caCertificate, undefined);
        assert.match(tls.note, /example certificate built into the EMQX image/);
        assert.match(tls.note, /kubectl -n iot exec emqx-0 -- cat \/opt\/emqx\/etc\/certs\/cacert\.pem/);
    });

    it("points to emqxConfig when the TLS listeners are configured there", () => {
        const { tls } = configFor({ emqxConfig: { "listeners.ssl.default.ssl_options.certfile": "/certs/tls.crt" } });
        assert.strictEqual(tls.caCertificate, undefined);
        assert.match(tls.note, /configured through emqxConfig \(listeners\.ssl\.default\.ssl_options\.certfile\)/);
        assert.doesNotMatch(tls.note, /built into the EMQX image/);
    });

    it("says clients connect anonymously when allowed and nothing is configured, per EMQX major version", () => {
        const anonymous = { authentication: { allowAnonymous: true } };
        const v5 = configFor(anonymous).auth;
        assert.strictEqual(v5.authentication, "none configured (anonymous allowed)");
        assert.match(v5.credentials, /Access Control > Authentication/);
        const v4 = configFor({ ...anonymous, version: "4.4.19" }).auth;
        assert.strictEqual(v4.authentication, "none configured (anonymous allowed)");
        assert.match(v4.credentials, /auth plugins/);
    });

    it("names the emqxConfig settings that configure authentication", () => {
        const v5 = configFor({
            authentication: { allowAnonymous: true },
            emqxConfig: { "authentication.1.mechanism": "password_based", "authentication.1.backend": "built_in_database" },
        }).auth;
        assert.strictEqual(
            v5.authentication,
            "configured through emqxConfig (authentication.1.backend, authentication.1.mechanism)",
        );
        const v4 = configFor({ version: "4.4.19", authentication: { allowAnonymous: true }, emqxConfig: { allow_anonymous: "false" } }).auth;
        assert.strictEqual(v4.authentication, "configured through emqxConfig (allow_anonymous)");
        assert.strictEqual(v4.anonymousAllowed, false);
    });

    it("never carries the dashboard admin password, and is not a secret", async () => {
        const { d, config } = await clientConfigOf({ dashboard: { username: "broker-admin", password: "dashboard-only-pw" } });
        assert.ok(!JSON.stringify(config).includes("dashboard-only-pw"));
        assert.ok(!JSON.stringify(config).includes("broker-admin"), "the dashboard user is not an MQTT login either");
        assert.strictEqual(await isSecret(d.cluster.clientConfig), false);
    });

    it("is a stack output of the program", async () => {
        const run = await new MockEngine().run(runProgram, { config: stackConfig("prod") });
        const outputs = run.value as Record<string, pulumi.Output<unknown>>;
        const config = (await valueOf(outputs.clientConfig)) as ClientConfig;
        assert.strictEqual(config.url, await valueOf(outputs.mqttUrl));
        assert.strictEqual(config.listeners.mqtts!.external.host, "mqtt.example.com");
    });
});
