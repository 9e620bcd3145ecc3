/** `monitoring` and `ingress`: the Prometheus Operator scrape object and the Ingresses of the HTTP listeners. */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EmqxClusterArgs } from "../components";
import { durationMs } from "../components/monitoring";
import { TYPES, ofType, valueOf } from "./harness";
import { containerOf, deploy, problemsOf } from "./deploy";

const GENERATION_PODS = {
    "app.kubernetes.io/name": "emqx",
    "app.kubernetes.io/instance": "emqx",
    "emqx.pulumi.io/volume-generation": "0",
};

const MONITOR_TYPES: string[] = [TYPES.serviceMonitor, TYPES.podMonitor];

function monitorsOf(resources: Awaited<ReturnType<typeof deploy>>["resources"]) {
    return resources.filter((r) => MONITOR_TYPES.includes(r.type));
}

function monitorOf(d: Awaited<ReturnType<typeof deploy>>): Record<string, any> {
    const monitors = monitorsOf(d.resources);
    assert.strictEqual(monitors.length, 1, `expected one monitor, got ${monitors.map((m) => m.type)}`);
    return monitors[0].state;
}

function ingressesOf(d: Awaited<ReturnType<typeof deploy>>): Record<string, any>[] {
    return ofType(d.resources, TYPES.ingress)
        .map((r) => r.state)
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function servicesByName(d: Awaited<ReturnType<typeof deploy>>): Record<string, Record<string, any>> {
    return Object.fromEntries(ofType(d.resources, TYPES.service).map((r) => [r.state.metadata.name, r.state]));
}

/** Whether a label selector's matchLabels select an object with these labels. */
function selects(matchLabels: Record<string, string>, labels: Record<string, string>): boolean {
    return Object.entries(matchLabels).every(([k, v]) => labels?.[k] === v);
}

describe("monitoring: a Prometheus Operator scrape object on the version's metrics endpoint", () => {
    it("creates none unless asked, and keeps the scrape annotations for annotation-based scrapers", async () => {
        const d = await deploy({});
        assert.deepStrictEqual(monitorsOf(d.resources), []);
        const annotations = d.spec(TYPES.statefulSet).spec.template.metadata.annotations;
        assert.strictEqual(annotations["prometheus.io/path"], "/api/v5/prometheus/stats");
        const withMonitor = await deploy({ monitoring: {} });
        assert.deepStrictEqual(withMonitor.spec(TYPES.statefulSet).spec.template.metadata.annotations, annotations);
    });

    it("5.x: a ServiceMonitor that selects only the dashboard Service and scrapes /api/v5/prometheus/stats on its dashboard port", async () => {
        const d = await deploy({ monitoring: { labels: { release: "kube-prometheus-stack" }, interval: "30s", scrapeTimeout: "10s" } });
        const monitor = monitorOf(d);
        assert.strictEqual(monitor.apiVersion, "monitoring.coreos.com/v1");
        assert.strictEqual(monitor.kind, "ServiceMonitor");
        assert.strictEqual(monitor.metadata.name, "emqx");
        assert.strictEqual(monitor.metadata.namespace, "default");
        assert.strictEqual(monitor.metadata.labels.release, "kube-prometheus-stack");
        assert.strictEqual(monitor.metadata.labels["app.kubernetes.io/instance"], "emqx");
        assert.deepStrictEqual(monitor.spec.endpoints, [
            { port: "dashboard", path: "/api/v5/prometheus/stats", scheme: "http", interval: "30s", scrapeTimeout: "10s" },
        ]);
        // Exactly one Service matches, so each pod is scraped once; and it has the port the endpoint names.
        const services = Object.values(servicesByName(d)).filter((s) => selects(monitor.spec.selector.matchLabels, s.metadata.labels));
        assert.deepStrictEqual(services.map((s) => s.metadata.name), ["emqx-dashboard"]);
        assert.ok(services[0].spec.ports.some((p: any) => p.name === "dashboard" && p.port === 18083));
        assert.ok(selects(services[0].spec.selector, GENERATION_PODS));
    });

    it("4.x: scrapes the management port with type=prometheus and loads the emqx_prometheus plugin next to the image's default plugins", async () => {
        const d = await deploy({ version: "4.4.19", discovery: "k8s", monitoring: {} });
        const [endpoint] = monitorOf(d).spec.endpoints;
        assert.deepStrictEqual(endpoint, { port: "api", path: "/api/v4/emqx_prometheus", params: { type: ["prometheus"] }, scheme: "http" });
        const settings = d.spec(TYPES.configMap).data;
        // With client authentication on (the default), both plugins the component's features need.
        assert.strictEqual(
            settings.EMQX_LOADED_PLUGINS,
            "emqx_management,emqx_dashboard,emqx_recon,emqx_retainer,emqx_rule_engine,emqx_telemetry,emqx_prometheus,emqx_auth_mnesia",
        );
        const anonymous = await deploy({ version: "4.4.19", discovery: "k8s", monitoring: {}, authentication: { allowAnonymous: true } });
        assert.strictEqual(
            anonymous.spec(TYPES.configMap).data.EMQX_LOADED_PLUGINS,
            "emqx_management,emqx_dashboard,emqx_recon,emqx_retainer,emqx_rule_engine,emqx_telemetry,emqx_prometheus",
        );
        const dashboard = servicesByName(d)["emqx-dashboard"];
        assert.ok(dashboard.spec.ports.some((p: any) => p.name === "api" && p.port === 8081));
        // Without monitoring the plugin is not loaded, and nothing claims the endpoint answers.
        const plain = await deploy({ version: "4.4.19", discovery: "k8s", authentication: { allowAnonymous: true } });
        assert.ok(!("EMQX_LOADED_PLUGINS" in plain.spec(TYPES.configMap).data));
        assert.deepStrictEqual(await valueOf(plain.cluster.metricsUrls), []);
        const plainAnnotations = plain.spec(TYPES.statefulSet).spec.template.metadata.annotations ?? {};
        assert.deepStrictEqual(Object.keys(plainAnnotations).filter((k) => k.startsWith("prometheus.io/")), []);
    });

    it("4.x: annotation-based scrapers get the path without its query, and the query as prometheus.io/param_type", async () => {
        // A scraper puts prometheus.io/path into the URL's path, where "?" would be escaped to %3F.
        const d = await deploy({ version: "4.4.19", discovery: "k8s", monitoring: {} });
        const annotations = d.spec(TYPES.statefulSet).spec.template.metadata.annotations;
        assert.deepStrictEqual(
            Object.fromEntries(Object.entries(annotations).filter(([k]) => k.startsWith("prometheus.io/"))),
            {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "8081",
                "prometheus.io/path": "/api/v4/emqx_prometheus",
                "prometheus.io/param_type": "prometheus",
            },
        );
    });

    it("4.0-4.1: the default plugins of those images, without emqx_telemetry, and a warning that the image rewrites the plugin list", async () => {
        const d = await deploy({ version: "v4.1.5", discovery: "k8s", monitoring: { basicAuth: { secretName: "app" } }, authentication: { allowAnonymous: true } });
        assert.strictEqual(d.spec(TYPES.configMap).data.EMQX_LOADED_PLUGINS, "emqx_management,emqx_dashboard,emqx_recon,emqx_retainer,emqx_rule_engine,emqx_prometheus");
        assert.ok(d.warnings.some((w) => /^monitoring: the EMQX 4\.1\.5 image rewrites data\/loaded_plugins/.test(w)), JSON.stringify(d.warnings));
        const merged = await deploy({ version: "v4.2.14", discovery: "k8s", monitoring: { basicAuth: { secretName: "app" } }, authentication: { allowAnonymous: true } });
        assert.ok(!merged.warnings.some((w) => w.startsWith("monitoring:")));
    });

    it("a PodMonitor on the pods' named container port when asked", async () => {
        const d = await deploy({ monitoring: { kind: "PodMonitor" } });
        const monitor = monitorOf(d);
        assert.strictEqual(monitor.kind, "PodMonitor");
        assert.deepStrictEqual(monitor.spec.selector.matchLabels, GENERATION_PODS);
        assert.deepStrictEqual(monitor.spec.podMetricsEndpoints, [{ port: "dashboard", path: "/api/v5/prometheus/stats", scheme: "http" }]);
        assert.ok(containerOf(d).ports.some((p: any) => p.name === "dashboard" && p.containerPort === 18083));
    });

    it("takes basic auth from a Secret by reference, never as a value", async () => {
        const d = await deploy({
            emqxConfig: { "prometheus.enable_basic_auth": "true" },
            monitoring: { basicAuth: { secretName: "emqx-metrics", usernameKey: "key", passwordKey: "secret" } },
        });
        const [endpoint] = monitorOf(d).spec.endpoints;
        assert.deepStrictEqual(endpoint.basicAuth, { username: { name: "emqx-metrics", key: "key" }, password: { name: "emqx-metrics", key: "secret" } });
        const defaults = await deploy({ version: "4.4.5", discovery: "k8s", monitoring: { basicAuth: { secretName: "app" } } });
        assert.deepStrictEqual(monitorOf(defaults).spec.endpoints[0].basicAuth, { username: { name: "app", key: "username" }, password: { name: "app", key: "password" } });
    });

    it("takes labels and timings as Outputs, with the same object as plain values", async () => {
        const plain = monitorOf(await deploy({ monitoring: { labels: { release: "p" }, interval: "1m" } }));
        const outputs = monitorOf(await deploy({ monitoring: { labels: pulumi.output({ release: "p" }), interval: pulumi.output("1m") } }));
        assert.deepStrictEqual(outputs, plain);
    });

    it("waits for the dashboard Service it selects", async () => {
        const d = await deploy({ monitoring: {} });
        const [monitor] = monitorsOf(d.resources);
        const dashboard = ofType(d.resources, TYPES.service).find((s) => s.state.metadata.name === "emqx-dashboard")!;
        assert.ok(monitor.dependencies.includes(dashboard.urn));
    });

    it("metricsUrls: every node's metrics URL inside the cluster", async () => {
        const d = await deploy({ namespace: "messaging" });
        assert.deepStrictEqual(await valueOf(d.cluster.metricsUrls), [0, 1, 2].map((i) => `http://emqx-${i}.emqx-headless.messaging.svc.cluster.local:18083/api/v5/prometheus/stats`));
        const v4 = await deploy({ version: "4.4.19", discovery: "k8s", replicas: 1, monitoring: {} });
        assert.deepStrictEqual(await valueOf(v4.cluster.metricsUrls), ["http://emqx-0.emqx-headless.default.svc.cluster.local:8081/api/v4/emqx_prometheus?type=prometheus"]);
    });

    it("reads Prometheus durations as the operator's pattern does", () => {
        assert.strictEqual(durationMs("1m30s"), 90_000);
        assert.strictEqual(durationMs("500ms"), 500);
        assert.strictEqual(durationMs("1h"), 3_600_000);
        for (const bad of ["", "30", "1.5s", "30 s", "-1s"]) {
            assert.strictEqual(durationMs(bad), undefined, bad);
        }
    });
});

describe("ingress: the dashboard and MQTT over WebSocket behind an Ingress", () => {
    it("creates none unless asked", async () => {
        assert.deepStrictEqual(ingressesOf(await deploy({})), []);
    });

    it("routes the dashboard to the dashboard Service's 18083 and ws to the client Service's 8083, with host, class, annotations and TLS", async () => {
        const d = await deploy({
            ingress: {
                dashboard: { host: "emqx.example.com", ingressClassName: "nginx", tlsSecretName: "emqx-dashboard-tls", annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" } },
                ws: { host: "mqtt.example.com", ingressClassName: "nginx", tlsSecretName: "mqtt-tls", annotations: { "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600" } },
            },
        });
        const [dashboard, ws] = ingressesOf(d);
        assert.strictEqual(dashboard.metadata.name, "emqx-dashboard");
        assert.deepStrictEqual(dashboard.metadata.annotations, { "cert-manager.io/cluster-issuer": "letsencrypt", "pulumi.com/skipAwait": "true" });
        assert.deepStrictEqual(dashboard.spec, {
            ingressClassName: "nginx",
            tls: [{ hosts: ["emqx.example.com"], secretName: "emqx-dashboard-tls" }],
            rules: [{ host: "emqx.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "emqx-dashboard", port: { number: 18083 } } } }] } }],
        });
        assert.strictEqual(ws.metadata.name, "emqx-ws");
        assert.deepStrictEqual(ws.spec.rules, [
            { host: "mqtt.example.com", http: { paths: [{ path: "/mqtt", pathType: "Prefix", backend: { service: { name: "emqx", port: { number: 8083 } } } }] } },
        ]);
        const services = servicesByName(d);
        assert.ok(services["emqx"].spec.ports.some((p: any) => p.port === 8083));
        assert.ok(services["emqx-dashboard"].spec.ports.some((p: any) => p.port === 18083));
    });

    it("one Ingress alone, without host or TLS, answers every host", async () => {
        const [ws] = ingressesOf(await deploy({ ingress: { ws: {} } }));
        assert.deepStrictEqual(ws.spec, { rules: [{ http: { paths: [{ path: "/mqtt", pathType: "Prefix", backend: { service: { name: "emqx", port: { number: 8083 } } } }] } }] });
    });

    it("takes route fields as Outputs", async () => {
        const [dashboard] = ingressesOf(await deploy({ ingress: { dashboard: { host: pulumi.output("emqx.example.com"), path: pulumi.output("/") } } }));
        assert.strictEqual(dashboard.spec.rules[0].host, "emqx.example.com");
    });
});

const REFUSED: [string, EmqxClusterArgs, RegExp][] = [
    ["raw MQTT behind an Ingress", { ingress: { mqtt: { host: "mqtt.example.com" } } as never }, /^ingress\.mqtt: refused: MQTT over TCP is not HTTP: .*no Ingress controller can carry it; expose it with serviceType LoadBalancer or NodePort$/],
    ["MQTT over TLS behind an Ingress", { ingress: { mqtts: {} } as never }, /^ingress\.mqtts: refused: MQTT over TLS is not HTTP/],
    ["wss behind an Ingress", { ingress: { wss: {} } as never }, /^ingress\.wss: refused: .*use ingress\.ws with tlsSecretName/],
    ["an unknown route", { ingress: { api: {} } as never }, /^ingress\.api: unknown; an Ingress can carry dashboard and ws$/],
    ["a ws path that does not lead to /mqtt", { ingress: { ws: { path: "/ws" } } }, /^ingress\.ws\.path: "\/ws" does not lead to \/mqtt: EMQX answers MQTT over WebSocket on \/mqtt only/],
    ["a host with a scheme", { ingress: { dashboard: { host: "https://emqx.example.com" } } }, /^ingress\.dashboard\.host: "https:\/\/emqx\.example\.com" is not a host name/],
    ["a relative path", { ingress: { dashboard: { path: "dashboard" } } }, /^ingress\.dashboard\.path: "dashboard" must be a path starting with '\/'$/],
    ["an invalid ingress class", { ingress: { dashboard: { ingressClassName: "Nginx Class" } } }, /^ingress\.dashboard\.ingressClassName: "Nginx Class" is not an IngressClass name/],
    ["an invalid TLS Secret name", { ingress: { ws: { tlsSecretName: "My_Cert" } } }, /^ingress\.ws\.tlsSecretName: "My_Cert" is not a Secret name/],
    ["a pulumi.com/ annotation on an Ingress", { ingress: { ws: { annotations: { "pulumi.com/skipAwait": "false" } } } }, /^ingress\.ws\.annotations\["pulumi\.com\/skipAwait"\]: pulumi\.com\/ annotations are the component's/],
    ["the dashboard and ws on the same host and path", { ingress: { dashboard: { host: "e.example.com", path: "/" }, ws: { host: "e.example.com", path: "/" } } }, /^ingress\.ws\.path: "\/" on host e\.example\.com is the dashboard's too/],
    ["an unknown monitor kind", { monitoring: { kind: "Probe" as never } }, /^monitoring\.kind: "Probe" must be one of ServiceMonitor, PodMonitor$/],
    ["an interval that is no duration", { monitoring: { interval: "30" } }, /^monitoring\.interval: "30" is not a Prometheus duration/],
    ["a scrape timeout longer than the interval", { monitoring: { interval: "15s", scrapeTimeout: "1m" } }, /^monitoring\.scrapeTimeout: 1m is longer than interval 15s, which Prometheus refuses/],
    ["a monitor label the component sets", { monitoring: { labels: { "app.kubernetes.io/instance": "x" } } }, /^monitoring\.labels\["app\.kubernetes\.io\/instance"\]: the component sets it/],
    ["a monitor label value that is no label value", { monitoring: { labels: { release: "kube prometheus" } } }, /^monitoring\.labels\["release"\]: "kube prometheus" is not a label value/],
    ["a basic auth Secret that is no Secret name", { monitoring: { basicAuth: { secretName: "Metrics Auth" } } }, /^monitoring\.basicAuth\.secretName: "Metrics Auth" is not a Secret name/],
    ["a basic auth key that is no Secret key", { monitoring: { basicAuth: { secretName: "m", passwordKey: "pass word" } } }, /^monitoring\.basicAuth\.passwordKey: "pass word" is not a Secret key/],
    [
        "5.4+ with prometheus.enable_basic_auth and no credentials",
        { emqxConfig: { "prometheus.enable_basic_auth": "true" }, monitoring: {} },
        /^monitoring\.basicAuth: required: emqxConfig sets prometheus\.enable_basic_auth = true, so every scrape would get 401; create a Secret with an API key/,
    ],
    ["5.0.0 without credentials", { version: "5.0.0", monitoring: {} }, /^monitoring\.basicAuth: required: EMQX 5\.0\.0 answers its metrics endpoint only to authenticated requests/],
    ["4.4 before 4.4.11 without credentials", { version: "4.4.10", discovery: "k8s", monitoring: {} }, /^monitoring\.basicAuth: required: EMQX 4\.4\.10 .* a management application's AppID and AppSecret/],
    ["4.3 before 4.3.22 without credentials", { version: "4.3.21", discovery: "k8s", monitoring: {} }, /^monitoring\.basicAuth: required: EMQX 4\.3\.21 /],
    ["4.0-4.2 without credentials", { version: "v4.2.14", discovery: "k8s", monitoring: {} }, /^monitoring\.basicAuth: required: EMQX 4\.2\.14 /],
    ["a plugin list next to 4.x monitoring", { version: "4.4.19", discovery: "k8s", emqxConfig: { loaded_plugins: "emqx_auth_mnesia" }, monitoring: {} }, /^emqxConfig\["loaded_plugins"\]: monitoring loads emqx_prometheus/],
    ["EMQX_LOADED_PLUGINS in containers.env next to 4.x monitoring", { version: "4.4.19", discovery: "k8s", containers: { env: [{ name: "EMQX_LOADED_PLUGINS", value: "x" }] }, monitoring: {} }, /^containers\.env\[0\]: EMQX_LOADED_PLUGINS is set by the component/],
    [
        "a ServiceMonitor next to an HTTPS-only dashboard Service (5.x)",
        { tls: { secretName: "mqtt-tls", dashboard: true }, monitoring: {} },
        /^monitoring\.kind: a ServiceMonitor scrapes the dashboard Service, which with tls\.dashboard carries only HTTPS \(18084\).*set monitoring\.kind to PodMonitor/,
    ],
    ["monitoring given as an Output", { monitoring: pulumi.output({}) as never }, /^monitoring: must be a plain value, not an Output/],
    ["an Ingress route given as an Output", { ingress: { ws: pulumi.output({}) as never } }, /^ingress\.ws: must be a plain value, not an Output/],
];

describe("monitoring and ingress values that are refused before any object is created", () => {
    for (const [title, args, message] of REFUSED) {
        it(`refuses ${title}`, async () => {
            const problems = await problemsOf(args);
            assert.ok(problems.some((p) => message.test(p)), `no problem matches ${message}: ${JSON.stringify(problems)}`);
        });
    }

    it("scrapes the pods' plain metrics port with a PodMonitor when the dashboard Service carries HTTPS only", async () => {
        const d = await deploy({ tls: { secretName: "mqtt-tls", dashboard: true }, monitoring: { kind: "PodMonitor" } });
        assert.deepStrictEqual(monitorOf(d).spec.podMetricsEndpoints, [{ port: "dashboard", path: "/api/v5/prometheus/stats", scheme: "http" }]);
        const container = d.spec(TYPES.statefulSet).spec.template.spec.containers[0];
        assert.ok(container.ports.some((p: any) => p.name === "dashboard" && p.containerPort === 18083));
    });

    it("needs no credentials where the release serves its metrics openly", async () => {
        for (const version of ["5.0.1", "5.3.2", "5.8.9", "4.4.11", "4.3.22"]) {
            const d = await deploy({ version, discovery: "k8s", monitoring: {} });
            assert.ok(!("basicAuth" in monitorOf(d).spec.endpoints[0]), version);
        }
    });

    it("refuses a missing basic auth once an emqxConfig Output is known", async () => {
        const problems = await problemsOf({ emqxConfig: pulumi.output({ "prometheus.enable_basic_auth": "true" }), monitoring: {} });
        assert.ok(problems.some((p) => p.startsWith("monitoring.basicAuth: required")), JSON.stringify(problems));
    });

    it("refuses an Ingress host given as an Output once it is known", async () => {
        const problems = await problemsOf({ ingress: { dashboard: { host: pulumi.output("Not A Host") } } });
        assert.ok(problems.some((p) => p.startsWith("ingress.dashboard.host:")), JSON.stringify(problems));
    });

    it("names only the Output itself when monitoring or ingress is one", async () => {
        const problems = await problemsOf({ monitoring: pulumi.output({ kind: "PodMonitor" }) as never, ingress: pulumi.output({ ws: {} }) as never });
        assert.deepStrictEqual(problems.map((p) => p.split(":")[0]).sort(), ["ingress", "monitoring"]);
    });

    it("lists every problem of both args at once", async () => {
        const problems = await problemsOf({ ingress: { mqtt: {} } as never, monitoring: { kind: "Nope" as never } });
        assert.deepStrictEqual(problems.map((p) => p.split(":")[0]).sort(), ["ingress.mqtt", "monitoring.kind"]);
    });
});
