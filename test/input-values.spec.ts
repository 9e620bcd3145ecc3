import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EmqxCluster, EmqxClusterArgs } from "../components";
import { ENTRYPOINT_MANGLING, VERSION_FAMILIES, resolveVersion } from "../components/versions";
import { externalHostProblem, storageClassProblem, storageSizeProblem } from "../components/validation";
import { MockEngine, TYPES, kubernetesObjects, ofType, valueOf } from "./harness";
import { containerOf, deploy, statefulSetOf } from "./deploy";

/** The problems EmqxCluster reports for `args`, or [] when it accepts them. */
async function problemsOf(given: EmqxClusterArgs): Promise<string[]> {
    // These tests are about values; 4.0-4.2 cannot authenticate clients, so their clusters accept anonymous ones.
    const args = /^v?4\.[0-2]\./.test(given.version ?? "") && !given.authentication ? { ...given, authentication: { allowAnonymous: true } } : given;
    let message = "";
    const run = await new MockEngine().run(() => {
        try {
            new EmqxCluster("emqx", args);
        } catch (err) {
            message = (err as Error).message;
        }
    });
    if (message) {
        assert.deepStrictEqual(kubernetesObjects(run.resources), [], "objects were registered before the error");
    }
    return message.split("\n").filter((line) => line.startsWith("  - ")).map((line) => line.slice(4));
}

/** A version of each family that takes `discovery: static` and needs no licence for one node. */
const FAMILY_SAMPLES: Record<string, string> = {
    "4.0-4.2": "4.2.14",
    "4.3": "4.3.22",
    "4.4": "4.4.19",
    "5.0-5.3": "5.3.2",
    "5.4-5.8": "5.8.9",
    "5.9+": "5.10.1",
};

describe("emqxConfig settings the component derives something from", () => {
    it("has a sample for every family of the version table", () => {
        assert.deepStrictEqual(Object.keys(FAMILY_SAMPLES).sort(), VERSION_FAMILIES.map((f) => f.name).sort());
    });

    // Every setting behind a probe, a Service port, a URL or clientConfig, a node name, the role, discovery, the
    // cookie, the data directory, the cluster ports and protocol, and the listeners' binds and enables.
    const DERIVED: Record<4 | 5, string[]> = {
        5: [
            "node.name", "node.cookie", "node.role", "node.db_backend", "cluster.core_nodes", "node.data_dir",
            "cluster.discovery_strategy", "cluster.dns.name", "cluster.k8s.suffix", "cluster.static.seeds",
            "cluster.proto_dist", "rpc.listen_address", "rpc.ipv6_only", "rpc.tcp_server_port", "rpc.port_discovery",
            "listeners.tcp.default.bind", "listeners.tcp.default.enable", "listeners.ssl.default.bind",
            "listeners.ssl.default.enable", "listeners.ws.default.bind", "listeners.ws.default.enable",
            "listeners.wss.default.bind", "listeners.wss.default.enable", "listeners.ws.default.websocket.mqtt_path",
            "listeners.wss.default.websocket.mqtt_path", "dashboard.listeners.http.enable",
            "dashboard.listeners.http.bind", "dashboard.listeners.http.inet6", "dashboard.listeners.http.ipv6_v6only",
            "dashboard.default_username", "dashboard.default_password", "license.key",
        ],
        4: [
            "node.name", "node.cookie", "node.data_dir", "node.proto_dist", "cluster.proto_dist", "cluster.discovery",
            "cluster.k8s.app_name", "rpc.tcp_server_port", "rpc.tcp_server_ip", "rpc.port_discovery",
            "listener.tcp.external", "listener.ssl.external", "listener.ws.external", "listener.wss.external",
            "listener.ws.external.mqtt_path", "listener.wss.external.mqtt_path", "dashboard.listener.http",
            "management.listener.http", "management.listener.http.inet6", "dashboard.default_user.password",
        ],
    };
    for (const [family, version] of Object.entries(FAMILY_SAMPLES)) {
        const major = resolveVersion(version) as { family: { major: 4 | 5 } };
        it(`refuses each of them on ${family} (${version}), naming what depends on it and the fix`, async () => {
            const missed: string[] = [];
            for (const path of DERIVED[major.family.major]) {
                const problems = await problemsOf({ version, discovery: "static", replicas: 1, emqxConfig: { [path]: "x" } });
                const mine = problems.find((p) => p.startsWith(`emqxConfig["${path}"]: is managed by the component: `));
                if (!mine || !/; (remove it|use )/.test(mine)) {
                    missed.push(`${path}: ${problems.join(" | ") || "accepted"}`);
                }
            }
            assert.deepStrictEqual(missed, []);
        });
    }

    it("keeps accepting settings nothing is derived from", async () => {
        for (const [version, extra] of [
            ["5.8.9", { "mqtt.max_packet_size": "2MB", "listeners.tcp.default.max_connections": "1024000", "dashboard.listeners.https.enable": "true", "log.console.level": "info" }],
            ["4.4.19", { "mqtt.max_packet_size": "2MB", "listener.tcp.external.max_connections": "1024000" }],
        ] as [string, Record<string, string>][]) {
            assert.deepStrictEqual(await problemsOf({ version, discovery: "static", emqxConfig: extra }), []);
        }
    });
});

