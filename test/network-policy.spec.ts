import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EmqxCluster, EmqxClusterArgs } from "../components";
import { MockEngine, RunFailure, TYPES, ofType } from "./harness";
import { assertRefusedBeforeCreating, deploy, problemsOf } from "./deploy";
import { MATRIX } from "./matrix";

const NETWORK_POLICY = TYPES.networkPolicy;

type Rule = { from?: Record<string, any>[]; to?: Record<string, any>[]; ports?: { port: number; protocol: string }[] };

async function policyOf(args: EmqxClusterArgs): Promise<Record<string, any>> {
    const d = await deploy(args);
    const policies = ofType(d.resources, NETWORK_POLICY);
    assert.strictEqual(policies.length, 1, "one NetworkPolicy");
    return policies[0].state;
}

const portsOf = (rule: Rule | undefined) => (rule?.ports ?? []).map((p) => `${p.port}/${p.protocol}`);

/** The ingress rule that opens `port`, and that rule only. */
function ruleFor(policy: Record<string, any>, port: number): Rule | undefined {
    const rules = (policy.spec.ingress as Rule[]).filter((r) => (r.ports ?? []).some((p) => p.port === port));
    assert.ok(rules.length <= 1, `port ${port} is in ${rules.length} rules`);
    return rules[0];
}

const OWN_PODS = [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "emqx", "app.kubernetes.io/instance": "emqx" } } }];
const OFFICE = { ipBlock: { cidr: "203.0.113.0/24" } };
const MONITORING = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } };

