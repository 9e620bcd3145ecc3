/**
 * Client authentication, authorization and Secrets by reference on a real API server: the objects are accepted,
 * the StatefulSet controller creates pods that carry the mounts and the `secretKeyRef` variables, and what the
 * component generates is in the Secrets the pods read. There is no EMQX binary here (KWOK fakes the pods), so what
 * EMQX does with the settings is covered by the unit suite and docs/emqx-facts.md.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EmqxClusterArgs } from "../../components";
import { TYPES, kubernetesObjects } from "../harness";
import { deploy } from "../deploy";
import { E2eCluster, skipWithoutToolchain, startCluster } from "./cluster";

const NAMESPACE = "auth";

/** The objects of a cluster, as the API server would receive them (generated names filled in). */
async function manifests(args: EmqxClusterArgs): Promise<Record<string, any>[]> {
    // ClusterIP: the mock engine's NodePorts would clash between the two clusters.
    const d = await deploy({ ...args, namespace: NAMESPACE, replicas: 1, discovery: "manual", serviceType: "ClusterIP" });
    return kubernetesObjects(d.resources)
        .filter((object) => object.type !== TYPES.pvcPatch)
        .map((object) => {
            const manifest = structuredClone(object.state);
            delete manifest.status;
            return manifest;
        });
}

describe("client authentication and Secrets by reference on the API server", function () {
    let cluster: E2eCluster | undefined;

    before(function () {
        skipWithoutToolchain(this);
        cluster = startCluster(fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-auth-")));
        cluster.kubectl("create", "namespace", NAMESPACE);
    });

    after(() => {
        cluster?.down();
        if (cluster && !process.env.E2E_KEEP_STATE) {
            fs.rmSync(cluster.stateDir, { recursive: true, force: true });
        }
    });

    function apply(objects: Record<string, any>[]): void {
        const live = cluster as E2eCluster;
        execFileSync(path.join(live.binDir, "kubectl"), ["apply", "-o", "name", "-f", "-"], {
            env: { ...process.env, KUBECONFIG: live.kubeconfig },
            input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
            encoding: "utf8",
            stdio: ["pipe", "pipe", "pipe"],
        });
    }

    /** Pod `<statefulSet>-0` once the StatefulSet controller created it. */
    async function firstPod(statefulSet: string): Promise<Record<string, any>> {
        const live = cluster as E2eCluster;
        const deadline = Date.now() + 90_000;
        while (Date.now() < deadline) {
            try {
                return JSON.parse(live.kubectl("-n", NAMESPACE, "get", "pod", `${statefulSet}-0`, "-o", "json"));
            } catch {
                await new Promise((resolve) => setTimeout(resolve, 2000));
            }
        }
        const events = live.kubectl("-n", NAMESPACE, "get", "events", "-o", "name");
        assert.fail(`no pod ${statefulSet}-0; events: ${events}`);
    }

    it("mounts your users Secret and ACL ConfigMap and reads the licence and a bridge password by secretKeyRef (5.x)", async () => {
        const live = cluster as E2eCluster;
        live.kubectl("-n", NAMESPACE, "create", "secret", "generic", "fleet-users", "--from-literal=users.csv=user_id,password,is_superuser");
        live.kubectl("-n", NAMESPACE, "create", "configmap", "mqtt-acl", "--from-literal=acl.conf={deny, all}.");
        live.kubectl("-n", NAMESPACE, "create", "secret", "generic", "bridge-creds", "--from-literal=password=p");
        apply(
            await manifests({
                clusterName: "v5",
                version: "5.8.9",
                authentication: { users: { secretName: "fleet-users" } },
                authorization: { rules: { configMapName: "mqtt-acl" } },
                secretSettings: { "bridges.mqtt.cloud.password": { name: "bridge-creds", key: "password" } },
                licenseKeySecret: { name: "bridge-creds", key: "password" },
            }),
        );
        const pod = await firstPod("v5");
        const emqx = pod.spec.containers[0];
        const mount = (name: string) => emqx.volumeMounts.find((m: any) => m.name === name);
        const volume = (name: string) => pod.spec.volumes.find((v: any) => v.name === name);
        assert.deepStrictEqual(mount("mqtt-users"), { name: "mqtt-users", mountPath: "/opt/emqx/etc/mqtt-users", readOnly: true });
        assert.strictEqual(volume("mqtt-users").secret.secretName, "fleet-users");
        assert.deepStrictEqual(mount("acl"), { name: "acl", mountPath: "/opt/emqx/etc/acl", readOnly: true });
        assert.strictEqual(volume("acl").configMap.name, "mqtt-acl");
        const ref = (name: string) => emqx.env.find((e: any) => e.name === name)?.valueFrom?.secretKeyRef;
        assert.deepStrictEqual(ref("EMQX_BRIDGES__MQTT__CLOUD__PASSWORD"), { name: "bridge-creds", key: "password" });
        assert.deepStrictEqual(ref("EMQX_LICENSE__KEY"), { name: "bridge-creds", key: "password" });
        const configMap = JSON.parse(live.kubectl("-n", NAMESPACE, "get", "configmap", emqx.envFrom[0].configMapRef.name, "-o", "json"));
        assert.match(configMap.data.EMQX_AUTHENTICATION, /bootstrap_file = "\/opt\/emqx\/etc\/mqtt-users\/users\.csv"/);
        assert.strictEqual(configMap.data.EMQX_BRIDGES__MQTT__CLOUD__PASSWORD, undefined);
    });

    it("generates the MQTT user and the management application's secret and the pods read them (4.4)", async () => {
        const live = cluster as E2eCluster;
        apply(await manifests({ clusterName: "v4", version: "4.4.19" }));
        const pod = await firstPod("v4");
        const env = pod.spec.containers[0].env;
        const ref = (name: string) => env.find((e: any) => e.name === name)?.valueFrom?.secretKeyRef;
        assert.deepStrictEqual(ref("EMQX_AUTH__USER__1__PASSWORD"), { name: "v4-mqtt-users", key: "password" });
        assert.deepStrictEqual(ref("EMQX_MANAGEMENT__DEFAULT_APPLICATION__SECRET"), { name: "v4-management-app", key: "app-secret" });
        for (const [secret, key] of [["v4-mqtt-users", "password"], ["v4-management-app", "app-secret"]]) {
            const data = JSON.parse(live.kubectl("-n", NAMESPACE, "get", "secret", secret, "-o", "json")).data;
            assert.match(Buffer.from(data[key], "base64").toString(), /^[A-Za-z0-9]{32}$/, `${secret} ${key}`);
        }
    });
});
