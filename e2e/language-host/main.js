#!/usr/bin/env node
/**
 * A stand-in for Pulumi's Node.js language host, `pulumi-language-nodejs` v3.248.0, whose Go module is not served
 * by the module proxy (e2e/TOOLCHAIN.md). It speaks the same `pulumirpc.LanguageRuntime` gRPC service, with the
 * generated stubs that ship in `@pulumi/pulumi/proto`, and leaves the real work to the SDK's own entry points, as the
 * real host does: `Run` starts `node @pulumi/pulumi/cmd/run` with the arguments and environment the real host
 * passes, `RunPlugin` starts `node @pulumi/pulumi/cmd/run-plugin`.
 *
 * Started by the CLI as `pulumi-language-nodejs [-tracing <url>] [-runtime nodejs] <engine address>` in the project
 * folder; prints the port it serves on as the first line of stdout. `-version` prints the version and exits.
 *
 * `@pulumi/pulumi` (and through it `@grpc/grpc-js` and `google-protobuf`) is loaded from the working directory's
 * node_modules, or from a NODE_PATH folder. Where it differs from the real host: e2e/TOOLCHAIN.md.
 */
"use strict";
/* global require, process, Buffer, setInterval, clearInterval, setTimeout, clearTimeout */
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run by node without a build step */

const { spawn, execFile } = require("child_process");
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

/** The release this stands in for; the CLI installs it as plugins/language-nodejs-<this>. */
const VERSION = "v3.248.0";
/** The SDK entry points, as the real host names them (PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides the first two). */
const RUN_PATH = "@pulumi/pulumi/cmd/run";
const RUN_PLUGIN_PATH = "@pulumi/pulumi/cmd/run-plugin";
/** Exit code by which cmd/run says it already showed the user an actionable message. */
const EXIT_AFTER_USER_MESSAGE = 32;
/** How often the engine's health is checked (rpcutil.Healthcheck: every 5 minutes). */
const HEALTH_CHECK_MS = 5 * 60 * 1000;
/** How long a cancelled child gets after SIGINT before SIGKILL (the real host's cmd.WaitDelay). */
const KILL_DELAY_MS = 5000;

function fail(message) {
    process.stderr.write(`pulumi-language-nodejs: ${message}\n`);
    process.exit(1);
}

const OBSOLETE_OPTION_FLAGS = new Set(["typescript", "root", "tsconfig", "nodeargs", "packagemanager"]);

/** Go-style flags (`-name value`, `--name=value`) before the engine address. */
function parseFlags(argv) {
    const flags = { tracing: "", runtime: "nodejs", version: false };
    const rest = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const match = /^--?([a-z]+)(?:=(.*))?$/.exec(arg);
        if (!match || rest.length > 0) {
            rest.push(arg);
            continue;
        }
        const [, name, inline] = match;
        if (name === "version") flags.version = inline === undefined || inline === "true";
        else if (name === "tracing" || name === "runtime") flags[name] = inline ?? argv[++i] ?? "";
        // Runtime options as flags, which plugin hosts built on SDKs before v3.214 send (pulumi-yaml v1.25.0 does when
        // it starts a component package). The options that count arrive in each request's program info.
        else if (OBSOLETE_OPTION_FLAGS.has(name)) {
            if (inline === undefined && name !== "typescript") i++;
        } else fail(`flag provided but not defined: -${name}`);
    }
    return { flags, engineAddress: rest[0] ?? "" };
}

/** Loads the SDK's gRPC stubs from the @pulumi/pulumi that the working directory (or NODE_PATH) resolves. */
function loadSdk() {
    const searchPaths = [process.cwd(), ...(process.env.NODE_PATH ?? "").split(path.delimiter).filter(Boolean)];
    let packageJson;
    try {
        packageJson = require.resolve("@pulumi/pulumi/package.json", { paths: searchPaths });
    } catch {
        fail(`cannot find @pulumi/pulumi from ${searchPaths.join(", ")}: run npm install, or set NODE_PATH to a node_modules folder that has it`);
    }
    const sdkRequire = createRequire(packageJson);
    return {
        grpc: sdkRequire("@grpc/grpc-js"),
        services: sdkRequire("./proto/language_grpc_pb.js"),
        language: sdkRequire("./proto/language_pb.js"),
        plugin: sdkRequire("./proto/plugin_pb.js"),
        empty: sdkRequire("google-protobuf/google/protobuf/empty_pb.js"),
    };
}

