/**
 * examples/consumer-yaml run for real: the Pulumi CLI in the example's folder, the YAML language host, and this
 * repository as a component package (`packages:` in the example's Pulumi.yaml, started by the Node.js language host
 * as a component plugin), against the local control plane. The program creates its Namespace and hands its name to
 * EmqxCluster as an output, with a dashboard password set as a secret. Expected: the cluster converges as the
 * TypeScript path does, the password stays a secret everywhere, a second preview changes nothing, and destroy leaves
 * the Namespace (retained on delete) with the data claims in it.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { E2eCluster, pulumiEnv, REPO_ROOT, startCluster, toolchainBinDir } from "./cluster";
import { kubectlJson, removeUnlessKept, waitReady } from "./stacks";

const EXAMPLE = path.join(REPO_ROOT, "examples", "consumer-yaml");
const NAMESPACE = "messaging";
const PASSWORD = "Yaml0Secret0Dashboard";

describe("examples/consumer-yaml with the Pulumi CLI, the YAML language host and the component package", function () {
    let cluster: E2eCluster | undefined;
    let workDir: string;
    let env: Record<string, string>;
    const stackName = `e2e-${process.pid}`;
    const stackFile = path.join(EXAMPLE, `Pulumi.${stackName}.yaml`);

    /** Runs the toolchain's `pulumi` in the example's folder, non-interactively; returns stdout, throws with stderr. */
    async function pulumi(...args: string[]): Promise<string> {
        try {
            const { stdout } = await promisify(execFile)(path.join(cluster!.binDir, "pulumi"), [...args, "--non-interactive"], {
                cwd: EXAMPLE,
                env: { ...process.env, ...env },
                maxBuffer: 64 * 1024 * 1024,
            });
            return stdout;
        } catch (e: any) {
            throw new Error(`pulumi ${args.join(" ")} failed:\n${e.stdout ?? ""}\n${e.stderr ?? e.message}`);
        }
    }

    before(async function () {
        const binDir = toolchainBinDir();
        if (!binDir || !fs.existsSync(path.join(binDir, "pulumi-language-yaml")) || !fs.existsSync(path.join(binDir, "pulumi-language-nodejs"))) {
            console.log("    skipped: toolchain not built, or without the YAML or Node.js language host (run scripts/e2e-toolchain.sh)");
            this.skip();
        }
        // The plugin runs the compiled package: build it from this checkout.
        await promisify(execFile)("npm", ["run", "build"], { cwd: REPO_ROOT });
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-yaml-"));
        cluster = startCluster(path.join(workDir, "cluster"));
        env = pulumiEnv(cluster, path.join(workDir, "backend"));
        await pulumi("stack", "select", stackName, "--create");
        await pulumi("config", "set", "kubeContext", "e2e");
        await pulumi("config", "set", "--secret", "dashboardPassword", PASSWORD);
    });

    after(() => {
        cluster?.down();
        fs.rmSync(stackFile, { force: true });
        removeUnlessKept(workDir);
    });

    it("converges: the Namespace from the program, a Ready StatefulSet, outputs read from the cluster", async () => {
        await pulumi("up", "--yes", "--skip-preview");
        const pods = await waitReady(cluster!, NAMESPACE, "broker", 3);
        assert.deepStrictEqual(pods.map((p) => p.metadata.name), ["broker-0", "broker-1", "broker-2"]);
        const outputs = JSON.parse(await pulumi("stack", "output", "--json"));
        const service = kubectlJson(cluster!, "-n", NAMESPACE, "get", "service", "broker");
        const nodePort = service.spec.ports.find((p: any) => p.name === "mqtt").nodePort;
        assert.strictEqual(outputs.mqttUrl, `mqtt://localhost:${nodePort}`);
        assert.strictEqual(outputs.mqttInternalUrl, `mqtt://broker.${NAMESPACE}.svc.cluster.local:1883`);
        assert.strictEqual(outputs.clientConfig.listeners.mqtt.external.port, nodePort);
        assert.strictEqual(outputs.dashboardPassword, "[secret]");
    });

    it("keeps the dashboard password a secret: in the state, the outputs and the cluster's ConfigMaps", async () => {
        const shown = JSON.parse(await pulumi("stack", "output", "--json", "--show-secrets"));
        assert.strictEqual(shown.dashboardPassword, PASSWORD);
        const state = await pulumi("stack", "export");
        assert.ok(!state.includes(PASSWORD), "the password is in the state in plain text");
        const configMaps = cluster!.kubectl("-n", NAMESPACE, "get", "configmaps", "-o", "json");
        assert.ok(!configMaps.includes(PASSWORD), "the password is in a ConfigMap");
        const sts = kubectlJson(cluster!, "-n", NAMESPACE, "get", "statefulset", "broker");
        const secretName = sts.spec.template.spec.containers[0].env.find((e: any) => /DASHBOARD__DEFAULT_PASSWORD$/.test(e.name)).valueFrom.secretKeyRef;
        const secret = kubectlJson(cluster!, "-n", NAMESPACE, "get", "secret", secretName.name);
        // EMQX 5.x reads the value as HOCON, so the component passes it as a quoted string.
        assert.strictEqual(JSON.parse(Buffer.from(secret.data[secretName.key], "base64").toString()), PASSWORD);
    });

    it("previews no change on a second run", async () => {
        await pulumi("preview", "--expect-no-changes");
    });

    it("destroys everything but the Namespace and the data claims in it", async () => {
        const claims = kubectlJson(cluster!, "-n", NAMESPACE, "get", "pvc").items.map((c: any) => c.metadata.uid).sort();
        assert.strictEqual(claims.length, 3);
        await pulumi("destroy", "--yes", "--skip-preview");
        const left = cluster!.kubectl("-n", NAMESPACE, "get", "statefulset,service,configmap,secret,pdb", "-l", "app.kubernetes.io/instance=broker", "-o", "name");
        assert.strictEqual(left.trim(), "");
        assert.strictEqual(kubectlJson(cluster!, "get", "namespace", NAMESPACE).status.phase, "Active");
        assert.deepStrictEqual(kubectlJson(cluster!, "-n", NAMESPACE, "get", "pvc").items.map((c: any) => c.metadata.uid).sort(), claims);
    });
});
