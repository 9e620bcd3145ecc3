/**
 * The package as another program gets it: `npm pack`, installed from the tarball into a copy of
 * examples/consumer-ts, type-checked there and run on the mock engine. Nothing is written to this checkout.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MockEngine, RunResult, TYPES, kubernetesObjects, single, valueOf } from "./harness";

const ROOT = path.resolve(__dirname, "..");
const EXAMPLE = path.join(ROOT, "examples", "consumer-ts");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const TARBALL = `${PACKAGE.name.replace(/^@/, "").replace("/", "-")}-${PACKAGE.version}.tgz`;
const NAMESPACE = "messaging";

function npm(args: string[], cwd: string): string {
    // Quiet and offline-friendly: the packages the example needs are the ones this checkout installed, so npm's
    // cache answers without the registry.
    return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
    });
}

/** A copy of the package's sources with this checkout's node_modules, so that packing builds dist/ there, not here. */
function packageSources(into: string): string {
    const skip = new Set(["node_modules", ".git", "dist", "examples", "out", ".pulumi"]);
    fs.cpSync(ROOT, into, { recursive: true, filter: (src) => src === ROOT || !skip.has(path.relative(ROOT, src)) });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(into, "node_modules"), "dir");
    return into;
}

describe("the packed package, used by another TypeScript program (examples/consumer-ts)", function () {
    // Packing builds the package (tsc) and the install comes from npm's cache: ~20 s together.
    this.timeout(180_000);

    let work: string;
    let consumer: string;
    let packedFiles: string[];

    before(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "emqx-consumer-"));
        const sources = packageSources(path.join(work, "package"));
        const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", work], sources));
        assert.strictEqual(packed.filename, TARBALL);
        packedFiles = packed.files.map((f: { path: string }) => f.path);

        consumer = path.join(work, "consumer");
        fs.cpSync(EXAMPLE, consumer, {
            recursive: true,
            filter: (src) => !["node_modules", "bin"].includes(path.basename(src)),
        });
        fs.copyFileSync(path.join(work, TARBALL), path.join(consumer, TARBALL));
        npm(["install", "--prefer-offline", "--ignore-scripts"], consumer);
    });

    after(() => {
        if (work) {
            fs.rmSync(work, { recursive: true, force: true });
        }
    });

    it("depends on the tarball this version packs to", () => {
        const example = JSON.parse(fs.readFileSync(path.join(EXAMPLE, "package.json"), "utf8"));
        assert.strictEqual(example.dependencies[PACKAGE.name], `file:./${TARBALL}`);
    });

    it("ships the compiled component with its type declarations, and no sources or tests", () => {
        for (const file of ["dist/components/index.js", "dist/components/index.d.ts", "dist/components/client-config.d.ts"]) {
            assert.ok(packedFiles.includes(file), `${file} is not in the tarball`);
        }
        const stray = packedFiles.filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts"));
        assert.deepStrictEqual(stray, []);
        assert.ok(!packedFiles.some((f) => f.startsWith("test/") || f.startsWith("examples/")));
    });

    it("publishes only its entry point: nothing else needs to reach its files", () => {
        const installed = JSON.parse(fs.readFileSync(path.join(consumer, "node_modules", PACKAGE.name, "package.json"), "utf8"));
        assert.deepStrictEqual(Object.keys(installed.exports).sort(), [".", "./package.json"]);
    });

    it("serializes the change guard, as Pulumi does from the installed package, to code that requires nothing of it", async () => {
        // The consumer's own copies: the installed package and the @pulumi/pulumi it resolves, as a program run there.
        const installedGuard = path.join(consumer, "node_modules", PACKAGE.name, "dist", "components", "change-guard.js");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { changeGuardProvider } = require(installedGuard);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { serializeFunction } = require(require.resolve("@pulumi/pulumi/runtime/closure/serializeClosure", { paths: [consumer] }));
        // What pulumi.dynamic.Resource stores in the state as `__provider`.
        const { text } = await serializeFunction(() => changeGuardProvider, { allowSecrets: true });
        const required = [...text.matchAll(/require\(["'`]([^"'`]+)["'`]\)/g)].map((m: RegExpMatchArray) => m[1]);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const builtins: string[] = require("module").builtinModules;
        const foreign = required.filter((r) => !r.startsWith("@pulumi/pulumi") && !builtins.includes(r.replace(/^node:/, "")));
        assert.deepStrictEqual(foreign, [], `the serialized guard requires ${foreign.join(", ")}`);
        assert.ok(!text.includes(PACKAGE.name), "the serialized guard names the package");
        assert.match(text, /acknowledgedChanges/, "the rules are not in the serialized code");
    });

    it("type-checks against the installed package", () => {
        const tsc = path.join(consumer, "node_modules", "typescript", "bin", "tsc");
        try {
            execFileSync(process.execPath, [tsc, "--noEmit", "-p", consumer], { encoding: "utf8", stdio: "pipe" });
        } catch (err) {
            assert.fail(`tsc failed in the consumer:\n${(err as { stdout?: string }).stdout ?? err}`);
        }
    });

    describe("run on the mock engine", () => {
        let run: RunResult<Record<string, pulumi.Output<unknown>>>;

        before(async function () {
            this.timeout(30_000);
            const entry = require.resolve(path.join(consumer, "index.ts"));
            // A resource whose inputs cannot be serialized fails outside the program's promise chain: surface that
            // error here instead of waiting for a registration that never completes.
            let onRejection: (reason: unknown) => void = () => {};
            const failed = new Promise<never>((_, reject) => {
                onRejection = reject;
                process.once("unhandledRejection", onRejection);
            });
            try {
                run = await Promise.race([
                    new MockEngine("emqx-consumer-ts", "dev").run(
                        // eslint-disable-next-line @typescript-eslint/no-require-imports
                        () => ({ ...require(entry) }),
                        {
                            config: {
                                "emqx-consumer-ts:kubeconfig": "/etc/kube/messaging.yaml",
                                "emqx-consumer-ts:kubeContext": "messaging-prod",
                                "emqx-consumer-ts:namespace": NAMESPACE,
                                "emqx-consumer-ts:externalHost": "mqtt.example.com",
                            },
                        },
                    ),
                    failed,
                ]);
                await Promise.race([valueOf(run.value.clientConfig), failed]);
            } finally {
                process.removeListener("unhandledRejection", onRejection);
            }
        });

        it("runs the component from the installed tarball, not from this checkout", () => {
            const loaded = Object.keys(require.cache).filter((f) => f.includes(`${path.sep}dist${path.sep}components${path.sep}`));
            assert.ok(loaded.length > 0 && loaded.every((f) => f.startsWith(path.join(consumer, "node_modules"))), loaded.join("\n"));
        });

        it("configures its provider with the kubeconfig and context it was given", () => {
            const provider = single(run.resources, "pulumi:providers:kubernetes");
            assert.strictEqual(provider.inputs.kubeconfig, "/etc/kube/messaging.yaml");
            assert.strictEqual(provider.inputs.context, "messaging-prod");
        });

        it("creates every Kubernetes object with that provider, in its namespace", () => {
            const provider = single(run.resources, "pulumi:providers:kubernetes");
            const reference = `${provider.urn}::${provider.name}-id`;
            const objects = kubernetesObjects(run.resources).filter((o) => o.type !== "kubernetes:core/v1:Namespace");
            assert.ok(objects.some((o) => o.type === TYPES.statefulSet));
            for (const object of objects) {
                assert.strictEqual(object.provider, reference, `${object.type} ${object.name}: provider`);
                assert.strictEqual(object.state.metadata.namespace, NAMESPACE, `${object.type} ${object.name}: namespace`);
            }
            assert.strictEqual(single(run.resources, "kubernetes:core/v1:Namespace").provider, reference);
        });

        it("makes the cluster wait for the namespace it creates", () => {
            const namespace = single(run.resources, "kubernetes:core/v1:Namespace");
            assert.strictEqual(namespace.inputs.metadata.name, NAMESPACE);
            assert.ok(single(run.resources, TYPES.component).dependencies.includes(namespace.urn));
        });

        it("exports the client URLs", async () => {
            assert.match(String(await valueOf(run.value.mqttUrl)), /^mqtt:\/\/mqtt\.example\.com:\d+$/);
            assert.strictEqual(await valueOf(run.value.mqttInternalUrl), `mqtt://broker.${NAMESPACE}.svc.cluster.local:1883`);
        });
    });
});
