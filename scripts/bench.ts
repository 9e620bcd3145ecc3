/**
 * `npm run bench`: how long the real Pulumi CLI takes to deploy and change the dev stack on the local control plane
 * (scripts/e2e-cluster.sh), for 3, 9 and 27 replicas, against two references measured in the same run:
 *
 * - the limit: the same objects (`npm run render`'s machinery, generated names replaced by fixed ones) applied with
 *   `kubectl apply --server-side`, then `kubectl rollout status` until the StatefulSet is Ready;
 * - the Pulumi floor: a program that creates one ConfigMap, driven by the same CLI the same way.
 *
 * Each Pulumi sequence runs in its own Node.js process (the program's process: inline programs of the Automation
 * API, as in test/e2e/lifecycle.spec.ts), which reports its peak resident memory. Prints a table of medians and
 * ratios, and writes every sample as JSON.
 *
 *   npm run bench [-- --replicas 3,9,27 --runs 3 --out bench-results.json --baseline <checkout>]
 *
 * `--baseline <git ref>` (e.g. `main`) also measures that commit's program in the same run, each sequence right after
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
import { stackConfig } from "../test/stack-config";
import { renderStack } from "./render";

const NAMESPACE = "default";
const INSTANCE_SELECTOR = "app.kubernetes.io/instance=emqx";
/** The setting changed by the config-change figure: a new ConfigMap, so every pod rolls. */
const CHANGED_SETTING = ["mqtt.max_packet_size=2MB"];
const ROLLOUT_TIMEOUT = "10m";

/** What one Pulumi child process is asked to do. */
interface PulumiJob {
    readonly kind: "emqx" | "floor";
    /** The checkout whose program (`test/stack-config`'s runProgram: its index.ts and components) runs. */
    readonly programRoot: string;
    readonly stackName: string;
    readonly envVars: Record<string, string>;
    readonly pulumiRoot: string;
    /** Stack config (`project:key` -> value) for the first up; the config change adds `emqxConfig`. */
    readonly config: Record<string, string>;
    readonly changedConfig?: Record<string, string>;
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
    const program =
        job.kind === "emqx"
            ? async () => {
                  // eslint-disable-next-line @typescript-eslint/no-require-imports
                  const { runProgram } = require(path.join(job.programRoot, "test", "stack-config")) as typeof import("../test/stack-config");
                  return runProgram();
              }
            : async () => {
                  // eslint-disable-next-line @typescript-eslint/no-require-imports
                  const k8s = require("@pulumi/kubernetes") as typeof import("@pulumi/kubernetes");
                  new k8s.core.v1.ConfigMap("floor", { metadata: { namespace: NAMESPACE }, data: { key: "value" } });
                  return {};
              };
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: job.stackName, projectName: job.kind === "emqx" ? "emqx-cluster" : "pulumi-floor", program },
        { envVars: job.envVars, pulumiCommand: await PulumiCommand.get({ root: job.pulumiRoot }) },
    );
    const setConfig = (config: Record<string, string>) =>
        stack.setAllConfig(Object.fromEntries(Object.entries(config).map(([key, value]) => [key, { value }])));
    await setConfig(job.config);

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
        await setConfig(job.changedConfig);
        start = process.hrtime.bigint();
        await stack.up();
        configChange = seconds(start);
    }

    start = process.hrtime.bigint();
    await stack.destroy();
    const destroy = seconds(start);
    await stack.workspace.removeStack(job.stackName);
    // maxRSS is in KiB.
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
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
    const baselineRoot = path.join(workDir, "baseline");
    const baselineCommit = baseline && exportCommit(baseline, baselineRoot);
    const programs: [Variant, string][] = [["this tree", REPO_ROOT], ...(baseline ? [["baseline", baselineRoot] as [Variant, string]] : [])];
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
            const floorJob: PulumiJob = { kind: "floor", programRoot: REPO_ROOT, stackName: `floor-${run}`, envVars, pulumiRoot, config: {} };
            samples.floor.push(await inChildProcess(floorJob, workDir));
            log(`run ${run}: floor ${samples.floor[run - 1].firstUp.toFixed(2)} s`);
            for (const size of replicas) {
                if (size === Math.max(...replicas) && run > runsLargest) continue;
                const overrides = { storageClass: "e2e-local", replicas: size };
                const limit = await measureLimit(cluster, workDir, overrides);
                reset(cluster);
                samples.bySize[size].limit.push(limit);
                log(`run ${run}, ${size} replicas: limit ${limit.apply.toFixed(2)} s`);
                for (const [variant, programRoot] of programs) {
                    const job: PulumiJob = {
                        kind: "emqx",
                        programRoot,
                        stackName: `emqx-${size}-${run}-${variant === "baseline" ? "baseline" : "tree"}`,
                        envVars,
                        pulumiRoot,
                        config: stackConfig("dev", overrides),
                        changedConfig: stackConfig("dev", { ...overrides, emqxConfig: CHANGED_SETTING }),
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
