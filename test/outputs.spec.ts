import * as assert from "assert";
import { LOAD_BALANCER_IP, MockEngine, TYPES, isSecret, ofType, valueOf } from "./harness";
import { deploy } from "./deploy";

function clientService(d: Awaited<ReturnType<typeof deploy>>) {
    const client = ofType(d.resources, TYPES.service).find((s) => s.state.spec.clusterIP !== "None");
    assert.ok(client);
    return client.state;
}

describe("outputs clients and operators use", () => {
    it("reports the MQTT and dashboard NodePorts Kubernetes allocated, and URLs that use them", async () => {
        const d = await deploy({ externalHost: "broker.lan" });
        const ports = clientService(d).spec.ports;
        const allocated = (name: string) => ports.find((p: any) => p.name === name).nodePort;
        assert.ok(allocated("mqtt") >= 30000);
        assert.strictEqual(await valueOf(d.cluster.nodePort), allocated("mqtt"));
        assert.strictEqual(await valueOf(d.cluster.dashboardNodePort), allocated("dashboard"));
        assert.strictEqual(await valueOf(d.cluster.mqttUrl), `mqtt://broker.lan:${allocated("mqtt")}`);
        assert.strictEqual(await valueOf(d.cluster.dashboardUrl), `http://broker.lan:${allocated("dashboard")}`);
    });

    it("reports pinned NodePorts and registers them on the Service", async () => {
        const d = await deploy({ nodePorts: { mqtt: 31883, dashboard: 31808 } });
        const ports = clientService(d).spec.ports;
        assert.strictEqual(ports.find((p: any) => p.name === "mqtt").nodePort, 31883);
        assert.strictEqual(await valueOf(d.cluster.nodePort), 31883);
        assert.strictEqual(await valueOf(d.cluster.dashboardUrl), "http://localhost:31808");
    });

    it("uses the load balancer's address and the listener ports for LoadBalancer", async () => {
        const d = await deploy({ serviceType: "LoadBalancer" });
        assert.strictEqual(await valueOf(d.cluster.dashboardUrl), `http://${LOAD_BALANCER_IP}:18083`);
        assert.strictEqual(await valueOf(d.cluster.mqttUrl), `mqtt://${LOAD_BALANCER_IP}:1883`);
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