/** Splits `runtime.options.nodeargs` as a POSIX shell would (quotes and backslashes; no expansion). */
function splitArgs(text) {
    const words = [];
    let word = null;
    let quote = null;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quote === "'") {
            if (c === "'") quote = null;
            else word += c;
        } else if (quote === '"') {
            if (c === '"') quote = null;
            else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) word += text[++i];
            else word += c;
        } else if (c === "'" || c === '"') {
            quote = c;
            word ??= "";
        } else if (c === "\\" && i + 1 < text.length) {
            word = (word ?? "") + text[++i];
        } else if (/\s/.test(c)) {
            if (word !== null) words.push(word);
            word = null;
        } else {
            word = (word ?? "") + c;
        }
    }
    if (quote) throw new Error(`nodeargs: unterminated ${quote} quote in ${JSON.stringify(text)}`);
    if (word !== null) words.push(word);
    return words;
}

/** `runtime.options` of Pulumi.yaml / PulumiPlugin.yaml, checked as the real host checks them. */
function parseOptions(info) {
    const options = info?.getOptions()?.toJavaScript() ?? {};
    const parsed = { typescript: true, tsconfig: "", nodeargs: [] };
    if ("typescript" in options) {
        if (typeof options.typescript !== "boolean") throw new Error("typescript option must be a boolean");
        parsed.typescript = options.typescript;
    }
    if ("tsconfig" in options) {
        if (typeof options.tsconfig !== "string") throw new Error("tsconfigpath option must be a string");
        parsed.tsconfig = options.tsconfig;
    }
    if ("nodeargs" in options) {
        if (typeof options.nodeargs !== "string") throw new Error("nodeargs option must be a string");
        parsed.nodeargs = splitArgs(options.nodeargs);
    }
    return parsed;
}

/** Resolves an SDK entry point from a directory, as `node -e require.resolve(...)` run there does. */
function locateModule(mod, dir, installHint) {
    return new Promise((resolve, reject) => {
        const script =
            `try { console.log(require.resolve(${JSON.stringify(mod)})); } catch (e) { ` +
            `console.error(e.code === "MODULE_NOT_FOUND" ? ${JSON.stringify(`It looks like the Pulumi SDK has not been installed. Have you run ${installHint}?`)} : e.message); process.exit(1); }`;
        execFile("node", ["-e", script], { cwd: dir, encoding: "utf8" }, (error, stdout, stderr) => {
            if (error) reject(new Error(stderr.trim() || error.message));
            else resolve(stdout.trim());
        });
    });
}

/** `ns:name` -> `ns:config:name`, the key form older SDKs read from PULUMI_CONFIG (newer ones read both). */
function legacyConfigKey(key) {
    const at = key.indexOf(":");
    if (at < 0) throw new Error(`could not parse ${key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`);
    const name = key.slice(at + 1);
    return `${key.slice(0, at)}:config:${name.startsWith("config:") ? name.slice("config:".length) : name}`;
}

/** The arguments the real host gives cmd/run (constructArguments), after the node arguments. */
function runArguments(req, runPath, engineAddress, tracing) {
    const info = req.getInfo();
    const args = [runPath];
    const flag = (name, value) => value && args.push(`--${name}`, value);
    flag("monitor", req.getMonitorAddress());
    flag("engine", engineAddress);
    flag("organization", req.getOrganization());
    flag("project", req.getProject());
    flag("root-directory", info.getRootDirectory());
    flag("stack", req.getStack());
    flag("pwd", info.getProgramDirectory());
    if (req.getDryrun()) args.push("--dry-run");
    flag("parallel", String(req.getParallel()));
    flag("tracing", tracing);
    args.push(info.getEntryPoint(), ...req.getArgsList());
    return args;
}

