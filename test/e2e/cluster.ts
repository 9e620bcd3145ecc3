/**
 * End-to-end helpers: find the toolchain built by scripts/e2e-toolchain.sh, start and stop the local control plane
 * of scripts/e2e-cluster.sh, and give the environment in which the real Pulumi CLI runs offline against it.
 *
 * The real Node.js language host (pulumi-language-nodejs) cannot be obtained here; the toolchain installs a stand-in
 * (e2e/language-host/, see e2e/TOOLCHAIN.md), so the CLI can run a project folder as users do
 * (test/e2e/readme-deploy.spec.ts). Suites that vary config programmatically use the Automation API's inline mode
 * (`LocalWorkspace.createOrSelectStack({ program, ... })`), where this Node.js process is the language runtime and
 * the CLI is started with `--client`. `pulumiEnv()` and `pulumiCommand()` give what both need.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const TOOLCHAIN_SCRIPT = path.join(REPO_ROOT, "scripts", "e2e-toolchain.sh");
const CLUSTER_SCRIPT = path.join(REPO_ROOT, "scripts", "e2e-cluster.sh");
/** The provider version the toolchain builds, paired with the npm package @pulumi/kubernetes. */
export const KUBERNETES_PROVIDER_VERSION = "4.25.0";
/** The CLI version the toolchain builds, and the version of the Node.js language host it installs. */
export const PULUMI_VERSION = "3.248.0";