describe("NetworkPolicy (networkPolicy)", () => {
    it("is created by default over every pod of the cluster, whatever the volume generation, for ingress only", async () => {
        const policy = await policyOf({ volumeGeneration: 2 });
        assert.strictEqual(policy.metadata.name, "emqx");
        assert.deepStrictEqual(policy.spec.podSelector, { matchLabels: { "app.kubernetes.io/name": "emqx", "app.kubernetes.io/instance": "emqx" } });
        assert.deepStrictEqual(policy.spec.policyTypes, ["Ingress"]);
        assert.strictEqual(policy.spec.egress, undefined);
    });

    it("opens the MQTT listeners to every source, the cluster ports to the cluster's own pods, and nothing else", async () => {
        const policy = await policyOf({});
        const rules = policy.spec.ingress as Rule[];
        assert.strictEqual(rules.length, 2, JSON.stringify(rules));
        assert.deepStrictEqual(ruleFor(policy, 4370), { from: OWN_PODS, ports: [{ port: 4370, protocol: "TCP" }, { port: 5369, protocol: "TCP" }] });
        const mqtt = ruleFor(policy, 1883);
        assert.strictEqual(mqtt?.from, undefined, "MQTT open to every source");
        assert.deepStrictEqual(portsOf(mqtt), ["1883/TCP", "8883/TCP", "8083/TCP", "8084/TCP"]);
        assert.strictEqual(ruleFor(policy, 18083), undefined, "the dashboard is closed by default");
    });

    for (const { version, authentication } of MATRIX) {
        it(`uses the cluster ports of EMQX ${version}, and closes its dashboard and management API`, async () => {
            const policy = await policyOf({ version, discovery: "static", licenseKey: version.startsWith("5.10") ? "key" : undefined, authentication });
            const expected = version.startsWith("v4.2") ? ["4370/TCP", "5370/TCP"] : ["4370/TCP", "5369/TCP"];
            assert.deepStrictEqual(portsOf(ruleFor(policy, 4370)), expected);
            assert.deepStrictEqual(ruleFor(policy, 4370)?.from, OWN_PODS);
            for (const port of [18083, 8081]) {
                assert.strictEqual(ruleFor(policy, port), undefined, `port ${port} open`);
            }
        });
    }

    it("opens the dashboard (and 4.x's management API) to the peers named in networkPolicy.dashboard only", async () => {
        const five = await policyOf({ networkPolicy: { dashboard: [OFFICE] } });
        assert.deepStrictEqual(ruleFor(five, 18083), { from: [OFFICE], ports: [{ port: 18083, protocol: "TCP" }] });
        const four = await policyOf({ version: "4.4.19", networkPolicy: { dashboard: [OFFICE] } });
        assert.deepStrictEqual(ruleFor(four, 18083), { from: [OFFICE], ports: [{ port: 18083, protocol: "TCP" }, { port: 8081, protocol: "TCP" }] });
    });

    it("opens the Prometheus port to the scrapers named in networkPolicy.metrics: 18083 on 5.x, 8081 on 4.x", async () => {
        const five = await policyOf({ networkPolicy: { metrics: [MONITORING] } });
        assert.deepStrictEqual(ruleFor(five, 18083), { from: [MONITORING], ports: [{ port: 18083, protocol: "TCP" }] });
        const four = await policyOf({ version: "4.4.19", networkPolicy: { metrics: [MONITORING] } });
        assert.deepStrictEqual(ruleFor(four, 8081), { from: [MONITORING], ports: [{ port: 8081, protocol: "TCP" }] });
        assert.strictEqual(ruleFor(four, 18083), undefined, "the 4.x dashboard stays closed");
    });

    it("restricts the MQTT listeners to networkPolicy.clients, given as Outputs", async () => {
        const policy = await policyOf({ networkPolicy: { clients: pulumi.output([{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }]) } });
        assert.deepStrictEqual(ruleFor(policy, 1883)?.from, [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }]);
    });

    it("opens only the listeners the client Service exposes", async () => {
        const policy = await policyOf({ service: { listeners: ["mqtts", "wss"] } });
        assert.deepStrictEqual(portsOf(ruleFor(policy, 8883)), ["8883/TCP", "8084/TCP"]);
        assert.strictEqual(ruleFor(policy, 1883), undefined);
        assert.strictEqual(ruleFor(policy, 8083), undefined);
    });

    it("is not created with enabled: false", async () => {
        const d = await deploy({ networkPolicy: { enabled: false, dashboard: [OFFICE] } });
        assert.deepStrictEqual(ofType(d.resources, NETWORK_POLICY), []);
    });

    it("exists before the pods: the StatefulSet depends on it", async () => {
        const d = await deploy({});
        const statefulSet = ofType(d.resources, TYPES.statefulSet)[0];
        const policy = ofType(d.resources, NETWORK_POLICY)[0];
        assert.ok(statefulSet.dependencies.includes(policy.urn), `StatefulSet dependencies: ${statefulSet.dependencies.join(", ")}`);
    });

    describe("egress", () => {
        const egressOf = async (args: EmqxClusterArgs) => (await policyOf(args)).spec;

        it("restricted when networkPolicy.egress is given: DNS, the cluster's own pods, then the given rules", async () => {
            const database = { to: [{ ipBlock: { cidr: "10.20.0.0/16" } }], ports: [{ port: 5432, protocol: "TCP" }, { port: 9092, endPort: 9094 }] };
            const spec = await egressOf({ networkPolicy: { egress: [database] } });
            assert.deepStrictEqual(spec.policyTypes, ["Ingress", "Egress"]);
            assert.deepStrictEqual(spec.egress, [
                { ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
                { to: OWN_PODS, ports: [{ port: 4370, protocol: "TCP" }, { port: 5369, protocol: "TCP" }] },
                database,
            ]);
        });

        it("lets k8s discovery reach the Kubernetes API, and etcd discovery its endpoints' ports", async () => {
            const k8s = await egressOf({ discovery: "k8s", networkPolicy: { egress: [] } });
            assert.deepStrictEqual(k8s.egress[2], { ports: [{ port: 443, protocol: "TCP" }, { port: 6443, protocol: "TCP" }] });
            const etcd = await egressOf({
                discovery: "etcd",
                etcd: { endpoints: ["https://etcd-0.etcd:2379", "https://etcd-1.etcd:2379", "http://etcd-proxy"] },
                networkPolicy: { egress: [] },
            });
            assert.deepStrictEqual(etcd.egress[2], { ports: [{ port: 2379, protocol: "TCP" }, { port: 80, protocol: "TCP" }] });
            assert.strictEqual(etcd.egress.length, 3);
        });
    });

    it("warns when the dashboard Service is exposed but the policy lets no one reach it", async () => {
        const closed = await deploy({ dashboard: { service: { type: "NodePort" } } });
        assert.ok(closed.warnings.some((w) => /dashboard\.service\.type is NodePort, but the NetworkPolicy lets no one reach the dashboard/.test(w)), closed.warnings.join("\n"));
        for (const args of [
            { dashboard: { service: { type: "NodePort" as const } }, networkPolicy: { dashboard: [OFFICE] } },
            { dashboard: { service: { type: "NodePort" as const } }, networkPolicy: { enabled: false } },
            {},
        ]) {
            const d = await deploy(args);
            assert.ok(!d.warnings.some((w) => /lets no one reach the dashboard/.test(w)), JSON.stringify(args));
        }
    });

    it("warns when an Ingress routes to the dashboard, or monitoring asks for scrapes, that the policy keeps out", async () => {
        const ingress = await deploy({ ingress: { dashboard: { host: "emqx.example.com" } } });
        assert.ok(ingress.warnings.some((w) => /^ingress\.dashboard routes to it .* the NetworkPolicy lets no one reach the dashboard/.test(w)), ingress.warnings.join("\n"));
        const scraped = await deploy({ monitoring: {} });
        assert.ok(scraped.warnings.some((w) => /^monitoring asks Prometheus to scrape the pods, but the NetworkPolicy lets no one reach the metrics endpoint/.test(w)), scraped.warnings.join("\n"));
        const monitoringNamespace = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } };
        for (const args of [
            { ingress: { dashboard: { host: "emqx.example.com" } }, networkPolicy: { dashboard: [monitoringNamespace] } },
            { monitoring: {}, networkPolicy: { metrics: [monitoringNamespace] } },
            { monitoring: {}, ingress: { dashboard: {} }, networkPolicy: { enabled: false } },
        ]) {
            const d = await deploy(args);
            assert.ok(!d.warnings.some((w) => /lets no one reach the (dashboard|metrics)/.test(w)), JSON.stringify(args));
        }
    });

    const BAD: { title: string; args: EmqxClusterArgs; field: string; fix: RegExp }[] = [
        { title: "an empty client list", args: { networkPolicy: { clients: [] } }, field: "networkPolicy.clients", fix: /omit it to allow every source/ },
        { title: "a peer list that is no list", args: { networkPolicy: { dashboard: "10.0.0.0/8" as never } }, field: "networkPolicy.dashboard", fix: /list of peers/ },
        { title: "a peer naming no one", args: { networkPolicy: { dashboard: [{}] } }, field: "networkPolicy.dashboard[0]", fix: /podSelector, namespaceSelector or ipBlock/ },
        { title: "an ipBlock with a selector", args: { networkPolicy: { metrics: [{ ipBlock: { cidr: "10.0.0.0/8" }, namespaceSelector: {} }] } }, field: "networkPolicy.metrics[0]", fix: /two peers/ },
        { title: "a CIDR that is an address", args: { networkPolicy: { clients: [{ ipBlock: { cidr: "10.0.0.1" } }] } }, field: "networkPolicy.clients[0].ipBlock.cidr", fix: /not a CIDR/ },
        { title: "an except that is no CIDR", args: { networkPolicy: { clients: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["x"] } }] } }, field: "networkPolicy.clients[0].ipBlock.except[0]", fix: /not a CIDR/ },
        { title: "an ipBlock without cidr (schema)", args: { networkPolicy: { dashboard: [{ ipBlock: {} as never }] } }, field: "networkPolicy.dashboard[0].ipBlock", fix: /cidr/ },
        { title: "a selector of the wrong shape (schema)", args: { networkPolicy: { dashboard: [{ podSelector: { matchLabels: "app=x" as never } }] } }, field: "networkPolicy.dashboard[0].podSelector.matchLabels", fix: /must be object/ },
        { title: "an egress rule port of the wrong type (schema)", args: { networkPolicy: { egress: [{ ports: [{ port: 5432, protocol: "TCPX" as never }] }] } }, field: "networkPolicy.egress[0].ports[0].protocol", fix: /allowed values: .*TCP/ },
        { title: "egress that is no list", args: { networkPolicy: { egress: {} as never } }, field: "networkPolicy.egress", fix: /list of rules/ },
        { title: "enabled that is no boolean", args: { networkPolicy: { enabled: "no" as never } }, field: "networkPolicy.enabled", fix: /true or false/ },
        { title: "networkPolicy that is no object", args: { networkPolicy: [] as never }, field: "networkPolicy", fix: /must be an object/ },
    ];
    for (const { title, args, field, fix } of BAD) {
        it(`refuses ${title}, naming ${field}, before creating anything`, async () => {
            await assertRefusedBeforeCreating(args, field, fix);
        });
    }

    it("refuses networkPolicy or its enabled as an Output: they decide whether the object exists", async () => {
        for (const args of [{ networkPolicy: pulumi.output({ enabled: true }) as never }, { networkPolicy: { enabled: pulumi.output(false) as never } }]) {
            const problems = await problemsOf(args);
            assert.ok(problems.some((p) => /^networkPolicy(\.enabled)?: must be a plain value/.test(p)), problems.join("\n"));
        }
    });

    it("refuses a bad peer given as an Output once known, before the NetworkPolicy or the pods are created", async () => {
        await assert.rejects(
            new MockEngine().run(() => new EmqxCluster("emqx", { networkPolicy: { dashboard: pulumi.output([{ ipBlock: { cidr: "everywhere" } }]) } })),
            (err: unknown) => {
                assert.ok(err instanceof RunFailure, String(err));
                assert.match(err.message, /networkPolicy\.dashboard\[0\]\.ipBlock\.cidr: "everywhere" is not a CIDR/);
                assert.strictEqual(ofType(err.resources, NETWORK_POLICY).length, 0, "a NetworkPolicy was registered");
                assert.strictEqual(ofType(err.resources, TYPES.statefulSet).length, 0, "a StatefulSet was registered");
                return true;
            },
        );
    });
});