/** The environment the real host gives cmd/run: its own, plus the config, secret keys and TypeScript settings. */
function runEnvironment(req, options) {
    const config = {};
    for (const [key, value] of [...req.getConfigMap().entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        config[legacyConfigKey(key)] = value;
    }
    const env = {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
    };
    if (options.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
    return env;
}

/** `KEY=value` lines -> an environment object; later entries win, as with os/exec. */
function environmentOf(lines) {
    const env = {};
    for (const line of lines) {
        const at = line.indexOf("=");
        if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
    }
    return env;
}

/** The `pulumi` section of a package.json, as a PackageDependency, or undefined when it has no resource plugin. */
function packageDependency(sdk, info) {
    const pulumi = info.pulumi ?? {};
    if (!pulumi.resource) return undefined;
    let name = pulumi.name;
    if (!name) {
        if (!info.name) throw new Error('missing expected "name" property');
        if (!info.name.startsWith("@pulumi/")) {
            throw new Error(`Missing property "name" for the third-party plugin '${info.name}' inside package.json under the "pulumi" section.`);
        }
        name = info.name.slice("@pulumi/".length);
    }
    let version = pulumi.version || info.version;
    if (!version) throw new Error('Missing expected "version" property');
    if (!version.startsWith("v")) version = `v${version}`;
    const dependency = new sdk.plugin.PackageDependency();
    dependency.setName(name);
    dependency.setKind("resource");
    dependency.setVersion(version);
    dependency.setServer(pulumi.server ?? "");
    if (pulumi.parameterization) {
        const p = new sdk.plugin.PackageParameterization();
        p.setName(pulumi.parameterization.name ?? "");
        p.setVersion(pulumi.parameterization.version ?? "");
        p.setValue(Buffer.from(pulumi.parameterization.value ?? "", "base64"));
        dependency.setParameterization(p);
    }
    return dependency;
}

/**
 * Every package with a resource plugin under a node_modules folder below `dir` (getPackagesFromDir): all folders are
 * walked, symlinks followed once, policy packs skipped; package.json files are read only inside node_modules.
 */
function requiredPackages(sdk, dir, inNodeModules, visited, found, problems) {
    dir = path.resolve(dir);
    if (visited.has(dir)) return;
    visited.add(dir);
    let entries;
    try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
        problems.push(`reading plugin dir ${dir}: ${e.message}`);
        return;
    }
    for (const entry of entries) {
        let full = path.join(dir, entry.name);
        let isDir = entry.isDirectory();
        if (entry.isSymbolicLink()) {
            try {
                full = fs.realpathSync(full);
                isDir = fs.statSync(full).isDirectory();
            } catch (e) {
                problems.push(`resolving link in plugin dir ${full}: ${e.message}`);
                continue;
            }
        }
        if (isDir) {
            if (fs.existsSync(path.join(full, "PulumiPolicy.yaml")) || fs.existsSync(path.join(full, "PulumiPolicy.yml"))) continue;
            requiredPackages(sdk, full, inNodeModules || path.basename(dir) === "node_modules", visited, found, problems);
        } else if (inNodeModules && entry.name === "package.json") {
            try {
                const dependency = packageDependency(sdk, JSON.parse(fs.readFileSync(full, "utf8")));
                if (dependency) found.push(dependency);
            } catch (e) {
                problems.push(`package.json ${full}: ${e.message}`);
            }
        }
    }
}

/** Sends SIGINT to a child, then SIGKILL if it is still there after KILL_DELAY_MS. */
function interrupt(child) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), KILL_DELAY_MS);
    timer.unref();
    child.once("exit", () => clearTimeout(timer));
}

/** Exit code as Go's ExitCode() reports it: -1 when a signal ended the process. */
function exitCodeOf(code) {
    return code === null ? -1 : code;
}

