import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { LOAD_BALANCER_IP, MockEngine, TYPES, isSecret, ofType, valueOf } from "./harness";
import { deploy } from "./deploy";

function serviceNamed(d: Awaited<ReturnType<typeof deploy>>, name: string) {
    const service = ofType(d.resources, TYPES.service).find((s) => s.state.metadata.name === name);
    assert.ok(service, `no Service ${name}`);
    return service.state;
}

const clientService = (d: Awaited<ReturnType<typeof deploy>>) => serviceNamed(d, "emqx");
const dashboardService = (d: Awaited<ReturnType<typeof deploy>>) => serviceNamed(d, "emqx-dashboard");

describe("outputs clients and operators use", () => {
    it("reports the MQTT and dashboard NodePorts Kubernetes allocated, and URLs that use them", async () => {
        const d = await deploy({ externalHost: "broker.lan", dashboard: { service: { type: "NodePort" } } });
        const allocated = (service: Record<string, any>, name: string) => service.spec.ports.find((p: any) => p.name === name).nodePort;
        const mqtt = allocated(clientService(d), "mqtt");
        const dashboard = allocated(dashboardService(d), "dashboard");
        assert.ok(mqtt >= 30000 && dashboard >= 30000 && mqtt !== dashboard);
        assert.strictEqual(await valueOf(d.cluster.nodePort), mqtt);
        assert.strictEqual(await valueOf(d.cluster.dashboardNodePort), dashboard);
        assert.strictEqual(await valueOf(d.cluster.mqttUrl), `mqtt://broker.lan:${mqtt}`);
        assert.strictEqual(await valueOf(d.cluster.dashboardUrl), `http://broker.lan:${dashboard}`);
    });

    it("reports pinned NodePorts and registers them on their Services", async () => {
        const d = await deploy({ nodePorts: { mqtt: 31883 }, dashboard: { service: { type: "NodePort", nodePort: 31808 } } });
        assert.strictEqual(clientService(d).spec.ports.find((p: any) => p.name === "mqtt").nodePort, 31883);
        assert.strictEqual(dashboardService(d).spec.ports.find((p: any) => p.name === "dashboard").nodePort, 31808);
        assert.strictEqual(await valueOf(d.cluster.nodePort), 31883);
        assert.strictEqual(await valueOf(d.cluster.dashboardNodePort), 31808);
        assert.strictEqual(await valueOf(d.cluster.dashboardUrl), "http://localhost:31808");
    });

    it("uses the load balancer's address and the listener ports for LoadBalancer", async () => {
        const d = await deploy({ serviceType: "LoadBalancer", dashboard: { service: { type: "LoadBalancer" } } });
        assert.strictEqual(await valueOf(d.cluster.dashboardUrl), `http://${LOAD_BALANCER_IP}:18083`);
        assert.strictEqual(await valueOf(d.cluster.mqttUrl), `mqtt://${LOAD_BALANCER_IP}:1883`);
    });

    it("keeps the dashboard private by default: its own ClusterIP Service, an in-cluster URL, no NodePort", async () => {
        const d = await deploy({ serviceType: "LoadBalancer", namespace: "iot", clusterDomain: "corp.example" });
        const dashboard = dashboardService(d);
        assert.strictEqual(dashboard.spec.type, "ClusterIP");
        assert.deepStrictEqual(dashboard.spec.ports.map((p: any) => `${p.name}:${p.port}`), ["dashboard:18083"]);
        assert.strictEqual(await valueOf(d.cluster.dashboardNodePort), undefined);
        assert.strictEqual(await valueOf(d.cluster.dashboardUrl), "http://emqx-dashboard.iot.svc.corp.example:18083");
    });

    for (const [version, adminPorts] of [["5.8.9", ["dashboard:18083"]], ["4.4.19", ["dashboard:18083", "api:8081"]]] as const) {
        it(`never carries the dashboard or management API on the client Service (${version})`, async () => {
            const d = await deploy({ version, discovery: "static" });
            assert.deepStrictEqual(
                clientService(d).spec.ports.map((p: any) => `${p.name}:${p.port}`),
                ["mqtt:1883", "mqtts:8883", "ws:8083", "wss:8084"],
            );
            assert.deepStrictEqual(dashboardService(d).spec.ports.map((p: any) => `${p.name}:${p.port}`), adminPorts);
            assert.deepStrictEqual(dashboardService(d).spec.selector, clientService(d).spec.selector);
        });
    }

    it("takes the dashboard Service's type as an Output, e.g. from another resource or config", async () => {
        const d = await deploy({ dashboard: { service: { type: pulumi.output("NodePort" as const), nodePort: pulumi.output(31808) } } });
        assert.strictEqual(dashboardService(d).spec.type, "NodePort");
        assert.strictEqual(await valueOf(d.cluster.dashboardUrl), "http://localhost:31808");
    });

    it("has no NodePorts for ClusterIP and points every URL inside the cluster", async () => {
        const d = await deploy({ serviceType: "ClusterIP", namespace: "iot", clusterDomain: "corp.example" });
        assert.strictEqual(await valueOf(d.cluster.nodePort), undefined);
        assert.strictEqual(await valueOf(d.cluster.mqttUrl), "mqtt://emqx.iot.svc.corp.example:1883");
    });

    it("gives the in-cluster URL, names and namespace", async () => {
        const d = await deploy({ namespace: "iot", clusterDomain: "corp.example" }, { name: "broker" });
        assert.strictEqual(await valueOf(d.cluster.mqttInternalUrl), "mqtt://broker.iot.svc.corp.example:1883");
        assert.strictEqual(await valueOf(d.cluster.headlessServiceName), "broker-headless");
        assert.strictEqual(await valueOf(d.cluster.statefulSetName), "broker");
        assert.strictEqual(await valueOf(d.cluster.namespace), "iot");
    });

    it("generates a dashboard password once, returns it as a secret, and keeps it across updates", async () => {
        const engine = new MockEngine();
        const first = await deploy({}, { engine });
        const password = await valueOf(first.cluster.dashboardPassword);
        assert.match(password, /^[A-Za-z0-9]{32}$/);
        assert.strictEqual(await isSecret(first.cluster.dashboardPassword), true);
        assert.strictEqual(await valueOf(first.cluster.dashboardUsername), "admin");
        const second = await deploy({ replicas: 5 }, { engine });
        assert.strictEqual(await valueOf(second.cluster.dashboardPassword), password);
        const cookie = (d: typeof first) => ofType(d.resources, TYPES.secret).find((s) => s.name === "emqx-credentials")!.state.data["erlang-cookie"];
        assert.strictEqual(cookie(second), cookie(first));
    });

    it("returns a given dashboard password as a secret", async () => {
        const d = await deploy({ dashboard: { username: "ops", password: "hunter2#x" } });
        assert.strictEqual(await valueOf(d.cluster.dashboardPassword), "hunter2#x");
        assert.strictEqual(await isSecret(d.cluster.dashboardPassword), true);
        assert.strictEqual(await valueOf(d.cluster.dashboardUsername), "ops");
    });
});