describe("values the image's entrypoint changes before EMQX reads them", () => {
    // For each 4.0-4.2 entrypoint, one value per kind of character it changes.
    const MANGLED: Record<string, string[]> = {
        "v4.0.13": ["123&abc", "a\\b", "a*b", "a?b", "a[b", "two  spaces", " abc", "abc ", "tab\there", "-n", ""],
        "v4.1.5": ["123&abc", "a\\b", "a*b", "-e x"],
        "v4.2.3": ["123&abc", "a\\b", "a*b", "two  spaces", "line\nbreak", "-n", ""],
        "v4.2.4": ["a\\b", "tab\there", "line\nbreak", "-E", ""],
        "v4.2.14": ["a\\b", "tab\there", ""],
    };
    const KEPT: Record<string, string[]> = {
        "v4.0.13": ["abc123", "p@ss/word", "a b", "a-n"],
        "v4.2.4": ["123&abc", "a*b", "two  spaces", "p@ss/word"],
        "v4.2.14": ["123&abc", "a?b[c]"],
        "4.3.22": ["123&abc", "a\\b", "a*b", ""],
        "4.4.19": ["123&abc", "a\\b", "tab\there"],
    };

    it("covers every entrypoint of the version table", () => {
        for (const entrypoint of ENTRYPOINT_MANGLING) {
            const covered = Object.keys(MANGLED).filter((v) => (resolveVersion(v) as { entrypoint?: unknown }).entrypoint === entrypoint);
            assert.ok(covered.length > 0, `no test for ${entrypoint.releases}`);
        }
    });

    for (const [version, values] of Object.entries(MANGLED)) {
        it(`refuses a dashboard password and emqxConfig values ${version}'s entrypoint would change`, async () => {
            for (const value of values) {
                const problems = await problemsOf({
                    version,
                    discovery: "static",
                    dashboard: { password: value },
                    emqxConfig: { "mqtt.client_id_prefix": value },
                });
                const password = problems.find((p) => p.startsWith("dashboard.password: "));
                assert.ok(password, `${JSON.stringify(value)} accepted as a password`);
                assert.match(password, /entrypoint changes values with .*use EMQX 4\.3 or later/);
                assert.ok(value.length < 4 || !password.includes(value), "the message must not repeat the secret");
                assert.ok(problems.some((p) => p.startsWith('emqxConfig["mqtt.client_id_prefix"]: ')), `${JSON.stringify(value)} accepted in emqxConfig`);
            }
        });
    }

    it("refuses etcd endpoints the entrypoint would change, which reach cluster.etcd.server", async () => {
        const problems = await problemsOf({ version: "v4.2.3", discovery: "etcd", etcd: { endpoints: ["http://etcd:2379/?a&b"] } });
        assert.ok(problems.some((p) => /^etcd\.endpoints: .*'&'/.test(p)), problems.join("\n"));
        assert.deepStrictEqual(await problemsOf({ version: "v4.2.3", discovery: "etcd", etcd: { endpoints: ["http://etcd:2379"] } }), []);
    });

    it("names emqx#3781 for '&' before 4.2.4", async () => {
        const [problem] = await problemsOf({ version: "v4.2.3", discovery: "static", dashboard: { password: "123&abc" } });
        assert.match(problem, /'&' or '\\'.*emqx#3781/);
    });

    for (const [version, values] of Object.entries(KEPT)) {
        it(`accepts the values ${version} passes on unchanged`, async () => {
            for (const value of values) {
                const args = { version, discovery: "static" as const, emqxConfig: { "mqtt.client_id_prefix": value } };
                assert.deepStrictEqual(await problemsOf({ ...args, ...(value ? { dashboard: { password: value } } : {}) }), [], JSON.stringify(value));
            }
        });
    }

    it("checks a password given as an Output once it is known, without printing it", async () => {
        const run = (password: string) =>
            new MockEngine().run(
                () =>
                    new EmqxCluster("emqx", {
                        version: "v4.2.3",
                        discovery: "static",
                        authentication: { allowAnonymous: true },
                        dashboard: { password: pulumi.secret(password) },
                    }),
            );
        await assert.rejects(
            () => run("s3cr&t"),
            (err: Error) => /dashboard\.password: .*'&'/.test(err.message) && !err.message.includes("s3cr&t"),
        );
        const accepted = await run("s3cret");
        assert.ok(ofType(accepted.resources, TYPES.statefulSet).length === 1);
    });
});

describe("values that would be accepted but mean something else", () => {
    it("takes a host name or an IP address as externalHost, and brackets IPv6 addresses in URLs", async () => {
        for (const host of ["mqtt.example.com", "MQTT.Example.com", "broker", "10.0.0.7", "2001:db8::7"]) {
            assert.strictEqual(externalHostProblem(host), undefined, host);
        }
        for (const host of ["http://mqtt.example.com", "mqtt://h:1883", "host:1883", "[2001:db8::7]", "a b", "host/path", "-bad.example", ""]) {
            assert.ok(externalHostProblem(host), `${host} accepted`);
        }
        const d = await deploy({ externalHost: "2001:db8::7", nodePorts: { mqtt: 31883 } });
        assert.strictEqual(await valueOf(d.cluster.mqttUrl), "mqtt://[2001:db8::7]:31883");
    });

    it("needs at least 20Mi of storage, the size EMQX's own chart boots on", () => {
        for (const size of ["10", "1k", "19Mi", "20971519", "0.01Gi"]) {
            assert.match(storageSizeProblem(size) ?? "accepted", /at least 20Mi/, size);
        }
        for (const size of ["20Mi", "21M", "1Gi", "0.5Gi"]) {
            assert.strictEqual(storageSizeProblem(size), undefined, size);
        }
    });

    it("keeps the cluster's default StorageClass when storageClass is omitted and Kubernetes' meaning of \"\"", async () => {
        const template = async (args: EmqxClusterArgs) => statefulSetOf(await deploy(args)).spec.volumeClaimTemplates[0].spec;
        assert.ok(!("storageClassName" in (await template({}))));
        assert.strictEqual((await template({ storageClass: "" })).storageClassName, "");
        assert.strictEqual((await template({ storageClass: "fast-ssd" })).storageClassName, "fast-ssd");
        assert.strictEqual(storageClassProblem(""), undefined);
        assert.match(storageClassProblem("Fast_SSD") ?? "", /omit storageClass for the cluster's default class/);
    });

    it("warns at preview when a NodePort cluster's URLs use the default externalHost, localhost", async () => {
        // Without tls, NodePort and LoadBalancer clusters are also warned about the image's example certificate.
        const tls = { secretName: "mqtt-tls" };
        const warned = (await deploy({ serviceType: "NodePort", tls })).warnings;
        assert.strictEqual(warned.length, 1);
        assert.match(warned[0], /externalHost is not set: .*"localhost", which reaches the NodePorts only on a machine with port mappings/);
        for (const args of [{ externalHost: "localhost", tls }, { externalHost: "mqtt.example.com", tls }, { serviceType: "ClusterIP" as const }, { serviceType: "LoadBalancer" as const, tls }]) {
            assert.deepStrictEqual((await deploy(args)).warnings, [], JSON.stringify(args));
        }
    });
});

describe("IPv6-only cluster networks", () => {
    const IPV6_SETTINGS = {
        EMQX_CLUSTER__PROTO_DIST: "inet6_tcp",
        EMQX_RPC__LISTEN_ADDRESS: '"::"',
        EMQX_RPC__IPV6_ONLY: "true",
        EMQX_LISTENERS__TCP__DEFAULT__BIND: '"[::]:1883"',
        EMQX_LISTENERS__SSL__DEFAULT__BIND: '"[::]:8883"',
        EMQX_LISTENERS__WS__DEFAULT__BIND: '"[::]:8083"',
        EMQX_LISTENERS__WSS__DEFAULT__BIND: '"[::]:8084"',
        EMQX_DASHBOARD__LISTENERS__HTTP__INET6: "true",
    };

    for (const version of ["5.3.1", "5.8.9", "5.10.1"]) {
        it(`moves every listener, the dashboard, cluster RPC and the Erlang distribution to IPv6 on ${version}`, async () => {
            const licensed = version.startsWith("5.10") ? { licenseKey: "key" } : {};
            const d = await deploy({ version, ipFamily: "IPv6", discovery: "dns", ...licensed });
            const data = ofType(d.resources, TYPES.configMap)[0].state.data;
            for (const [key, value] of Object.entries(IPV6_SETTINGS)) {
                assert.strictEqual(data[key], value, key);
            }
            for (const service of ofType(d.resources, TYPES.service)) {
                assert.deepStrictEqual(service.state.spec.ipFamilies, ["IPv6"], service.name);
                assert.strictEqual(service.state.spec.ipFamilyPolicy, "SingleStack", service.name);
            }
            // The probes reach the dashboard on the pod's (IPv6) address, where it now listens.
            assert.strictEqual(containerOf(d).startupProbe.httpGet.port, 18083);
        });
    }

    it("leaves IPv4 clusters exactly as before: no IPv6 keys, Services on the cluster's default family", async () => {
        const d = await deploy({});
        const data = ofType(d.resources, TYPES.configMap)[0].state.data;
        for (const key of Object.keys(IPV6_SETTINGS)) {
            assert.ok(!(key in data), key);
        }
        for (const service of ofType(d.resources, TYPES.service)) {
            assert.ok(!("ipFamilies" in service.state.spec) && !("ipFamilyPolicy" in service.state.spec), service.name);
        }
    });

    it("refuses every version that cannot run IPv6-only, with the first that can", async () => {
        for (const version of ["v4.2.14", "4.3.22", "4.4.19", "5.0.26", "5.3.0"]) {
            const problems = await problemsOf({ version, ipFamily: "IPv6", discovery: "static" });
            assert.ok(problems.some((p) => /^ipFamily: .*cluster RPC \(gen_rpc\) .*IPv4 only.*use EMQX 5\.3\.1 or later/.test(p)), `${version}: ${problems}`);
        }
    });

    it("refuses the discovery modes whose HTTP client cannot reach its server over IPv6, and keeps the others", async () => {
        for (const discovery of ["k8s", "etcd"] as const) {
            const etcd = discovery === "etcd" ? { etcd: { endpoints: ["http://etcd:2379"] } } : {};
            const problems = await problemsOf({ ipFamily: "IPv6", discovery, ...etcd });
            assert.ok(problems.some((p) => /^discovery: .*IPv6-only network: .*emqx#14889.*use "dns" or "static"/.test(p)), `${discovery}: ${problems}`);
        }
        for (const discovery of ["dns", "static"] as const) {
            assert.deepStrictEqual(await problemsOf({ ipFamily: "IPv6", discovery }), []);
        }
        assert.deepStrictEqual(await problemsOf({ ipFamily: "IPv6", discovery: "manual", replicas: 1 }), []);
        assert.match((await problemsOf({ ipFamily: "DualStack" as never }))[0], /^ipFamily: "DualStack" must be one of IPv4, IPv6/);
    });
});
