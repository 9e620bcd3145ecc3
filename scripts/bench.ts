/**
 * `npm run bench`: how long the real Pulumi CLI takes to deploy and change the dev stack on the local control plane
 * (scripts/e2e-cluster.sh), for 3, 9 and 27 replicas, against two references measured in the same run:
 *
 * - the limit: the same objects (`npm run render`'s machinery, generated names replaced by fixed ones) applied with
 *   `kubectl apply --server-side`, then `kubectl rollout status` until the StatefulSet is Ready;
 * - the Pulumi floor: a program that creates one ConfigMap, driven by the same CLI the same way.
 *
 * Every Pulumi program runs as `pulumi up` runs it for a user: a project folder (a copy of the checkout, its
 * `Pulumi.yaml`, `tsconfig.json` and stack file), started by the CLI through the Node.js language host. The floor is
 * a project of its own with this checkout's `tsconfig.json`. The program's peak resident memory is reported by the
 * program's own process (a module preloaded with NODE_OPTIONS). Prints a table of medians and ratios, and writes
 * every sample as JSON.
 *
 *   npm run bench [-- --replicas 3,9,27 --runs 3 --out bench-results.json --baseline <checkout>]
 *
 * `--baseline <git ref>` (e.g. `main`) also measures that commit's project in the same run, each sequence right after
 * this tree's, so that both see the same machine load (exported with `git archive`, using this tree's node_modules).
 *
 * Needs the toolchain (scripts/e2e-toolchain.sh). Figures are wall-clock seconds on whatever machine runs it; only
 * the ratios carry over between machines.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { E2eCluster, REPO_ROOT, pulumiEnv, startCluster, toolchainBinDir } from "../test/e2e/cluster";
import { renderStack } from "./render";

const NAMESPACE = "default";
const INSTANCE_SELECTOR = "app.kubernetes.io/instance=emqx";
/** The setting changed by the config-change figure: a new ConfigMap, so every pod rolls. */
const CHANGED_SETTING = ["mqtt.max_packet_size=2MB"];
const ROLLOUT_TIMEOUT = "10m";

/** What one Pulumi child process is asked to do. */
interface PulumiJob {
    /** The project folder the CLI runs in: a copy of a checkout, or the floor's project. */
    readonly projectDir: string;
    readonly stackName: string;
    readonly envVars: Record<string, string>;
    readonly pulumiRoot: string;
    /**
     * Settings over the dev stack's file for the first up (key without the project name -> value, as YAML would
     * hold it); the config change adds `emqxConfig`. Undefined for the floor, which has no config.
     */
    readonly config?: Record<string, unknown>;
    readonly changedConfig?: Record<string, unknown>;
}

/** Seconds per step of one Pulumi sequence, and the process's peak memory. */
interface PulumiSample {
    readonly firstUp: number;
    readonly noopPreview: number;
    readonly noopUp: number;
    readonly configChange?: number;
    readonly destroy: number;
    readonly peakRssMiB: number;
    /** Seconds from the start of the first up at which each resource's step started and finished (engine events). */
    readonly firstUpTimeline: Record<string, [number, number]>;
}

interface LimitSample {
    /** `kubectl apply --server-side` of every object, then `kubectl rollout status` to Ready. */
    readonly apply: number;
    /** The changed objects applied, then `kubectl rollout status` until every pod runs the new template. */
    readonly configChange: number;
}

/** The programs measured: this tree's, and a baseline checkout's when `--baseline` is given. */
type Variant = "this tree" | "baseline";

interface Samples {
    readonly floor: PulumiSample[];
    readonly bySize: Record<number, { limit: LimitSample[]; programs: Partial<Record<Variant, PulumiSample[]>> }>;
}

interface Options {
    readonly replicas: number[];
    readonly runs: number;
    /** Runs of the largest replica count (default: `runs`), to keep a run short on a slow machine. */
    readonly runsLargest: number;
    readonly out: string;
    /** A git ref whose program is measured too. */
    readonly baseline?: string;
}

/** Exports commit `ref` into `dir` with this tree's node_modules, and returns the full commit hash. */
function exportCommit(ref: string, dir: string): string {
    const commit = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("sh", ["-c", `git archive "${commit}" | tar -x -C "${dir}"`], { cwd: REPO_ROOT });
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
    return commit;
}

/** Copies this checkout's files as they are now (tracked and untracked, not ignored) into `dir`, with its node_modules. */
function copyTree(dir: string): void {
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: REPO_ROOT, encoding: "utf8" });
    for (const file of files.split("\0")) {
        if (!file || file.startsWith("node_modules/") || !fs.statSync(path.join(REPO_ROOT, file), { throwIfNoEntry: false })?.isFile()) continue;
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(path.join(REPO_ROOT, file), path.join(dir, file));
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
}

