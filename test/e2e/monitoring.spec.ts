/**
 * `monitoring` and `ingress` against a real kube-apiserver with the Prometheus Operator's ServiceMonitor and PodMonitor
 * CRDs (installed by scripts/e2e-cluster.sh from the toolchain): the program with a ServiceMonitor and Ingresses for
 * the dashboard and WebSocket converges with the real CLI, the API server stores what the component planned (its
 * CRD schema accepted the ServiceMonitor), the monitor selects exactly the dashboard Service, a switch to a PodMonitor
 * replaces the one object by the other, and destroy removes them.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import { E2eCluster, skipWithoutToolchain, startCluster } from "./cluster";
import { changes, kubectlJson, openProgramStack, removeUnlessKept, waitReady } from "./stacks";

const NAMESPACE = "default";

describe("monitoring and ingress on a real API server", function () {
    let cluster: E2eCluster | undefined;
    let workDir: string | undefined;
    let stack: Stack | undefined;

    before(function () {
        skipWithoutToolchain(this);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-monitoring-"));
        process.env.E2E_PV_SIZES ??= "1 1 1";
        cluster = startCluster(path.join(workDir, "cluster"));
    });

    after(async () => {
        await stack?.destroy().catch(() => undefined);
        cluster?.down();
        removeUnlessKept(workDir);
    });

    it("converges with a ServiceMonitor and Ingresses, switches to a PodMonitor, and destroys them", async () => {
        const live = cluster as E2eCluster;
        const settings = {
            replicas: 1,
            discovery: "static",
            storageClass: "e2e-local",
            storageSize: "256Mi",
            monitoring: "ServiceMonitor",
            monitoringLabels: ["release=kube-prometheus-stack"],
            monitoringInterval: "30s",
            monitoringScrapeTimeout: "10s",
            ingressClassName: "nginx",
            dashboardIngressHost: "emqx.example.com",
            dashboardIngressTlsSecret: "emqx-dashboard-tls",
            wsIngressHost: "mqtt.example.com",
        };
        stack = await openProgramStack(live, path.join(workDir as string, "backend"), "monitoring", settings);
        const up = await stack.up();
        assert.strictEqual(up.summary.result, "succeeded");
        await waitReady(live, NAMESPACE, "emqx", 1);

        const monitor = kubectlJson(live, "-n", NAMESPACE, "get", "servicemonitor", "emqx");
        assert.strictEqual(monitor.metadata.labels.release, "kube-prometheus-stack");
        assert.deepStrictEqual(monitor.spec.endpoints, [
            { port: "dashboard", path: "/api/v5/prometheus/stats", scheme: "http", interval: "30s", scrapeTimeout: "10s" },
        ]);
        // What the operator would scrape: the Services its selector matches, by the port the endpoint names.
        const selector = Object.entries(monitor.spec.selector.matchLabels as Record<string, string>)
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
        const selected = kubectlJson(live, "-n", NAMESPACE, "get", "services", "-l", selector).items;
        assert.deepStrictEqual(selected.map((s: any) => s.metadata.name), ["emqx-dashboard"]);
        assert.ok(selected[0].spec.ports.some((p: any) => p.name === "dashboard" && p.port === 18083));

        const ingresses = kubectlJson(live, "-n", NAMESPACE, "get", "ingresses").items.sort((a: any, b: any) => a.metadata.name.localeCompare(b.metadata.name));
        assert.deepStrictEqual(
            ingresses.map((i: any) => [i.metadata.name, i.spec.ingressClassName, i.spec.rules[0].host, i.spec.rules[0].http.paths[0].path, i.spec.rules[0].http.paths[0].backend.service]),
            [
                ["emqx-dashboard", "nginx", "emqx.example.com", "/", { name: "emqx-dashboard", port: { number: 18083 } }],
                ["emqx-ws", "nginx", "mqtt.example.com", "/mqtt", { name: "emqx", port: { number: 8083 } }],
            ],
        );
        assert.deepStrictEqual(ingresses[0].spec.tls, [{ hosts: ["emqx.example.com"], secretName: "emqx-dashboard-tls" }]);
        const metricsUrls = up.outputs.metricsUrls.value as string[];
        assert.deepStrictEqual(metricsUrls, ["http://emqx-0.emqx-headless.default.svc.cluster.local:18083/api/v5/prometheus/stats"]);

        // Nothing drifts: a second preview changes nothing.
        assert.deepStrictEqual(changes((await stack.preview()).changeSummary), {});

        // The kind is the user's choice: the ServiceMonitor gives way to a PodMonitor; nothing else changes.
        await stack.setConfig("monitoring", { value: "PodMonitor" });
        assert.strictEqual((await stack.up()).summary.result, "succeeded");
        const podMonitor = kubectlJson(live, "-n", NAMESPACE, "get", "podmonitor", "emqx");
        assert.deepStrictEqual(podMonitor.spec.podMetricsEndpoints.map((e: any) => e.port), ["dashboard"]);
        assert.deepStrictEqual(kubectlJson(live, "-n", NAMESPACE, "get", "servicemonitors").items, []);

        await stack.destroy();
        stack = undefined;
        assert.deepStrictEqual(kubectlJson(live, "-n", NAMESPACE, "get", "podmonitors").items, []);
        assert.deepStrictEqual(kubectlJson(live, "-n", NAMESPACE, "get", "ingresses").items, []);
    });
});
