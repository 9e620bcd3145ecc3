/**
 * The README's "Deploy a stack with `pulumi up`" section, run as written: its commands are read from the README's
 * code block (so the README and what works cannot drift apart) and run one by one with the real Pulumi CLI, in a
 * copy of the project folder, on the local control plane. The CLI reads Pulumi.yaml (typed config,
 * stackConfigDir, main) and stacks/Pulumi.dev.yaml itself and starts the Node.js language host (the toolchain's
 * stand-in), which runs index.ts with @pulumi/pulumi/cmd/run.
 *
 * Only what must differ is substituted, each substitution checked to apply: the backend folder ($HOME is a
 * temporary folder), the passphrase, the kube context (`e2e`), the dashboard password, and a `storageClass` for the
 * control plane, which has no default class. `npm ci` becomes `npm run prepare` (node_modules is linked from the
 * checkout), and PULUMI_SKIP_CONFIRMATIONS answers the confirmation prompts of `pulumi up` and `pulumi destroy`.
 * Without `main` in Pulumi.yaml the preview plans only the Stack, with the package's exports as outputs: this spec
 * fails then (tried by hand).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stripVTControlCharacters as plain } from "util";
import { E2eCluster, REPO_ROOT, pulumiEnv, skipWithoutToolchain, startCluster } from "./cluster";

const SECTION = "## Deploy a stack with `pulumi up`";
const PASSWORD = "readme-e2e-Dashboard-1";

/** The commands of the first `sh` block under `heading` in the README, without comments and blank lines. */
function readmeCommands(readme: string, heading: string): string[] {
    const start = readme.indexOf(`\n${heading}\n`);
    if (start < 0) throw new Error(`README has no section "${heading}"`);
    const section = readme.slice(start + heading.length + 2).split(/\n## /)[0];
    const block = /```sh\n([\s\S]*?)```/.exec(section);
    if (!block) throw new Error(`README section "${heading}" has no sh block`);
    return block[1]
        .split("\n")
        .map((line) => line.replace(/\s+#\s.*$/, "").trim())
        .filter((line) => line && !line.startsWith("#"));
}

/** Exact README line -> what runs instead (none: skipped); every entry must match a line. */
const SUBSTITUTIONS: Record<string, string[]> = {
    // Installing is done (node_modules is linked); what `npm ci` also does is the prepare script, which builds
    // dist/, the package's library entry that the Node.js host would run if Pulumi.yaml had no `main`.
    "npm ci": ["npm run -s prepare"],
    "export PULUMI_CONFIG_PASSPHRASE=...": ["export PULUMI_CONFIG_PASSPHRASE=readme-e2e"],
    "pulumi config set kubernetes:context kind-dev": [
        "pulumi config set kubernetes:context e2e",
        "pulumi config set storageClass e2e-local",
    ],
    "pulumi config set --secret dashboardPassword '...'": [`pulumi config set --secret dashboardPassword '${PASSWORD}'`],
};

/** Tracked and new files of the checkout, without node_modules (linked instead). */
function copyProject(to: string) {
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: REPO_ROOT, encoding: "utf8" })
        .split("\0")
        .filter((f) => f && !f.startsWith("node_modules/") && fs.existsSync(path.join(REPO_ROOT, f)));
    for (const file of files) {
        fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
        fs.copyFileSync(path.join(REPO_ROOT, file), path.join(to, file));
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(to, "node_modules"));
}

const digest = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("the README's `pulumi up` section, as written, with the real CLI and language host", function () {
    let cluster: E2eCluster | undefined;
    let workDir: string;
    let projectDir: string;
    let env: Record<string, string>;
    const committed: Record<string, string> = {};
    const commands: string[] = [];
    const outputs = new Map<string, string>();

    /** Runs one README command with bash in the project copy; `export` lines change the environment of the next. */
    function run(command: string): string {
        const exported = /^export ([A-Z_]+)=(.*)$/.exec(command);
        if (exported) {
            env[exported[1]] = exported[2];
            return "";
        }
        const started = Date.now();
        const result = spawnSync("bash", ["-c", command], { cwd: projectDir, env, encoding: "utf8", timeout: 10 * 60 * 1000 });
        const output = plain(`${result.stdout}${result.stderr}`);
        if (result.status !== 0) {
            throw new Error(`\`${command}\` exited with ${result.status ?? result.signal} after ${(Date.now() - started) / 1000} s:\n${output}`);
        }
        outputs.set(command, plain(result.stdout).trim());
        return output;
    }

    /** Runs a command and parses its stdout as JSON. */
    function json(command: string): any {
        run(command);
        return JSON.parse(outputs.get(command) as string);
    }

    function kubectlJson(...args: string[]): any {
        return JSON.parse((cluster as E2eCluster).kubectl(...args, "-o", "json"));
    }

    before(function () {
        skipWithoutToolchain(this);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-readme-"));
        projectDir = path.join(workDir, "project");
        copyProject(projectDir);
        for (const file of ["Pulumi.yaml", "stacks/Pulumi.dev.yaml"]) committed[file] = digest(path.join(REPO_ROOT, file));
        cluster = startCluster(path.join(workDir, "cluster"));
        const base = pulumiEnv(cluster, path.join(workDir, "pulumi"));
        // The README chooses the backend (pulumi login) and the passphrase (export): neither comes from here.
        delete base.PULUMI_BACKEND_URL;
        delete base.PULUMI_CONFIG_PASSPHRASE;
        fs.mkdirSync(path.join(workDir, "home"));
        env = { ...base, HOME: path.join(workDir, "home"), PULUMI_SKIP_CONFIRMATIONS: "true" };

        const written = readmeCommands(fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"), SECTION);
        for (const line of Object.keys(SUBSTITUTIONS)) {
            assert.ok(written.includes(line), `the README's deploy block no longer has \`${line}\`: update this spec's substitutions`);
        }
        commands.push(...written.flatMap((line) => SUBSTITUTIONS[line] ?? [line]));
    });

    after(() => {
        if (cluster && commands.includes("pulumi destroy") && !outputs.has("pulumi destroy")) {
            spawnSync("bash", ["-c", "pulumi destroy --yes"], { cwd: projectDir, env, stdio: "ignore", timeout: 5 * 60 * 1000 });
        }
        cluster?.down();
        if (workDir && !process.env.E2E_KEEP_STATE) fs.rmSync(workDir, { recursive: true, force: true });
    });

    /** Runs the README's commands up to and including the first that starts with `prefix`. */
    function runThrough(prefix: string): string {
        let last = "";
        while (commands.length > 0) {
            const command = commands.shift()!;
            last = run(command);
            if (command.startsWith(prefix)) return last;
        }
        throw new Error(`the README's deploy block has no \`${prefix}\``);
    }

    it("logs in to the backend folder under $HOME and creates the dev stack with the committed stacks/Pulumi.dev.yaml", () => {
        runThrough("pulumi stack select dev");
        assert.match(run("pulumi whoami --verbose"), new RegExp(`Backend URL: file://${path.join(workDir, "home", ".pulumi-state")}`));
        assert.match(run("pulumi stack --show-name"), /^dev\s*$/);
        // The CLI reads the typed config of Pulumi.yaml and the stack file from stackConfigDir.
        const config = json("pulumi config --json");
        assert.strictEqual(config["emqx-cluster:storageSize"].value, "256Mi", "from stacks/Pulumi.dev.yaml");
        assert.strictEqual(String(config["emqx-cluster:replicas"].value), "3");
        assert.strictEqual(config["emqx-cluster:clusterDomain"].value, "cluster.local", "a Pulumi.yaml default");
    });

    it("sets the context and the dashboard password as a secret, in the copy's stack file only", () => {
        runThrough("pulumi config set --secret dashboardPassword");
        const stackFile = fs.readFileSync(path.join(projectDir, "stacks", "Pulumi.dev.yaml"), "utf8");
        assert.match(stackFile, /emqx-cluster:dashboardPassword:\s*\n\s*secure: /);
        assert.ok(!stackFile.includes(PASSWORD), "the password is encrypted in the stack file");
        assert.match(stackFile, /kubernetes:context: e2e/);
        for (const [file, hash] of Object.entries(committed)) {
            assert.strictEqual(digest(path.join(REPO_ROOT, file)), hash, `${file} of the checkout is unchanged`);
        }
    });

    it("previews every object of the program (index.ts), not the package's library entry", () => {
        const preview = runThrough("pulumi preview");
        assert.match(preview, /emqx:index:EmqxCluster/);
        assert.match(preview, /kubernetes:apps\/v1:StatefulSet/);
        const toCreate = /(\d+) to create/.exec(preview);
        assert.ok(toCreate && Number(toCreate[1]) >= 10, `expected the program's objects to be created:\n${preview}`);
    });

    it("converges with `pulumi up`: the StatefulSet is Ready on the control plane", () => {
        const up = runThrough("pulumi up");
        assert.match(up, /(\d+) created/);
        const sts = kubectlJson("-n", "default", "get", "statefulset", "emqx");
        assert.strictEqual(sts.spec.replicas, 3);
        assert.strictEqual(sts.status.readyReplicas, 3);
        assert.strictEqual(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "256Mi", "the dev stack's size");
    });

    it("prints the outputs clients need: the MQTT URL of the allocated NodePort, the password only with --show-secrets", () => {
        runThrough("pulumi stack output --show-secrets dashboardPassword");
        const service = kubectlJson("-n", "default", "get", "service", "emqx");
        const allocated = service.spec.ports.find((p: any) => p.name === "mqtt").nodePort;
        assert.strictEqual(outputs.get("pulumi stack output mqttUrl"), `mqtt://localhost:${allocated}`);
        assert.strictEqual(outputs.get("pulumi stack output --show-secrets dashboardPassword"), PASSWORD);

        const all = json("pulumi stack output --json");
        assert.strictEqual(all.nodePort, allocated);
        assert.strictEqual(all.dashboardPassword, "[secret]");
        // The program's exports, not the library's (EmqxCluster, DiscoveryMode, ...).
        assert.deepStrictEqual(Object.keys(all).sort(), [
            "clientConfig", "dashboardNodePort", "dashboardPassword", "dashboardUrl", "dashboardUsername", "headlessServiceName",
            "metricsUrls", "mqttInternalUrl", "mqttPassword", "mqttUrl", "mqttUsername", "namespace", "nodeNames", "nodePort", "statefulSetName",
        ]);
        // The generated MQTT user's password is a secret output too (the management application's are undefined on 5.x).
        assert.strictEqual(all.mqttPassword, "[secret]");
    });

    it("removes the objects with `pulumi destroy`, keeping the data claims", () => {
        runThrough("pulumi destroy");
        assert.throws(() => cluster!.kubectl("-n", "default", "get", "statefulset", "emqx"), /NotFound/);
        const claims = kubectlJson("-n", "default", "get", "pvc", "-l", "app.kubernetes.io/instance=emqx").items;
        assert.strictEqual(claims.length, 3);
        assert.deepStrictEqual(commands, [], "every command of the README's block ran");
    });
});
