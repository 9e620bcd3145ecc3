import * as assert from "assert";
import { EmqxCluster, EmqxClusterArgs } from "../components";
import { MockEngine, kubernetesObjects } from "./harness";
import { assertRefusedBeforeCreating, deploy } from "./deploy";

/** Bad args, the field the error must name, and a word of the fix it must suggest. */
const BAD_INPUT: { title: string; args: EmqxClusterArgs; name?: string; field: string; fix: RegExp }[] = [
    { title: "zero replicas", args: { replicas: 0 }, field: "replicas", fix: /positive integer/ },
    { title: "fractional replicas", args: { replicas: 2.5 }, field: "replicas", fix: /positive integer/ },
    { title: "an unknown discovery mode", args: { discovery: "kubernetes" as never }, field: "discovery", fix: /dns, k8s, static, etcd, manual/ },
    { title: "a discovery mode that is an object property", args: { discovery: "constructor" as never }, field: "discovery", fix: /use one of/ },
    { title: "a version that is no EMQX tag", args: { version: "latest" }, field: "version", fix: /accepted forms/ },
    { title: "a version outside the supported releases", args: { version: "3.2.0" }, field: "version", fix: /supported releases/ },
    { title: "5.9+ with several nodes and no licence", args: { version: "5.9.1", replicas: 3 }, field: "licenseKey", fix: /SINGLE_NODE_LICENSE.*5\.8\.9/s },
    { title: "a NodePort below the range", args: { nodePorts: { mqtt: 1883 } }, field: "nodePorts.mqtt", fix: /30000-32767/ },
    { title: "a NodePort above the range", args: { nodePorts: { wss: 40000 } }, field: "nodePorts.wss", fix: /30000-32767/ },
    { title: "a dashboard NodePort on the client Service", args: { nodePorts: { dashboard: 31808 } as never }, field: "nodePorts.dashboard", fix: /dashboard: \{ service: \{ type: "NodePort", nodePort: 31808 \} \}/ },
    { title: "an unknown dashboard Service type", args: { dashboard: { service: { type: "Ingress" as never } } }, field: "dashboard.service.type", fix: /ClusterIP, NodePort, LoadBalancer|NodePort, LoadBalancer, ClusterIP/ },
    { title: "a dashboard NodePort on a private dashboard", args: { dashboard: { service: { nodePort: 31808 } } }, field: "dashboard.service.nodePort", fix: /type to "NodePort"/ },
    { title: "a dashboard NodePort outside the range", args: { dashboard: { service: { type: "NodePort", nodePort: 8080 } } }, field: "dashboard.service.nodePort", fix: /30000-32767/ },
    { title: "a dashboard NodePort pinned for MQTT too", args: { nodePorts: { mqtt: 31883 }, dashboard: { service: { type: "NodePort", nodePort: 31883 } } }, field: "dashboard.service.nodePort", fix: /already pinned for nodePorts.mqtt/ },
    { title: "a NodePort pinned twice", args: { nodePorts: { mqtt: 31883, ws: 31883 } }, field: "nodePorts.ws", fix: /already pinned for nodePorts.mqtt/ },
    { title: "NodePorts with a ClusterIP Service", args: { serviceType: "ClusterIP", nodePorts: { mqtt: 31883 } }, field: "nodePorts", fix: /serviceType/ },
    { title: "an invalid StorageClass name", args: { storageClass: "Fast_SSD" }, field: "storageClass", fix: /StorageClass name/ },
    { title: "an invalid namespace", args: { namespace: "IoT.Prod" }, field: "namespace", fix: /namespace name/ },
    { title: "a name too long for pod host names and labels", args: {}, name: "a".repeat(53), field: "name", fix: /at most 52 characters/ },
    { title: "a clusterName that is not a DNS label", args: { clusterName: "9emqx" }, field: "clusterName", fix: /starting with a letter/ },
    { title: "DNS discovery on 4.3, which has no SRV support", args: { version: "4.3.22", discovery: "dns" }, field: "discovery", fix: /"k8s" or "static"/ },
    { title: "manual discovery with several nodes", args: { discovery: "manual", replicas: 3 }, field: "discovery", fix: /replicas to 1/ },
    { title: "etcd discovery without endpoints", args: { discovery: "etcd" }, field: "etcd.endpoints", fix: /at least one/ },
    { title: "etcd settings with another mode", args: { discovery: "dns", etcd: { endpoints: ["http://etcd:2379"] } }, field: "etcd", fix: /remove etcd/ },
    { title: "an invalid storage size", args: { storageSize: "ten gigs" }, field: "storageSize", fix: /1Gi/ },
    { title: "a storage size in bytes", args: { storageSize: "10" }, field: "storageSize", fix: /10 bytes.*at least 20Mi/ },
    { title: "a storage size below what EMQX boots on", args: { storageSize: "19Mi" }, field: "storageSize", fix: /at least 20Mi/ },
    { title: "an externalHost that is a URL", args: { externalHost: "http://mqtt.example.com" }, field: "externalHost", fix: /is a URL; give a host name/ },
    { title: "an externalHost with a port", args: { externalHost: "host:1883" }, field: "externalHost", fix: /has a port/ },
    { title: "a bracketed IPv6 externalHost", args: { externalHost: "[2001:db8::7]" }, field: "externalHost", fix: /without them \(2001:db8::7\)/ },
    { title: "an externalHost with a space", args: { externalHost: "mqtt example" }, field: "externalHost", fix: /neither a host name nor an IP address/ },
    { title: "an empty externalHost", args: { externalHost: "" }, field: "externalHost", fix: /neither a host name/ },
    { title: "a StorageClass without persistence", args: { persistence: false, storageClass: "fast" }, field: "storageClass", fix: /persistence/ },
    { title: "an image with a tag", args: { image: "emqx/emqx:5.8.9" }, field: "image", fix: /tag comes from version/ },
    { title: "a licence key on 4.x", args: { version: "4.4.19", licenseKey: "x" }, field: "licenseKey", fix: /EMQX 5/ },
    { title: "a setting the component owns", args: { emqxConfig: { "cluster.discovery_strategy": "static" } }, field: 'emqxConfig["cluster.discovery_strategy"]', fix: /use discovery/ },
    { title: "an unquoted HOCON value with #", args: { emqxConfig: { "mqtt.client_id_prefix": "a#b" } }, field: 'emqxConfig["mqtt.client_id_prefix"]', fix: /double quotes/ },
    { title: "the replicant role on 5.8+", args: { emqxConfig: { "node.role": "replicant" } }, field: 'emqxConfig["node.role"]', fix: /without a core node.*no core\/replicant topology/ },
    { title: "the replicant role on 5.7, which would leave no core node", args: { version: "5.7.2", emqxConfig: { "node.role": "replicant" } }, field: 'emqxConfig["node.role"]', fix: /without a core node/ },
    {
        title: "a dashboard served over HTTPS only, which the probes cannot reach",
        args: { version: "5.8.9", emqxConfig: { "dashboard.listeners.http.enable": "false", "dashboard.listeners.https.enable": "true" } },
        field: 'emqxConfig["dashboard.listeners.http.enable"]',
        fix: /probes .* never pass/,
    },
    { title: "an unknown service type", args: { serviceType: "Ingress" as never }, field: "serviceType", fix: /NodePort, LoadBalancer, ClusterIP/ },
];

