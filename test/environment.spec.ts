import * as assert from "assert";
import { TYPES, ofType } from "./harness";
import { deploy, statefulSetOf } from "./deploy";
import { MATRIX } from "./matrix";
import { nodeNameOf, podEnvironment } from "./pod";

const ETCD = { endpoints: ["http://etcd-0.etcd:2379", "http://etcd-1.etcd:2379"] };

describe("the environment every pod gets, per version family and discovery mode", () => {
    for (const { version, modes, licenseKey, authentication } of MATRIX) {
        for (const discovery of modes) {
            const replicas = discovery === "manual" ? 1 : 3;
            it(`${version} with ${discovery}: node names, discovery keys and objects agree`, async () => {
                const d = await deploy({
                    version,
                    discovery,
                    replicas,
                    namespace: "iot",
                    clusterDomain: "corp.example",
                    licenseKey,
                    authentication,
                    etcd: discovery === "etcd" ? ETCD : undefined,
                });
                const major = version.replace(/^v/, "").split(".")[0];
                const sts = statefulSetOf(d);
                const headless = ofType(d.resources, TYPES.service).find((s) => s.state.spec.clusterIP === "None");
                assert.ok(headless);
                const expectedNodes = Array.from(
                    { length: replicas },
                    (_, i) => `emqx@${sts.metadata.name}-${i}.${headless.state.metadata.name}.iot.svc.corp.example`,
                );
                const nodeNames = Array.from({ length: replicas }, (_, i) => nodeNameOf(podEnvironment(d.resources, i)));
                assert.deepStrictEqual(nodeNames, expectedNodes, "EMQX_NAME@EMQX_HOST must be the pod's DNS name");
                assert.deepStrictEqual(await new Promise((r) => d.cluster.nodeNames.apply(r)), expectedNodes);

                const env = podEnvironment(d.resources, 0);
                const strategyKey = major === "5" ? "EMQX_CLUSTER__DISCOVERY_STRATEGY" : "EMQX_CLUSTER__DISCOVERY";
                const otherKey = major === "5" ? "EMQX_CLUSTER__DISCOVERY" : "EMQX_CLUSTER__DISCOVERY_STRATEGY";
                assert.strictEqual(env[strategyKey], discovery);
                assert.ok(!(otherKey in env), `${otherKey} belongs to the other major version`);
                assert.strictEqual(env.EMQX_NODE__COOKIE.length, 32);
                assert.match(env.EMQX_NODE__COOKIE, /^[A-Za-z0-9]+$/);
                assert.ok(!Object.keys(env).some((k) => k.includes("KUBERNETES") || k.startsWith("EMQX_CLUSTER__MCAST")));

                const headlessFqdn = `${headless.state.metadata.name}.iot.svc.corp.example`;
                if (discovery === "dns") {
                    assert.strictEqual(env.EMQX_CLUSTER__DNS__NAME, headlessFqdn);
                    if (major === "5") {
                        assert.strictEqual(env.EMQX_CLUSTER__DNS__RECORD_TYPE, "srv");
                    } else {
                        assert.strictEqual(env.EMQX_CLUSTER__DNS__TYPE, "srv");
                        assert.strictEqual(env.EMQX_CLUSTER__DNS__APP, env.EMQX_NAME);
                    }
                }
                if (discovery === "k8s") {
                    assert.strictEqual(env.EMQX_CLUSTER__K8S__APISERVER, "https://kubernetes.default.svc:443");
                    assert.strictEqual(env.EMQX_CLUSTER__K8S__SERVICE_NAME, headless.state.metadata.name);
                    assert.strictEqual(env.EMQX_CLUSTER__K8S__NAMESPACE, "iot");
                    assert.strictEqual(env.EMQX_CLUSTER__K8S__ADDRESS_TYPE, "hostname");
                    assert.strictEqual(env.EMQX_CLUSTER__K8S__SUFFIX, "svc.corp.example");
                    // What ekka builds from an Endpoints address: <hostname>.<service>.<namespace>.<suffix>.
                    const discovered = `${env.EMQX_NAME}@${sts.metadata.name}-2.${env.EMQX_CLUSTER__K8S__SERVICE_NAME}.${env.EMQX_CLUSTER__K8S__NAMESPACE}.${env.EMQX_CLUSTER__K8S__SUFFIX}`;
                    assert.strictEqual(discovered, expectedNodes[2]);
                    if (major === "4") {
                        assert.strictEqual(env.EMQX_CLUSTER__K8S__APP_NAME, env.EMQX_NAME);
                    }
                    assert.strictEqual(ofType(d.resources, TYPES.role).length, 1);
                } else {
                    assert.strictEqual(ofType(d.resources, TYPES.role).length, 0);
                }
                if (discovery === "static") {
                    const seeds =
                        major === "5"
                            ? JSON.parse(env.EMQX_CLUSTER__STATIC__SEEDS)
                            : env.EMQX_CLUSTER__STATIC__SEEDS.split(",");
                    assert.deepStrictEqual(seeds, expectedNodes);
                }
                if (discovery === "etcd") {
                    assert.strictEqual(env.EMQX_CLUSTER__ETCD__SERVER, ETCD.endpoints.join(","));
                    assert.strictEqual(env.EMQX_CLUSTER__ETCD__PREFIX, "emqxcl");
                }

                const [userKey, passwordKey] =
                    major === "5"
                        ? ["EMQX_DASHBOARD__DEFAULT_USERNAME", "EMQX_DASHBOARD__DEFAULT_PASSWORD"]
                        : ["EMQX_DASHBOARD__DEFAULT_USER__LOGIN", "EMQX_DASHBOARD__DEFAULT_USER__PASSWORD"];
                assert.strictEqual(env[userKey], "admin");
                assert.ok(env[passwordKey], `${passwordKey} missing`);
                if (licenseKey) {
                    // Quoted, so HOCON does not read the '#' as the start of a comment.
                    assert.strictEqual(env.EMQX_LICENSE__KEY, JSON.stringify(licenseKey));
                }
                if (major === "4") {
                    assert.ok(sts.spec.template.spec.containers[0].ports.some((p: any) => p.containerPort === 8081));
                }
            });
        }
    }

    it("reads secrets from the Secret and never from the ConfigMap", async () => {
        const d = await deploy({ dashboard: { password: "s3cret-pass" }, version: "5.9.0", replicas: 3, licenseKey: "LICENCE" });
        const configMap = ofType(d.resources, TYPES.configMap)[0].state;
        const values = Object.values(configMap.data as Record<string, string>).join("\n");
        const env = podEnvironment(d.resources, 0);
        for (const secret of [env.EMQX_NODE__COOKIE, "s3cret-pass", "LICENCE"]) {
            assert.ok(!values.includes(secret), "a secret value is in the ConfigMap");
        }
        const secret = ofType(d.resources, TYPES.secret)[0];
        assert.ok(secret.secretPaths.includes("stringData"), "the Secret's data is not marked secret");
        const container = statefulSetOf(d).spec.template.spec.containers[0];
        for (const key of ["EMQX_NODE__COOKIE", "EMQX_DASHBOARD__DEFAULT_PASSWORD", "EMQX_LICENSE__KEY"]) {
            const variable = container.env.find((e: any) => e.name === key);
            assert.ok(variable?.valueFrom?.secretKeyRef, `${key} is not read from the Secret`);
        }
    });

    it("passes extra EMQX settings as EMQX_* variables through the ConfigMap", async () => {
        const env = podEnvironment((await deploy({ emqxConfig: { "mqtt.max_packet_size": "2MB", "cluster.autoheal": "false" } })).resources, 0);
        assert.strictEqual(env.EMQX_MQTT__MAX_PACKET_SIZE, "2MB");
        assert.strictEqual(env.EMQX_CLUSTER__AUTOHEAL, "false");
    });

    it("mounts the etcd TLS Secret and points EMQX at its files", async () => {
        const d = await deploy({ discovery: "etcd", etcd: { ...ETCD, tlsSecretName: "etcd-client-tls" } });
        const env = podEnvironment(d.resources, 0);
        assert.strictEqual(env.EMQX_CLUSTER__ETCD__SSL_OPTIONS__ENABLE, "true");
        assert.strictEqual(env.EMQX_CLUSTER__ETCD__SSL_OPTIONS__CACERTFILE, "/opt/emqx/etc/etcd-tls/ca.crt");
        const pod = statefulSetOf(d).spec.template.spec;
        assert.ok(pod.volumes.some((v: any) => v.secret?.secretName === "etcd-client-tls"));
        assert.ok(pod.containers[0].volumeMounts.some((m: any) => m.mountPath === "/opt/emqx/etc/etcd-tls" && m.readOnly));
    });
});