/**
 * The floor's project: a TypeScript program creating one ConfigMap, with this checkout's tsconfig.json (so it is
 * compiled as this checkout's program is) and node_modules.
 */
function floorProject(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: pulumi-floor\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n");
    fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name: "pulumi-floor", private: true }, null, 2)}\n`);
    fs.writeFileSync(
        path.join(dir, "index.ts"),
        'import * as k8s from "@pulumi/kubernetes";\n\n' +
            `new k8s.core.v1.ConfigMap("floor", { metadata: { namespace: "${NAMESPACE}" }, data: { key: "value" } });\n`,
    );
    fs.copyFileSync(path.join(REPO_ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
}

/**
 * Writes the stack's file as a user would edit it: the dev stack's settings with `overrides`, typed as Pulumi.yaml
 * declares them (a list stays a list), keeping what `pulumi stack init` wrote there (the encryption salt).
 */
function writeStackConfig(projectDir: string, stackName: string, overrides: Record<string, unknown>): void {
    const project = YAML.parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { name: string; stackConfigDir?: string };
    const dir = path.join(projectDir, project.stackConfigDir ?? ".");
    const file = path.join(dir, `Pulumi.${stackName}.yaml`);
    const dev = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const existing = fs.existsSync(file) ? ((YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>) : {};
    const config = { ...dev.config, ...Object.fromEntries(Object.entries(overrides).map(([key, value]) => [`${project.name}:${key}`, value])) };
    fs.writeFileSync(file, YAML.stringify({ ...existing, config }));
}

/**
 * A module preloaded (NODE_OPTIONS) into every Node.js process the CLI starts: the program's process, the one
 * running `@pulumi/pulumi/cmd/run`, appends its peak resident memory (KiB) to BENCH_PROGRAM_RSS_FILE as it exits.
 */
const RSS_PROBE = `process.on("exit", () => {
    if (!/[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/]run([\\/]index\\.js)?$/.test(process.argv[1] || "")) return;
    require("fs").appendFileSync(process.env.BENCH_PROGRAM_RSS_FILE, process.resourceUsage().maxRSS + "\\n");
});
`;

function parseArgs(argv: string[]): Options {
    const value = (flag: string) => {
        const at = argv.indexOf(flag);
        return at >= 0 ? argv[at + 1] : undefined;
    };
    const replicas = (value("--replicas") ?? "3,9,27").split(",").map(Number);
    const runs = Number(value("--runs") ?? "3");
    const runsLargest = Number(value("--runs-largest") ?? runs);
    if (replicas.some((n) => !Number.isInteger(n) || n < 1) || [runs, runsLargest].some((n) => !Number.isInteger(n) || n < 1 || n > runs)) {
        throw new Error(
            "usage: npm run bench -- [--replicas 3,9,27] [--runs 3] [--runs-largest <n> (at most --runs)] [--out bench-results.json] [--baseline <git ref>]",
        );
    }
    return { replicas, runs, runsLargest, out: value("--out") ?? "bench-results.json", baseline: value("--baseline") };
}

function seconds(since: bigint): number {
    return Number(process.hrtime.bigint() - since) / 1e9;
}

// ---- the Pulumi side: runs in a child process, one sequence per process ----------------------------------------

async function runPulumiJob(job: PulumiJob): Promise<PulumiSample> {
    const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
    const rssFile = path.join(path.dirname(job.projectDir), `${job.stackName}.rss`);
    const probe = path.join(path.dirname(job.projectDir), "rss-probe.js");
    fs.writeFileSync(probe, RSS_PROBE);
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: job.stackName, workDir: job.projectDir },
        {
            envVars: { ...job.envVars, NODE_OPTIONS: `--require ${probe}`, BENCH_PROGRAM_RSS_FILE: rssFile },
            pulumiCommand: await PulumiCommand.get({ root: job.pulumiRoot }),
        },
    );
    if (job.config) writeStackConfig(job.projectDir, job.stackName, job.config);

    const firstUpTimeline: Record<string, [number, number]> = {};
    let start = process.hrtime.bigint();
    await stack.up({
        onEvent: (event) => {
            const at = Number(seconds(start).toFixed(2));
            const began = event.resourcePreEvent?.metadata;
            if (began) firstUpTimeline[began.urn.split("::").pop() as string] = [at, NaN];
            const done = event.resOutputsEvent?.metadata;
            if (done) (firstUpTimeline[done.urn.split("::").pop() as string] ??= [NaN, NaN])[1] = at;
        },
    });
    const firstUp = seconds(start);

    start = process.hrtime.bigint();
    const preview = await stack.preview();
    const noopPreview = seconds(start);
    assertNoChanges("no-op preview", preview.changeSummary);

    start = process.hrtime.bigint();
    const noop = await stack.up();
    const noopUp = seconds(start);
    assertNoChanges("no-op up", noop.summary.resourceChanges);

    let configChange: number | undefined;
    if (job.changedConfig) {
        writeStackConfig(job.projectDir, job.stackName, job.changedConfig);
        start = process.hrtime.bigint();
        await stack.up();
        configChange = seconds(start);
    }

    start = process.hrtime.bigint();
    await stack.destroy();
    const destroy = seconds(start);
    await stack.workspace.removeStack(job.stackName);
    // One line per program run, in KiB.
    const peakRssMiB = Math.max(...fs.readFileSync(rssFile, "utf8").trim().split("\n").map(Number)) / 1024;
    return { firstUp, noopPreview, noopUp, configChange, destroy, peakRssMiB, firstUpTimeline };
}

function assertNoChanges(what: string, summary: Record<string, number | undefined> | undefined): void {
    const changed = Object.entries(summary ?? {}).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
    if (changed.length > 0) {
        throw new Error(`${what} was not a no-op: ${JSON.stringify(Object.fromEntries(changed))}`);
    }
}

/** Runs one Pulumi sequence in a new Node.js process (this file with `--job`), so its peak memory is its own. */
function inChildProcess(job: PulumiJob, workDir: string): Promise<PulumiSample> {
    const jobFile = path.join(workDir, `${job.stackName}.job.json`);
    const resultFile = path.join(workDir, `${job.stackName}.result.json`);
    fs.writeFileSync(jobFile, JSON.stringify(job));
    return new Promise((resolve, reject) => {
        execFile(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", __filename, "--job", jobFile, resultFile],
            { cwd: REPO_ROOT, env: process.env, maxBuffer: 64 * 1024 * 1024 },
            (err, _stdout, stderr) => {
                if (err) {
                    reject(new Error(`Pulumi sequence ${job.stackName} failed: ${err.message}\n${stderr.slice(-4000)}`));
                    return;
                }
                resolve(JSON.parse(fs.readFileSync(resultFile, "utf8")));
            },
        );
    });
}

// ---- the limit: the same objects with kubectl -----------------------------------------------------------------

/**
 * The stack's objects as one YAML stream kubectl can apply: generated names get the fixed suffix `suffix`, and the
 * claim resize patches are left out (the claims come from the StatefulSet's template, at the same size).
 */
async function manifestsForKubectl(overrides: Record<string, unknown>, suffix: string): Promise<string> {
    const { objects } = await renderStack("dev", overrides);
    return objects
        .filter(({ resource }) => !resource.type.endsWith("Patch"))
        .map(({ manifest }) => `---\n${YAML.stringify(manifest).replaceAll("<generated>", suffix)}`)
        .join("");
}

function timedKubectl(cluster: E2eCluster, ...commands: string[][]): number {
    const start = process.hrtime.bigint();
    for (const args of commands) cluster.kubectl(...args);
    return seconds(start);
}

async function measureLimit(cluster: E2eCluster, workDir: string, overrides: Record<string, unknown>): Promise<LimitSample> {
    const first = path.join(workDir, "limit.yaml");
    const changed = path.join(workDir, "limit-changed.yaml");
    fs.writeFileSync(first, await manifestsForKubectl(overrides, "limit"));
    fs.writeFileSync(changed, await manifestsForKubectl({ ...overrides, emqxConfig: CHANGED_SETTING }, "changed"));
    const rollout = ["-n", NAMESPACE, "rollout", "status", "statefulset/emqx", `--timeout=${ROLLOUT_TIMEOUT}`];
    const apply = (file: string) => ["apply", "--server-side", "--field-manager=bench", "-f", file];
    const sample = {
        apply: timedKubectl(cluster, apply(first), rollout),
        configChange: timedKubectl(cluster, apply(changed), rollout),
    };
    cluster.kubectl("delete", "--wait=true", "-f", changed, "--ignore-not-found");
    cluster.kubectl("-n", NAMESPACE, "delete", "configmap,secret", "-l", INSTANCE_SELECTOR, "--ignore-not-found");
    return sample;
}

/** Leaves the namespace as it was before a deployment: no pods, no claims, every volume Available. */
function reset(cluster: E2eCluster): void {
    cluster.kubectl("-n", NAMESPACE, "wait", "--for=delete", "pod", "-l", INSTANCE_SELECTOR, "--timeout=5m");
    cluster.kubectl("-n", NAMESPACE, "delete", "pvc", "-l", INSTANCE_SELECTOR, "--wait=true");
    cluster.recyclePersistentVolumes();
}

// ---- the report -------------------------------------------------------------------------------------------------

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Figure {
    readonly figure: string;
    /** Median per variant (seconds, or MiB for memory). */
    readonly medians: Partial<Record<Variant, number>>;
    readonly reference?: string;
    readonly referenceMedian?: number;
    /** Median divided by the reference, per variant. */
    readonly ratios?: Partial<Record<Variant, number>>;
}

interface Summary {
    readonly floor: { firstUp: number; noopPreview: number; noopUp: number; peakRssMiB: number };
    readonly bySize: Record<number, Figure[]>;
}

function summarize(samples: Samples): Summary {
    const floor = {
        firstUp: median(samples.floor.map((s) => s.firstUp)),
        noopPreview: median(samples.floor.map((s) => s.noopPreview)),
        noopUp: median(samples.floor.map((s) => s.noopUp)),
        peakRssMiB: median(samples.floor.map((s) => s.peakRssMiB)),
    };
    const bySize: Record<number, Figure[]> = {};
    for (const [size, { limit, programs }] of Object.entries(samples.bySize)) {
        const limitApply = median(limit.map((s) => s.apply));
        const limitChange = median(limit.map((s) => s.configChange));
        const variants = Object.entries(programs) as [Variant, PulumiSample[]][];
        const figure = (name: string, pick: (s: PulumiSample) => number, reference?: string, referenceMedian?: number): Figure => {
            const medians = Object.fromEntries(variants.map(([v, runs]) => [v, median(runs.map(pick))]));
            if (reference === undefined || referenceMedian === undefined) return { figure: name, medians };
            const ratios = Object.fromEntries(Object.entries(medians).map(([v, m]) => [v, m / referenceMedian]));
            return { figure: name, medians, reference, referenceMedian, ratios };
        };
        const limitFigure = (name: string, value: number): Figure => ({ figure: name, medians: { "this tree": value } });
        bySize[Number(size)] = [
            figure("first pulumi up to Ready", (s) => s.firstUp, "floor up + limit", floor.firstUp + limitApply),
            figure("no-op pulumi preview", (s) => s.noopPreview, "floor preview", floor.noopPreview),
            figure("no-op pulumi up", (s) => s.noopUp, "floor no-op up", floor.noopUp),
            figure("config change to Ready", (s) => s.configChange ?? NaN, "floor up + limit", floor.firstUp + limitChange),
            figure("pulumi destroy", (s) => s.destroy),
            figure("peak memory of the program (MiB)", (s) => s.peakRssMiB, "floor program", floor.peakRssMiB),
            limitFigure("limit: kubectl apply + rollout status", limitApply),
            limitFigure("limit: config change + rollout status", limitChange),
        ];
    }
    return { floor, bySize };
}

function table(summary: Summary, runs: string, variants: Variant[]): string {
    const cell = (text: string, width: number) => text.padStart(width);
    const lines = [
        `Pulumi floor (one ConfigMap), medians of ${runs}: first up ${summary.floor.firstUp.toFixed(2)} s, ` +
            `no-op preview ${summary.floor.noopPreview.toFixed(2)} s, no-op up ${summary.floor.noopUp.toFixed(2)} s, ` +
            `peak memory ${summary.floor.peakRssMiB.toFixed(0)} MiB`,
        "",
        `${"replicas".padEnd(9)}${"figure".padEnd(40)}${variants.map((v) => cell(v, 11) + cell("ratio", 8)).join("")}  reference`,
    ];
    for (const [size, figures] of Object.entries(summary.bySize)) {
        for (const f of figures) {
            const memory = f.figure.includes("MiB");
            const format = (value: number) => (memory ? value.toFixed(0) : `${value.toFixed(2)} s`);
            const columns = variants.map((v) => {
                const value = f.medians[v];
                const ratio = f.ratios?.[v];
                return cell(value === undefined ? "" : format(value), 11) + cell(ratio === undefined ? "" : `${ratio.toFixed(2)}x`, 8);
            });
            const reference = f.reference ? `${f.reference} (${format(f.referenceMedian as number)})` : "";
            lines.push(`${size.padEnd(9)}${f.figure.padEnd(40)}${columns.join("")}  ${reference}`);
        }
    }
    return lines.join("\n");
}

/** The commit measured, `-dirty` when the working tree differs from it; undefined outside a git checkout. */
function gitDescription(): string | undefined {
    try {
        return execFileSync("git", ["describe", "--always", "--dirty"], { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

// ---- the run ----------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
    const { replicas, runs, runsLargest, out, baseline } = parseArgs(process.argv.slice(2));
    if (!toolchainBinDir()) throw new Error("the e2e toolchain is not built: run scripts/e2e-toolchain.sh");
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-bench-"));
    const treeRoot = path.join(workDir, "tree");
    const baselineRoot = path.join(workDir, "baseline");
    const floorRoot = path.join(workDir, "floor");
    copyTree(treeRoot);
    floorProject(floorRoot);
    const baselineCommit = baseline && exportCommit(baseline, baselineRoot);
    const programs: [Variant, string][] = [["this tree", treeRoot], ...(baseline ? [["baseline", baselineRoot] as [Variant, string]] : [])];
    // Claims are deleted and their volumes recycled after every deployment: the largest size needs one volume each.
    process.env.E2E_PV_SIZES ??= Array.from({ length: Math.max(...replicas) }, () => "1").join(" ");
    const started = Date.now();
    const cluster = startCluster(path.join(workDir, "cluster"));
    const log = (line: string) => process.stderr.write(`bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s: ${line}\n`);
    try {
        const envVars = pulumiEnv(cluster, path.join(workDir, "backend"));
        const pulumiRoot = path.dirname(cluster.binDir);
        const samples: Samples = {
            floor: [],
            bySize: Object.fromEntries(replicas.map((n) => [n, { limit: [], programs: Object.fromEntries(programs.map(([v]) => [v, []])) }])),
        };
        for (let run = 1; run <= runs; run++) {
            const floorJob: PulumiJob = { projectDir: floorRoot, stackName: `floor-${run}`, envVars, pulumiRoot };
            samples.floor.push(await inChildProcess(floorJob, workDir));
            log(`run ${run}: floor ${samples.floor[run - 1].firstUp.toFixed(2)} s`);
            for (const size of replicas) {
                if (size === Math.max(...replicas) && run > runsLargest) continue;
                const overrides = { storageClass: "e2e-local", replicas: size };
                const limit = await measureLimit(cluster, workDir, overrides);
                reset(cluster);
                samples.bySize[size].limit.push(limit);
                log(`run ${run}, ${size} replicas: limit ${limit.apply.toFixed(2)} s`);
                for (const [variant, projectDir] of programs) {
                    const job: PulumiJob = {
                        projectDir,
                        stackName: `emqx-${size}-${run}-${variant === "baseline" ? "baseline" : "tree"}`,
                        envVars,
                        pulumiRoot,
                        config: overrides,
                        changedConfig: { ...overrides, emqxConfig: CHANGED_SETTING },
                    };
                    const sample = await inChildProcess(job, workDir);
                    reset(cluster);
                    samples.bySize[size].programs[variant]!.push(sample);
                    log(`run ${run}, ${size} replicas, ${variant}: first up ${sample.firstUp.toFixed(2)} s`);
                }
            }
        }
        const summary = summarize(samples);
        const runsNote = runsLargest === runs ? `${runs}` : `${runs} (${runsLargest} for ${Math.max(...replicas)} replicas)`;
        const report = table(summary, runsNote, programs.map(([v]) => v));
        process.stdout.write(`\n${report}\n\nbench took ${((Date.now() - started) / 1000).toFixed(0)} s on ${os.cpus().length} cores\n`);
        const provenance = {
            date: new Date().toISOString(),
            commit: gitDescription(),
            cores: os.cpus().length,
            runs,
            runsLargest,
            replicas,
            baseline: baseline && { ref: baseline, commit: baselineCommit },
        };
        fs.writeFileSync(out, `${JSON.stringify({ ...provenance, summary, samples }, null, 2)}\n`);
        process.stdout.write(`wrote ${out}\n`);
    } finally {
        cluster.down();
        if (!process.env.E2E_KEEP_STATE) fs.rmSync(workDir, { recursive: true, force: true });
    }
}

if (process.argv[2] === "--job") {
    const [jobFile, resultFile] = process.argv.slice(3);
    runPulumiJob(JSON.parse(fs.readFileSync(jobFile, "utf8")))
        .then((sample) => fs.writeFileSync(resultFile, JSON.stringify(sample)))
        .catch((err) => {
            process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
            process.exit(1);
        });
} else {
    main().catch((err) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    });
}