describe("bad input is refused before any Kubernetes object is registered", () => {
    for (const { title, args, name, field, fix } of BAD_INPUT) {
        it(`refuses ${title}, naming ${field}`, async () => {
            await assertRefusedBeforeCreating(args, field, fix, name);
        });
    }

    it("lists every problem at once", async () => {
        await new MockEngine().run(() => {
            assert.throws(
                () => new EmqxCluster("emqx", { replicas: -1, storageSize: "x", nodePorts: { mqtt: 1 } }),
                (err: Error) => ["replicas", "storageSize", "nodePorts.mqtt"].every((f) => err.message.includes(`- ${f}:`)),
            );
        });
    });

    it("allows an even replica count but warns about split brain", async () => {
        const tls = { secretName: "mqtt-tls" };
        const d = await deploy({ replicas: 4, externalHost: "mqtt.example.com", tls });
        assert.strictEqual(d.warnings.length, 1);
        assert.match(d.warnings[0], /split brain.*prefer 5/);
        assert.deepStrictEqual((await deploy({ replicas: 3, externalHost: "mqtt.example.com", tls })).warnings, []);
    });

    it("accepts the longest name that fits", async () => {
        const d = await deploy({}, { name: "a".repeat(52) });
        assert.ok(kubernetesObjects(d.resources).length > 0);
    });
});
