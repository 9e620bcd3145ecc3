/**
 * The Node.js language host stand-in (e2e/language-host/main.js), driven over gRPC the way the Pulumi CLI drives
 * pulumi-language-nodejs: started as `<host> <engine address>` in the project folder, port read from the first line
 * of stdout, then GetPluginInfo, About, GetRequiredPackages, Run, RunPlugin, Cancel. The SDK entry points are
 * replaced (PULUMI_LANGUAGE_NODEJS_RUN_PATH, as the real host allows) by a script that records what it was given,
 * so these tests check the arguments and environment the host hands to @pulumi/pulumi/cmd/run and cmd/run-plugin.
 * test/e2e/readme-deploy.spec.ts runs the real entry points under the real CLI.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import * as services from "@pulumi/pulumi/proto/language_grpc_pb";
import * as language from "@pulumi/pulumi/proto/language_pb";

const ROOT = path.resolve(__dirname, "..");
const HOST = path.join(ROOT, "e2e", "language-host", "main.js");

/**
 * A stand-in for cmd/run and cmd/run-plugin: records argv, cwd and the environment, then exits with the code in
 * RECORD_EXIT or in the file <RECORD_FILE>.exit, or ("wait") waits for SIGINT.
 */
const RECORDER = `
const fs = require("fs");
const e = process.env;
const exit = fs.existsSync(e.RECORD_FILE + ".exit") ? fs.readFileSync(e.RECORD_FILE + ".exit", "utf8") : e.RECORD_EXIT;
if (exit === "wait") {
    process.on("SIGINT", () => { fs.writeFileSync(e.RECORD_FILE + ".interrupted", "yes"); process.exit(5); });
    setInterval(() => {}, 1000);
}
fs.writeFileSync(e.RECORD_FILE, JSON.stringify({ argv: process.argv.slice(2), execArgv: process.execArgv, cwd: process.cwd(), env: {
    PULUMI_CONFIG: e.PULUMI_CONFIG, PULUMI_CONFIG_SECRET_KEYS: e.PULUMI_CONFIG_SECRET_KEYS,
    PULUMI_NODEJS_TYPESCRIPT: e.PULUMI_NODEJS_TYPESCRIPT, PULUMI_NODEJS_TSCONFIG_PATH: e.PULUMI_NODEJS_TSCONFIG_PATH,
    FROM_REQUEST: e.FROM_REQUEST } }));
process.stdout.write("12345\\n");
if (e.RECORD_STDERR) process.stderr.write("a line on stderr\\n");
if (exit !== "wait") process.exitCode = Number(exit || 0);
`;

interface Host {
    client: any;
    process: ChildProcess;
}

function call<T>(client: any, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (error: Error | null, response: T) => (error ? reject(error) : resolve(response))));
}

function programInfo(dir: string, entryPoint: string, options: Record<string, unknown> = { typescript: true }) {
    const info = new language.ProgramInfo();
    info.setRootDirectory(dir);
    info.setProgramDirectory(dir);
    info.setEntryPoint(entryPoint);
    info.setOptions(Struct.fromJavaScript(options as any));
    return info;
}

