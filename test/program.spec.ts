import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../components/args";
import { ClientConfig } from "../components";
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

    it("is transpiled by swc, not type-checked, when the Node.js host runs it (tsconfig's ts-node section)", () => {
        // @pulumi/pulumi's cmd/run registers ts-node with the project's tsconfig.json and transpileOnly left
        // undefined unless PULUMI_NODEJS_TRANSPILE_ONLY or compilerOptions.noCheck says otherwise; ts-node then
        // takes its options from the tsconfig's "ts-node" section. Type errors are `npm run typecheck`'s to find.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const tsNode = require("ts-node") as typeof import("ts-node");
        const service = tsNode.create({ project: path.join(ROOT, "tsconfig.json"), transpileOnly: undefined, compilerOptions: {} });
        assert.strictEqual(service.options.transpileOnly, true);
        assert.strictEqual(service.options.swc, true);
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

    it("prod keeps the pods on the MQTT pool, spread hard across zones, pulled with a Secret, stopped nodes removed after 2h", async () => {
        const { resources } = await runStack("prod");
        const pod = single(resources, TYPES.statefulSet).state.spec.template.spec;
        assert.deepStrictEqual(pod.nodeSelector, { workload: "mqtt" });
        assert.deepStrictEqual(pod.tolerations, [{ key: "dedicated", operator: "Equal", value: "mqtt", effect: "NoSchedule" }]);
        const zone = pod.topologySpreadConstraints.find((c: any) => c.topologyKey === "topology.kubernetes.io/zone");
        assert.strictEqual(zone.whenUnsatisfiable, "DoNotSchedule");
        assert.strictEqual(zone.labelSelector.matchLabels["app.kubernetes.io/instance"], "emqx");
        assert.strictEqual(pod.priorityClassName, "mqtt-critical");
        assert.deepStrictEqual(pod.imagePullSecrets, [{ name: "registry-credentials" }]);
        assert.strictEqual(pod.terminationGracePeriodSeconds, 120);
        assert.strictEqual(single(resources, TYPES.configMap).state.data.EMQX_CLUSTER__AUTOCLEAN, "2h");
    });

    it("leaves placement, pod and autoclean to the component when the stack sets none", async () => {
        const { resources } = await runStack("dev");
        const pod = single(resources, TYPES.statefulSet).state.spec.template.spec;
        assert.ok(!("nodeSelector" in pod) && !("imagePullSecrets" in pod));
        assert.strictEqual(pod.topologySpreadConstraints[0].whenUnsatisfiable, "ScheduleAnyway");
        assert.strictEqual(single(resources, TYPES.configMap).state.data.EMQX_CLUSTER__AUTOCLEAN, "1h");
    });

    it("prod has a ServiceMonitor for kube-prometheus-stack; dev has none, and no Ingress", async () => {
        const { resources, outputs } = await runStack("prod");
        const monitor = single(resources, TYPES.serviceMonitor).state;
        assert.strictEqual(monitor.metadata.labels.release, "kube-prometheus-stack");
        assert.deepStrictEqual(
            { interval: monitor.spec.endpoints[0].interval, scrapeTimeout: monitor.spec.endpoints[0].scrapeTimeout },
            { interval: "30s", scrapeTimeout: "10s" },
        );
        assert.strictEqual((outputs.metricsUrls as string[]).length, 5);
        const dev = await runStack("dev");
        assert.deepStrictEqual([...ofType(dev.resources, TYPES.serviceMonitor), ...ofType(dev.resources, TYPES.ingress)], []);
    });

    it("creates the Ingresses whose hosts are set, with the class and TLS Secrets, and a PodMonitor with basic auth", async () => {
        const { resources } = await runStack("dev", {
            ingressClassName: "nginx",
            dashboardIngressHost: "emqx.example.com",
            wsIngressHost: "mqtt.example.com",
            wsIngressTlsSecret: "mqtt-tls",
            monitoring: "PodMonitor",
            monitoringBasicAuthSecret: "emqx-metrics",
        });
        const ingresses = ofType(resources, TYPES.ingress).map((r) => r.state.spec);
        assert.deepStrictEqual(ingresses.map((i) => [i.ingressClassName, i.rules[0].host, i.tls?.[0].secretName]).sort(), [
            ["nginx", "emqx.example.com", undefined],
            ["nginx", "mqtt.example.com", "mqtt-tls"],
        ]);
        const monitor = single(resources, TYPES.podMonitor).state;
        assert.strictEqual(monitor.spec.podMetricsEndpoints[0].basicAuth.password.name, "emqx-metrics");
    });

    it("prod serves mqtts and wss with a certificate cert-manager issues for its host; dev keeps the example one", async () => {
        const prod = await runStack("prod");
        const certificate = single(prod.resources, TYPES.certificate).state;
        assert.deepStrictEqual(certificate.spec.issuerRef, { name: "mqtt-ca", kind: "ClusterIssuer", group: "cert-manager.io" });
        assert.ok(certificate.spec.dnsNames.includes("emqx.messaging.svc.cluster.local"));
        assert.ok(certificate.spec.dnsNames.includes("mqtt.example.com"));
        const volumes = single(prod.resources, TYPES.statefulSet).state.spec.template.spec.volumes;
        assert.ok(volumes.some((v: any) => v.secret?.secretName === certificate.spec.secretName));
        assert.strictEqual((prod.outputs.clientConfig as ClientConfig).tls.serverName, "mqtt.example.com");
        assert.deepStrictEqual((prod.outputs.clientConfig as ClientConfig).tls.caSecret, { name: "emqx-tls", key: "ca.crt" });
        assert.deepStrictEqual(prod.warnings, []);
        const dev = await runStack("dev");
        assert.deepStrictEqual(ofType(dev.resources, TYPES.certificate), []);
        assert.ok(!single(dev.resources, TYPES.statefulSet).state.spec.template.spec.volumes.some((v: any) => v.name === "server-tls"));
    });

    it("passes tlsInClusterNames and tlsDnsNames for an issuer of public names", async () => {
        const { resources } = await runStack("prod", { tlsIssuer: "letsencrypt", tlsInClusterNames: false, tlsDnsNames: ["mqtt2.example.com"] });
        assert.deepStrictEqual(single(resources, TYPES.certificate).state.spec.dnsNames, ["mqtt.example.com", "mqtt2.example.com"]);
    });

    it("passes tlsSecretName, tlsCaFromSecret and tlsDashboard to the component", async () => {
        const { resources, outputs } = await runStack("dev", { tlsSecretName: "mqtt-tls", tlsCaFromSecret: true, tlsDashboard: true });
        const volumes = single(resources, TYPES.statefulSet).state.spec.template.spec.volumes;
        assert.ok(volumes.some((v: any) => v.name === "server-tls" && v.secret.secretName === "mqtt-tls"));
        assert.deepStrictEqual((outputs.clientConfig as ClientConfig).tls.caSecret, { name: "mqtt-tls", key: "ca.crt" });
        assert.match(outputs.dashboardUrl as string, /^https:\/\//);
        assert.deepStrictEqual(ofType(resources, TYPES.certificate), []);
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
        // The dev stack keeps the image's example certificate, and is told so.
        const devWarnings = (await runStack("dev")).warnings;
        assert.deepStrictEqual(devWarnings.filter((w) => !/example certificate built into the EMQX image/.test(w)), [], "dev sets externalHost: localhost explicitly");
        assert.strictEqual(devWarnings.length, 1);
        assert.strictEqual(projectFile().config.externalHost.default, "");
    });

    it("refuses a bad stack setting with the component's error", async () => {
        await assert.rejects(() => runStack("dev", { mqttNodePort: 80 }), /nodePorts\.mqtt: 80 is outside the NodePort range/);
    });
});
