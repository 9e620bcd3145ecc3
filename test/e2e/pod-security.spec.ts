/**
 * The real API server's Pod Security admission admits the cluster's pods in a namespace that enforces the
 * "restricted" profile: the pod template of every version family is admitted (server-side dry-run of a Pod),
 * and a real StatefulSet gets its pods created there by the controller.
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

const NAMESPACE = "restricted";

/** The objects of a cluster in the restricted namespace, as the API server would receive them. */
async function manifests(args: EmqxClusterArgs): Promise<Record<string, any>[]> {
    const d = await deploy({ ...args, namespace: NAMESPACE });
    return kubernetesObjects(d.resources)
        .filter((object) => object.type !== TYPES.pvcPatch)
        .map((object) => {
            const manifest = structuredClone(object.state);
            delete manifest.status;
            return manifest;
        });
}

/** A Pod made from the StatefulSet's pod template, as the StatefulSet controller would create it. */
function podOf(objects: Record<string, any>[], name: string): Record<string, any> {
    const statefulSet = objects.find((o) => o.kind === "StatefulSet");
    assert.ok(statefulSet, "no StatefulSet");
    const template = structuredClone(statefulSet.spec.template);
    // A Pod names claims directly; the controller turns each claim template into such a volume.
    const claims = (statefulSet.spec.volumeClaimTemplates ?? []).map((claim: any) => ({
        name: claim.metadata.name,
        persistentVolumeClaim: { claimName: `${claim.metadata.name}-${name}` },
    }));
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { ...template.metadata, name, namespace: NAMESPACE },
        spec: { ...template.spec, volumes: [...(template.spec.volumes ?? []), ...claims] },
    };
}

describe("Pod Security restricted: the API server admits the pods", function () {
    let cluster: E2eCluster | undefined;

    before(function () {
        skipWithoutToolchain(this);
        cluster = startCluster(fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-pod-security-")));
        cluster.kubectl("create", "namespace", NAMESPACE);
        cluster.kubectl("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted");
        // The pods' ServiceAccount must exist for a Pod to be admitted; every case uses the same name.
        cluster.kubectl("-n", NAMESPACE, "create", "serviceaccount", "emqx");
    });

    after(() => {
        cluster?.down();
        if (cluster && !process.env.E2E_KEEP_STATE) {
            fs.rmSync(cluster.stateDir, { recursive: true, force: true });
        }
    });

    function apply(objects: Record<string, any>[], dryRun: boolean, output: "name" | "json" = "name"): string {
        const live = cluster as E2eCluster;
        return execFileSync(
            path.join(live.binDir, "kubectl"),
            ["apply", ...(dryRun ? ["--dry-run=server"] : []), "-o", output, "-f", "-"],
            {
                env: { ...process.env, KUBECONFIG: live.kubeconfig },
                input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
                encoding: "utf8",
                stdio: ["pipe", "pipe", "pipe"],
            },
        );
    }

    for (const { version, modes, licenseKey, authentication } of MATRIX) {
        it(`admits a pod of EMQX ${version}`, async () => {
            const pod = podOf(await manifests({ version, discovery: modes[0], licenseKey, authentication }), "emqx-0");
            try {
                apply([pod], true);
            } catch (err: any) {
                assert.fail(`the API server refused the pod of ${version}:\n${err.stderr ?? err.message}`);
            }
        });
    }

    it("admits a 5.x pod with a read-only root filesystem and emptyDirs on the paths EMQX writes", async () => {
        const pod = podOf(await manifests({}), "emqx-0");
        const answer = JSON.parse(apply([pod], true, "json"));
        const admitted = answer.kind === "List" ? answer.items[0] : answer;
        const emqx = admitted.spec.containers.find((c: any) => c.name === "emqx");
        assert.strictEqual(emqx.securityContext.readOnlyRootFilesystem, true);
        const mounted = Object.fromEntries(emqx.volumeMounts.map((m: any) => [m.mountPath, m.name]));
        for (const [mountPath, volume] of Object.entries({ "/opt/emqx/data": "data", "/opt/emqx/log": "log", "/tmp": "tmp", "/opt/emqx/plugins": "plugins" })) {
            assert.strictEqual(mounted[mountPath], volume, mountPath);
        }
    });

    it("refuses a pod without a seccomp profile, so the check can fail", async () => {
        const pod = podOf(await manifests({}), "emqx-0");
        delete pod.spec.securityContext.seccompProfile;
        delete pod.spec.containers[0].securityContext.seccompProfile;
        assert.throws(() => apply([pod], true), (err: any) => /violates PodSecurity "restricted:.*seccompProfile/s.test(err.stderr));
    });

    it("has the StatefulSet controller create every pod of a deployed cluster", async () => {
        const objects = (await manifests({ replicas: 3 })).filter((o) => o.kind !== "ServiceAccount");
        apply(objects, false);
        const live = cluster as E2eCluster;
        const deadline = Date.now() + 90_000;
        let pods: string[] = [];
        while (Date.now() < deadline) {
            pods = live
                .kubectl("-n", NAMESPACE, "get", "pods", "-l", "app.kubernetes.io/instance=emqx", "-o", "name")
                .trim()
                .split("\n")
                .filter(Boolean);
            if (pods.length === 3) break;
            await new Promise((resolve) => setTimeout(resolve, 2000));
        }
        const events = live.kubectl("-n", NAMESPACE, "get", "events", "--field-selector", "reason=FailedCreate", "-o", "name");
        assert.strictEqual(pods.length, 3, `pods: ${pods.join(", ")}; FailedCreate events: ${events}`);
    });
});