/** The toolchain's bin dir, or undefined when it has not been built (`scripts/e2e-toolchain.sh --print`). */
export function toolchainBinDir(): string | undefined {
    if (process.env.E2E_BIN_DIR) return process.env.E2E_BIN_DIR;
    try {
        const out = execFileSync(TOOLCHAIN_SCRIPT, ["--print"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        const lines = out.trim().split("\n");
        return lines[lines.length - 1] || undefined;
    } catch {
        return undefined;
    }
}

/** Skips the calling suite (from its `before` hook) when the toolchain has not been built, saying how to build it. */
export function skipWithoutToolchain(context: Mocha.Context): void {
    if (!toolchainBinDir()) {
        console.log("    skipped: toolchain not built (run scripts/e2e-toolchain.sh)");
        context.skip();
    }
}

export interface E2eCluster {
    /** Folder holding the cluster's certificates, data, logs, PIDs and kubeconfig. */
    readonly stateDir: string;
    /** Admin kubeconfig, context `e2e`. */
    readonly kubeconfig: string;
    /** Toolchain bin dir (kubectl, pulumi, plugins). */
    readonly binDir: string;
    /** Runs the toolchain's kubectl against the cluster and returns its stdout. */
    kubectl(...args: string[]): string;
    /** Makes volumes released by deleted claims Available again (they are created with the Retain policy). */
    recyclePersistentVolumes(): void;
    /**
     * Stops kube-apiserver, keeps it down for `downSeconds`, starts it again with the same flags and port and waits
     * for /readyz (`scripts/e2e-cluster.sh restart-apiserver`). Asynchronous, so that a Pulumi operation in this
     * process can run meanwhile.
     */
    restartApiServer(downSeconds: number): Promise<void>;
    /** Stops exactly the processes `up` started. */
    down(): void;
}

/** How the control plane is made. */
export interface ClusterOptions {
    /**
     * Number of fake nodes, default 3. Node `e2e-node-<i>` is in zone `e2e-zone-<i % 3>`
     * (`topology.kubernetes.io/zone`), so 6 nodes give two per zone.
     */
    readonly nodes?: number;
}

/**
 * Starts the control plane (kine, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK with 3 fake
 * nodes, storage class `e2e-local` with pre-created volumes, the Prometheus Operator's ServiceMonitor and PodMonitor
 * CRDs). Takes about 10-20 s; throws with the components' log
 * tails when startup fails.
 */
/**
 * Installs cert-manager's Certificate CRD (from the toolchain's `share/cert-manager-crds-<version>.yaml`, taken from
 * cert-manager's Go module) and waits until the API server serves it. No cert-manager controller runs: Certificates
 * are validated against the CRD's schema and stored, and nothing issues them.
 */
export function installCertManagerCrds(cluster: E2eCluster): void {
    const share = path.join(cluster.binDir, "..", "share");
    const file = fs.readdirSync(share).find((f) => /^cert-manager-crds-.+\.yaml$/.test(f));
    if (!file) throw new Error(`no cert-manager CRDs in ${share}: run scripts/e2e-toolchain.sh`);
    cluster.kubectl("apply", "--server-side", "-f", path.join(share, file));
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/certificates.cert-manager.io");
}

export function startCluster(
    stateDir: string = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-e2e-cluster-")),
    options: ClusterOptions = {},
): E2eCluster {
    const binDir = toolchainBinDir();
    if (!binDir) throw new Error("the e2e toolchain is not built: run scripts/e2e-toolchain.sh");
    const env = { ...process.env, E2E_BIN_DIR: binDir, ...(options.nodes ? { E2E_NODES: String(options.nodes) } : {}) };
    try {
        execFileSync(CLUSTER_SCRIPT, ["up", stateDir], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e: any) {
        throw new Error(`e2e-cluster.sh up failed:\n${e.stderr ?? e.message}`);
    }
    const kubeconfig = path.join(stateDir, "kubeconfig");
    return {
        stateDir,
        kubeconfig,
        binDir,
        kubectl: (...args: string[]) =>
            execFileSync(path.join(binDir, "kubectl"), args, {
                env: { ...process.env, KUBECONFIG: kubeconfig },
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
            }),
        recyclePersistentVolumes: () => {
            execFileSync(CLUSTER_SCRIPT, ["recycle-pvs", stateDir], { env, stdio: ["ignore", "ignore", "pipe"] });
        },
        restartApiServer: (downSeconds: number) =>
            new Promise<void>((resolve, reject) => {
                execFile(
                    CLUSTER_SCRIPT,
                    ["restart-apiserver", stateDir],
                    { env: { ...env, E2E_APISERVER_DOWN_SECONDS: String(downSeconds) } },
                    (error, _stdout, stderr) => (error ? reject(new Error(`e2e-cluster.sh restart-apiserver failed:\n${stderr}`)) : resolve()),
                );
            }),
        down: () => {
            execFileSync(CLUSTER_SCRIPT, ["down", stateDir], { env, stdio: ["ignore", "ignore", "pipe"] });
        },
    };
}

/**
 * Environment for the Pulumi CLI (pass as LocalWorkspace `envVars`): the toolchain first on PATH (the CLI finds
 * pulumi-resource-pulumi-nodejs next to itself), a PULUMI_HOME under `backendDir` with the Kubernetes provider and
 * the Node.js language host stand-in installed, no update checks, no plugin downloads, a local file backend, and
 * NODE_PATH as a fallback for the plugins written in Node.js, which resolve @pulumi/pulumi from their working
 * directory.
 */
export function pulumiEnv(cluster: E2eCluster, backendDir: string): Record<string, string> {
    fs.mkdirSync(backendDir, { recursive: true });
    const home = path.join(backendDir, ".pulumi-home");
    // The Kubernetes provider as an installed plugin (what `pulumi plugin install --file` makes, linked instead of
    // copied): with PULUMI_IGNORE_AMBIENT_PLUGINS the CLI takes it from here and does not warn about $PATH.
    const installed: [string, string][] = [
        [`resource-kubernetes-v${KUBERNETES_PROVIDER_VERSION}`, "pulumi-resource-kubernetes"],
        [`language-nodejs-v${PULUMI_VERSION}`, "pulumi-language-nodejs"],
    ];
    for (const [folder, binary] of installed) {
        const pluginDir = path.join(home, "plugins", folder);
        fs.mkdirSync(pluginDir, { recursive: true });
        const plugin = path.join(pluginDir, binary);
        if (!fs.existsSync(plugin)) fs.symlinkSync(path.join(cluster.binDir, binary), plugin);
    }
    return {
        PATH: `${cluster.binDir}${path.delimiter}${process.env.PATH ?? ""}`,
        KUBECONFIG: cluster.kubeconfig,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        PULUMI_CONFIG_PASSPHRASE: "e2e-test",
        PULUMI_BACKEND_URL: `file://${backendDir}`,
        PULUMI_HOME: home,
        NODE_PATH: path.join(REPO_ROOT, "node_modules"),
    };
}

/** The toolchain's CLI as LocalWorkspace's `pulumiCommand` (PulumiCommand.get looks for `<root>/bin/pulumi`). */
export async function pulumiCommand(cluster: E2eCluster) {
    const { PulumiCommand } = await import("@pulumi/pulumi/automation");
    return PulumiCommand.get({ root: path.dirname(cluster.binDir) });
}
