/**
 * The real API server validates what the component emits: the objects of every version x discovery combination
 * of the mock suite (and the service types and persistence variants) are applied with server-side dry-run.
 * Dry-run skips NodePort allocation, so the NodePort range is not checked here: the component checks it itself.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EmqxClusterArgs } from "../../components";
import { TYPES, kubernetesObjects } from "../harness";
import { deploy } from "../deploy";
import { MATRIX } from "../matrix";
import { E2eCluster, skipWithoutToolchain, startCluster } from "./cluster";

const NAMESPACE = "dry-run";

const CASES: [string, EmqxClusterArgs][] = [
    ...MATRIX.flatMap(({ version, modes, licenseKey, authentication }) =>
        modes.map((discovery): [string, EmqxClusterArgs] => [
            `${version} with ${discovery}`,
            {
                version,
                discovery,
                licenseKey,
                authentication,
                replicas: discovery === "manual" ? 1 : 3,
                etcd: discovery === "etcd" ? { endpoints: ["https://etcd:2379"], tlsSecretName: "etcd-tls" } : undefined,
            },
        ]),
    ),
    ["LoadBalancer with pinned NodePorts", { serviceType: "LoadBalancer", nodePorts: { mqtt: 31883 }, dashboard: { service: { type: "LoadBalancer", nodePort: 31808 } } }],
    ["ClusterIP without persistence", { serviceType: "ClusterIP", persistence: false }],
    [
        "a NetworkPolicy with every peer kind and restricted egress, fewer listeners",
        {
            discovery: "k8s",
            service: { listeners: ["mqtts", "wss"] },
            networkPolicy: {
                clients: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }],
                dashboard: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } }, podSelector: { matchLabels: { app: "ingress" } } }],
                metrics: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
                egress: [{ to: [{ ipBlock: { cidr: "10.20.0.0/16" } }], ports: [{ port: 5432, protocol: "TCP" }] }],
            },
        },
    ],
    ["a second volume generation with resources", { volumeGeneration: 2, storageSize: "5Gi", resources: { requests: { cpu: "250m", memory: "512Mi" } } }],
];

/** The objects as the API server would receive them: registered specs with generated names, no status. */
async function manifests(index: number, args: EmqxClusterArgs): Promise<Record<string, any>[]> {
    const d = await deploy({ ...args, namespace: NAMESPACE, clusterName: `emqx-${index}` });
    return kubernetesObjects(d.resources).map((object) => {
        const manifest = structuredClone(object.state);
        delete manifest.status;
        if (object.type === TYPES.pvcPatch) {
            // A patch of a claim the StatefulSet creates later: validated as the claim it describes.
            return { ...manifest, apiVersion: "v1", kind: "PersistentVolumeClaim", spec: { accessModes: ["ReadWriteOnce"], ...manifest.spec } };
        }
        return manifest;
    });
}

describe("the real API server accepts every object (server-side dry-run)", function () {
    let cluster: E2eCluster | undefined;

    before(function () {
        skipWithoutToolchain(this);
        cluster = startCluster(fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-dry-run-")));
        cluster.kubectl("create", "namespace", NAMESPACE);
    });

    after(() => {
        cluster?.down();
        if (cluster && !process.env.E2E_KEEP_STATE) {
            fs.rmSync(cluster.stateDir, { recursive: true, force: true });
        }
    });

    function dryRun(objects: Record<string, any>[]): string[] {
        const live = cluster as E2eCluster;
        const output = execFileSync(path.join(live.binDir, "kubectl"), ["apply", "--dry-run=server", "-o", "name", "-f", "-"], {
            env: { ...process.env, KUBECONFIG: live.kubeconfig },
            input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
            encoding: "utf8",
            stdio: ["pipe", "pipe", "pipe"],
        });
        return output.trim().split("\n").filter(Boolean);
    }

    CASES.forEach(([title, args], index) => {
        it(title, async () => {
            const objects = await manifests(index, args);
            let accepted: string[];
            try {
                accepted = dryRun(objects);
            } catch (err: any) {
                assert.fail(`the API server rejected the objects of "${title}":\n${err.stderr ?? err.message}`);
            }
            assert.strictEqual(accepted.length, objects.length, `accepted:\n${accepted.join("\n")}`);
            assert.ok(accepted.some((name) => name.startsWith("networkpolicy.networking.k8s.io/")), "no NetworkPolicy among the objects");
        });
    });

    it("rejects an invalid NetworkPolicy, so the check can fail", async () => {
        const objects = await manifests(CASES.length, {});
        const policy = objects.find((o) => o.kind === "NetworkPolicy");
        policy!.spec.ingress[0].from.push({ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} });
        assert.throws(() => dryRun(objects), (err: any) => /NetworkPolicy.*may not specify both ipBlock and another peer/s.test(err.stderr));
    });

    it("rejects an invalid object, so the check can fail", async () => {
        const objects = await manifests(CASES.length, {});
        const statefulSet = objects.find((o) => o.kind === "StatefulSet");
        statefulSet!.spec.podManagementPolicy = "Sometimes";
        assert.throws(() => dryRun(objects), (err: any) => /spec.podManagementPolicy: Invalid value: "Sometimes"/.test(err.stderr));
    });
});