describe("the Node.js language host stand-in, over gRPC", function () {
    this.timeout(30000);
    let work: string;
    let record: string;
    let host: Host;
    const exitWith = (code: string | undefined) =>
        code === undefined ? fs.rmSync(`${record}.exit`, { force: true }) : fs.writeFileSync(`${record}.exit`, code);

    async function startHost(env: Record<string, string> = {}, flags: string[] = []): Promise<Host> {
        const child = spawn("node", [HOST, ...flags, "127.0.0.1:1"], {
            cwd: ROOT,
            env: { ...process.env, PULUMI_LANGUAGE_NODEJS_RUN_PATH: path.join(work, "recorder.js"), RECORD_FILE: record, ...env },
            stdio: ["ignore", "pipe", "inherit"],
        });
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (chunk) => {
                out += chunk;
                if (out.includes("\n")) resolve(out.split("\n")[0]);
            });
            child.once("exit", (code) => reject(new Error(`host exited with ${code} before printing its port`)));
        });
        assert.match(port, /^\d+$/, "the first line of stdout is the port");
        const client: any = new services.LanguageRuntimeClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure() as any);
        return { process: child, client };
    }

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "language-host-"));
        record = path.join(work, "record.json");
        fs.writeFileSync(path.join(work, "recorder.js"), RECORDER);
        host = await startHost();
    });

    after(() => {
        host?.client.close();
        host?.process.kill("SIGTERM");
        fs.rmSync(work, { recursive: true, force: true });
    });

    beforeEach(() => {
        fs.rmSync(record, { force: true });
        fs.rmSync(`${record}.interrupted`, { force: true });
        exitWith(undefined);
    });

    const recorded = () => JSON.parse(fs.readFileSync(record, "utf8"));

    it("starts with the runtime-option flags older plugin hosts pass, and refuses unknown flags", async () => {
        // pulumi-yaml v1.25.0 starts a TypeScript component package this way.
        const started = await startHost({}, ["-typescript=false", "-root", ROOT, "-tsconfig=tsconfig.json", "-nodeargs", ""]);
        try {
            const info: any = await call(started.client, "getPluginInfo", new Empty());
            assert.ok(info.getVersion());
        } finally {
            started.client.close();
            started.process.kill("SIGTERM");
        }
        await assert.rejects(() => startHost({}, ["-bogus=1"]), /exited with 1 before printing its port/);
    });

    it("reports the version it stands in for, the one the SDK and the CLI are pinned to", async () => {
        const info: any = await call(host.client, "getPluginInfo", new Empty());
        const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version;
        assert.strictEqual(info.getVersion(), `v${sdk}`);
    });

    it("answers About with this Node.js", async () => {
        const request = new language.AboutRequest();
        request.setInfo(programInfo(ROOT, "index.ts"));
        const about: any = await call(host.client, "about", request);
        assert.strictEqual(about.getVersion(), process.version);
        assert.ok(fs.existsSync(about.getExecutable()));
        assert.strictEqual(about.getMetadataMap().get("packagemanager"), "npm");
    });

    it("lists the resource plugins of the packages under node_modules, skipping policy packs", async () => {
        const project = path.join(work, "project");
        const write = (file: string, content: unknown) => {
            fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
            fs.writeFileSync(path.join(project, file), JSON.stringify(content));
        };
        write("package.json", { name: "app", pulumi: { resource: true } });
        write("node_modules/@pulumi/kubernetes/package.json", { name: "@pulumi/kubernetes", version: "4.25.0", pulumi: { resource: true, name: "kubernetes" } });
        write("node_modules/@pulumi/pulumi/package.json", { name: "@pulumi/pulumi", version: "3.248.0" });
        write("node_modules/third/node_modules/@acme/thing/package.json", {
            name: "@acme/thing", version: "1.0.0",
            pulumi: { resource: true, name: "terraform-provider", version: "0.3.0", server: "https://example.com",
                parameterization: { name: "thing", version: "1.0.0", value: Buffer.from("param").toString("base64") } },
        });
        write("policy/PulumiPolicy.yaml", {});
        write("policy/node_modules/@pulumi/random/package.json", { name: "@pulumi/random", version: "4.0.0", pulumi: { resource: true } });
        const request = new language.GetRequiredPackagesRequest();
        request.setInfo(programInfo(project, "."));
        const response: any = await call(host.client, "getRequiredPackages", request);
        const found = response.getPackagesList().map((p: any) => ({
            name: p.getName(), kind: p.getKind(), version: p.getVersion(), server: p.getServer(),
            parameterization: p.getParameterization() && [p.getParameterization().getName(), Buffer.from(p.getParameterization().getValue()).toString()],
        }));
        found.sort((a: any, b: any) => a.name.localeCompare(b.name));
        assert.deepStrictEqual(found, [
            { name: "kubernetes", kind: "resource", version: "v4.25.0", server: "", parameterization: undefined },
            { name: "terraform-provider", kind: "resource", version: "v0.3.0", server: "https://example.com", parameterization: ["thing", "param"] },
        ]);
    });

    it("finds this project's Kubernetes provider", async () => {
        const request = new language.GetRequiredPackagesRequest();
        request.setInfo(programInfo(ROOT, "index.ts"));
        const response: any = await call(host.client, "getRequiredPackages", request);
        const names = response.getPackagesList().map((p: any) => `${p.getName()}@${p.getVersion()}`);
        assert.ok(names.includes("kubernetes@v4.25.0"), names.join(", "));
    });

    function runRequest(overrides: { dryRun?: boolean; options?: Record<string, unknown> } = {}) {
        const request = new language.RunRequest();
        request.setProject("emqx-cluster");
        request.setStack("dev");
        request.setOrganization("organization");
        request.setPwd(ROOT);
        request.setMonitorAddress("127.0.0.1:4242");
        request.setParallel(16);
        request.setDryrun(overrides.dryRun ?? false);
        request.getConfigMap().set("emqx-cluster:replicas", "3");
        request.getConfigMap().set("emqx-cluster:dashboardPassword", "s3cret");
        request.getConfigMap().set("kubernetes:config:context", "e2e");
        request.setConfigsecretkeysList(["emqx-cluster:dashboardPassword"]);
        request.setArgsList(["--extra"]);
        request.setInfo(programInfo(ROOT, "index.ts", overrides.options));
        return request;
    }

    it("runs cmd/run with the monitor, engine, project, stack, program folder, parallelism and entry point", async () => {
        const response: any = await call(host.client, "run", runRequest({ dryRun: true }));
        assert.strictEqual(response.getError(), "");
        const { argv } = recorded();
        assert.deepStrictEqual(argv, [
            "--monitor", "127.0.0.1:4242", "--engine", "127.0.0.1:1", "--organization", "organization",
            "--project", "emqx-cluster", "--root-directory", ROOT, "--stack", "dev", "--pwd", ROOT,
            "--dry-run", "--parallel", "16", "index.ts", "--extra",
        ]);
    });

    it("passes --dry-run only for a preview", async () => {
        await call(host.client, "run", runRequest({ dryRun: false }));
        assert.ok(!recorded().argv.includes("--dry-run"));
    });

    it("hands the config and the secret keys to the program in PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS", async () => {
        await call(host.client, "run", runRequest());
        const { env } = recorded();
        assert.deepStrictEqual(JSON.parse(env.PULUMI_CONFIG), {
            "emqx-cluster:config:dashboardPassword": "s3cret",
            "emqx-cluster:config:replicas": "3",
            "kubernetes:config:context": "e2e",
        });
        assert.deepStrictEqual(JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS), ["emqx-cluster:dashboardPassword"]);
    });

    it("runs TypeScript through the SDK's ts-node unless runtime.options.typescript is false", async () => {
        await call(host.client, "run", runRequest());
        assert.strictEqual(recorded().env.PULUMI_NODEJS_TYPESCRIPT, "true");
        await call(host.client, "run", runRequest({ options: { typescript: false, tsconfig: "tsconfig.build.json" } }));
        assert.strictEqual(recorded().env.PULUMI_NODEJS_TYPESCRIPT, undefined);
        assert.strictEqual(recorded().env.PULUMI_NODEJS_TSCONFIG_PATH, "tsconfig.build.json");
    });

    it("puts runtime.options.nodeargs before the entry point", async () => {
        await call(host.client, "run", runRequest({ options: { nodeargs: "--max-old-space-size=512 --title 'a b'" } }));
        const { argv, execArgv } = recorded();
        assert.deepStrictEqual(execArgv, ["--max-old-space-size=512", "--title", "a b"]);
        assert.deepStrictEqual(argv.slice(0, 2), ["--monitor", "127.0.0.1:4242"], "node options are not the program's arguments");
    });

    it("refuses runtime options of the wrong type, naming the option", async () => {
        const response: any = await call(host.client, "run", runRequest({ options: { typescript: "yes" } }));
        assert.strictEqual(response.getError(), "typescript option must be a boolean");
    });

    it("reports a failing program's exit code, and bails without a message on exit code 32", async () => {
        exitWith("3");
        const failed: any = await call(host.client, "run", runRequest());
        assert.strictEqual(failed.getError(), "Program exited with non-zero exit code: 3");
        assert.strictEqual(failed.getBail(), false);
        exitWith("32");
        const bailed: any = await call(host.client, "run", runRequest());
        assert.strictEqual(bailed.getError(), "");
        assert.strictEqual(bailed.getBail(), true);
    });

    it("interrupts a running program on Cancel", async () => {
        exitWith("wait");
        const running = call<any>(host.client, "run", runRequest());
        for (let i = 0; i < 100 && !fs.existsSync(record); i++) await new Promise((r) => setTimeout(r, 50));
        await call(host.client, "cancel", new Empty());
        const response = await running;
        assert.strictEqual(response.getError(), "Program exited with non-zero exit code: 5");
        assert.ok(fs.existsSync(`${record}.interrupted`), "the program got SIGINT");
    });

    function runPlugin(request: any): Promise<{ stdout: string; stderr: string; error?: grpc.ServiceError }> {
        return new Promise((resolve) => {
            let stdout = "";
            let stderr = "";
            const stream = host.client.runPlugin(request);
            stream.on("data", (m: any) => {
                if (m.hasStdout()) stdout += Buffer.from(m.getStdout()).toString();
                if (m.hasStderr()) stderr += Buffer.from(m.getStderr()).toString();
            });
            stream.on("error", (error: grpc.ServiceError) => resolve({ stdout, stderr, error }));
            stream.on("end", () => resolve({ stdout, stderr }));
        });
    }

    function pluginRequest(env: string[]) {
        const request = new language.RunPluginRequest();
        request.setPwd(work);
        request.setArgsList(["--logtostderr"]);
        request.setEnvList(env);
        request.setKind("resource");
        request.setName("emqx");
        request.setInfo(programInfo(ROOT, "."));
        return request;
    }

    it("runs a plugin with cmd/run-plugin: program folder then args, in the CLI's folder and environment, output streamed", async () => {
        const env = [`PATH=${process.env.PATH}`, `RECORD_FILE=${record}`, "RECORD_STDERR=1", "FROM_REQUEST=first", "FROM_REQUEST=yes"];
        const { stdout, stderr, error } = await runPlugin(pluginRequest(env));
        assert.strictEqual(error, undefined);
        assert.strictEqual(stdout, "12345\n");
        assert.strictEqual(stderr, "a line on stderr\n");
        const { argv, cwd, env: seen } = recorded();
        assert.deepStrictEqual(argv, [ROOT, "--logtostderr"]);
        assert.strictEqual(fs.realpathSync(cwd), fs.realpathSync(work));
        assert.strictEqual(seen.FROM_REQUEST, "yes");
        assert.strictEqual(seen.PULUMI_NODEJS_TYPESCRIPT, "true");
    });

    it("ends the plugin stream with the exit code as an error when the plugin fails", async () => {
        const { error } = await runPlugin(pluginRequest([`PATH=${process.env.PATH}`, `RECORD_FILE=${record}`, "RECORD_EXIT=7"]));
        assert.strictEqual(error?.details, "Program exited with non-zero exit code: 7");
    });

    it("interrupts the plugin when the CLI cancels the stream", async () => {
        const stream = host.client.runPlugin(pluginRequest([`PATH=${process.env.PATH}`, `RECORD_FILE=${record}`, "RECORD_EXIT=wait"]));
        stream.on("error", () => undefined);
        await new Promise((resolve) => stream.once("data", resolve));
        stream.cancel();
        for (let i = 0; i < 100 && !fs.existsSync(`${record}.interrupted`); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(fs.existsSync(`${record}.interrupted`), "the plugin got SIGINT");
    });
});
