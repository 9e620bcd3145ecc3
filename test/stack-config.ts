/** Stack configuration as the Pulumi CLI would hand it to the program: project defaults, then the stack file. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

export const ROOT = path.resolve(__dirname, "..");

interface ProjectFile {
    name: string;
    main?: string;
    stackConfigDir: string;
    config: Record<string, { type: string; default?: unknown; description?: string }>;
}

export function projectFile(): ProjectFile {
    return YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
}

export function stackNames(): string[] {
    const dir = path.join(ROOT, projectFile().stackConfigDir);
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => Boolean(s))
        .sort();
}

function asConfigString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** `project:key` -> string, as `pulumi.runtime.setAllConfig` expects. Secrets are left out (the CLI decrypts them). */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    const project = projectFile();
    const config: Record<string, string> = {};
    for (const [key, declared] of Object.entries(project.config)) {
        if (declared.default !== undefined) {
            config[`${project.name}:${key}`] = asConfigString(declared.default);
        }
    }
    const file = path.join(ROOT, project.stackConfigDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new Error(`no stack file ${file}; stacks: ${stackNames().join(", ")}`);
    }
    const values = (YAML.parse(fs.readFileSync(file, "utf8"))?.config ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries({ ...values, ...overrides })) {
        if (value && typeof value === "object" && "secure" in (value as object)) {
            continue;
        }
        config[key.includes(":") ? key : `${project.name}:${key}`] = asConfigString(value);
    }
    return config;
}

/**
 * The file the Node.js language host runs for this project. The CLI passes Pulumi.yaml's `main` (or "." when it is
 * unset) to `@pulumi/pulumi/cmd/run`, which for "." runs the package's entry point from package.json (`exports["."]`,
 * then `main`) rather than any index.ts.
 */
export function programEntry(): string {
    const main = projectFile().main ?? ".";
    if (main !== ".") {
        return path.resolve(ROOT, main);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const exported = manifest.exports;
    const dot = typeof exported === "string" ? exported : exported?.["."];
    const entry = typeof dot === "string" ? dot : (dot?.default ?? dot?.require ?? dot?.import ?? manifest.main ?? "index.js");
    return path.resolve(ROOT, entry);
}

/** Runs the Pulumi program, the file the Node.js host would run, afresh and returns its stack outputs. */
export function runProgram(): Record<string, unknown> {
    const entry = require.resolve(programEntry());
    delete require.cache[entry];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { ...require(entry) };
}