function serve({ flags, engineAddress }) {
    const sdk = loadSdk();
    const { grpc } = sdk;
    const running = new Set();
    let host = { engineAddress };

    const track = (child) => {
        running.add(child);
        child.once("exit", () => running.delete(child));
        return child;
    };
    const unary = (work) => (call, callback) => {
        Promise.resolve()
            .then(() => work(call.request, call))
            .then((response) => callback(null, response), (error) => callback({ code: grpc.status.UNKNOWN, details: error.message }));
    };

    const implementation = {
        getPluginInfo: unary(() => {
            const info = new sdk.plugin.PluginInfo();
            info.setVersion(VERSION);
            return info;
        }),

        handshake: unary((req) => {
            host = { engineAddress: req.getEngineAddress() };
            watchEngine(host.engineAddress);
            return new sdk.language.LanguageHandshakeResponse();
        }),

        about: unary(async (req) => {
            parseOptions(req.getInfo());
            const npmVersion = await new Promise((resolve) =>
                execFile("npm", ["--version"], { encoding: "utf8" }, (error, stdout) => resolve(error ? "" : stdout.trim())),
            );
            const response = new sdk.language.AboutResponse();
            response.setExecutable(process.execPath);
            response.setVersion(process.version);
            response.getMetadataMap().set("packagemanager", "npm");
            if (npmVersion) response.getMetadataMap().set("packagemanagerVersion", npmVersion);
            return response;
        }),

        getRequiredPackages: unary((req) => {
            const found = [];
            const problems = [];
            requiredPackages(sdk, req.getInfo().getProgramDirectory(), false, new Set(), found, problems);
            const response = new sdk.language.GetRequiredPackagesResponse();
            response.setPackagesList(found);
            return response;
        }),

        run: unary(async (req, call) => {
            const respond = (error, bail = false) => {
                const response = new sdk.language.RunResponse();
                response.setError(error);
                response.setBail(bail);
                return response;
            };
            if (!host.engineAddress) throw new Error("when debugging or running explicitly, must call Handshake before Run");
            if (req.getAttachDebugger()) return respond("attaching a debugger is not supported by this language host");
            const info = req.getInfo();
            let options, runPath;
            try {
                options = parseOptions(info);
                runPath = await locateModule(process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH || RUN_PATH, info.getProgramDirectory(), "pulumi install");
            } catch (e) {
                return respond(e.message);
            }
            const args = [...options.nodeargs, ...runArguments(req, runPath, host.engineAddress, flags.tracing)];
            return new Promise((resolve) => {
                const child = track(spawn("node", args, { env: runEnvironment(req, options), stdio: ["ignore", "inherit", "inherit"] }));
                call.on("cancelled", () => interrupt(child));
                child.once("error", (e) => resolve(respond(`Problem executing program (could not run language executor): ${e.message}`)));
                child.once("exit", (code) => {
                    if (code === 0) resolve(respond(""));
                    else if (code === EXIT_AFTER_USER_MESSAGE) resolve(respond("", true));
                    else resolve(respond(`Program exited with non-zero exit code: ${exitCodeOf(code)}`));
                });
            });
        }),

        runPlugin: (call) => {
            const req = call.request;
            const info = req.getInfo();
            let finished = false;
            call.on("cancelled", () => (finished = true));
            const send = (field, value) => {
                if (finished) return;
                const response = new sdk.language.RunPluginResponse();
                response[field](value);
                call.write(response);
            };
            const end = (error) => {
                if (finished) return;
                finished = true;
                // An error status ends the stream (grpc-js: an 'error' event on a server stream sends it).
                if (error) call.emit("error", { code: grpc.status.UNKNOWN, details: error });
                else call.end();
            };
            if (req.getKind() === "analyzer") {
                call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "policy packs are not supported by this language host" });
                return;
            }
            if (req.getAttachDebugger()) return end("attaching a debugger is not supported by this language host");
            let options;
            try {
                options = parseOptions(info);
            } catch (e) {
                return end(e.message);
            }
            const env = environmentOf(req.getEnvList());
            if (options.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
            if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
            locateModule(process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH || RUN_PLUGIN_PATH, info.getProgramDirectory(), `npm install in ${info.getProgramDirectory()}`).then(
                (runPath) => {
                    const args = [runPath, ...options.nodeargs, info.getProgramDirectory(), ...req.getArgsList()];
                    const child = track(
                        spawn("node", args, {
                            cwd: req.getPwd() || undefined,
                            env: Object.keys(env).length > 0 ? env : process.env,
                            stdio: ["ignore", "pipe", "pipe"],
                        }),
                    );
                    call.on("cancelled", () => interrupt(child));
                    child.stdout.on("data", (chunk) => send("setStdout", chunk));
                    child.stderr.on("data", (chunk) => send("setStderr", chunk));
                    child.once("error", (e) => end(`Problem executing plugin program (could not run language executor): ${e.message}`));
                    child.once("close", (code) => end(code === 0 ? undefined : `Program exited with non-zero exit code: ${exitCodeOf(code)}`));
                },
                (e) => end(e.message),
            );
        },

        cancel: unary(() => {
            for (const child of running) interrupt(child);
            return new sdk.empty.Empty();
        }),
    };

    // The engine's health, as rpcutil.Healthcheck polls it: stop serving when the engine is gone.
    let healthTimer;
    function watchEngine(address) {
        clearInterval(healthTimer);
        if (!address) return;
        const client = new grpc.Client(address, grpc.credentials.createInsecure());
        healthTimer = setInterval(() => {
            client.makeUnaryRequest("/grpc.health.v1.Health/Check", () => Buffer.alloc(0), (b) => b, {}, (error) => {
                if (error && error.code !== grpc.status.UNIMPLEMENTED) shutdown();
            });
        }, HEALTH_CHECK_MS);
        healthTimer.unref();
    }

    const server = new grpc.Server();
    server.addService(sdk.services.LanguageRuntimeService, implementation);
    function shutdown() {
        for (const child of running) interrupt(child);
        server.tryShutdown(() => process.exit(0));
    }
    process.on("SIGINT", shutdown);
    process.on("SIGTERM", shutdown);

    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
        if (error) fail(`could not start language host RPC server: ${error.message}`);
        watchEngine(engineAddress);
        process.stdout.write(`${port}\n`);
    });
}

const parsed = parseFlags(process.argv.slice(2));
if (parsed.flags.version) {
    process.stdout.write(`${VERSION}\n`);
} else if (parsed.flags.runtime !== "nodejs") {
    fail(`unsupported runtime: ${parsed.flags.runtime} (this language host runs nodejs only)`);
} else {
    serve(parsed);
}
