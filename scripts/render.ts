/**
 * `npm run render -- <stack>`: prints the Kubernetes objects a stack creates, as one YAML stream (like
 * `helm template`), without a cluster or the Pulumi CLI. Runs the program on the tests' mock engine; names that
 * Pulumi or the API server generate, and secret values, are marked as such.
 */
import * as YAML from "yaml";
import { AUTO_NAME_MARK, MockEngine, RegisteredResource, TYPES, kubernetesObjects } from "../test/harness";
import { runProgram, stackConfig, stackNames } from "../test/stack-config";

/** One object of the stack: the Pulumi resource and the manifest Kubernetes receives. */
export interface RenderedObject {
    readonly resource: RegisteredResource;
    /** The manifest, generated names written as `<name>-<generated>` and secret values replaced by a note. */
    readonly manifest: Record<string, any>;
}

function redactSecrets(object: RegisteredResource, body: Record<string, any>): void {
    if (object.type === TYPES.secret && body.stringData) {
        body.stringData = Object.fromEntries(Object.keys(body.stringData).map((k) => [k, "<secret: kept in the Pulumi state>"]));
    }
}

function notes(object: RegisteredResource): string[] {
    const lines: string[] = [`Pulumi resource ${object.type} "${object.name}"`];
    if (!object.inputs.metadata?.name && object.type !== TYPES.pvcPatch) {
        lines.push(`metadata.name is ${AUTO_NAME_MARK} by Pulumi: "${object.name}-<random suffix>", new on every change`);
    }
    if (object.type === TYPES.service) {
        const allocated = (object.inputs.spec?.ports ?? []).filter((p: any) => p.nodePort === undefined && object.inputs.spec.type !== "ClusterIP" && object.inputs.spec.clusterIP !== "None");
        if (allocated.length > 0) {
            lines.push(`nodePort of ${allocated.map((p: any) => p.name).join(", ")}: allocated by Kubernetes`);
        }
    }
    if (object.type === TYPES.pvcPatch) {
        lines.push("a server-side apply patch of the claim the StatefulSet created");
    }
    return lines;
}

/**
 * The Kubernetes objects of `stack` (its stack file, then `overrides` by config key), in registration order, as
 * the program registers them on the mock engine.
 */
export async function renderStack(stack: string, overrides: Record<string, unknown> = {}): Promise<{ objects: RenderedObject[]; warnings: string[] }> {
    const run = await new MockEngine().run(runProgram, { config: stackConfig(stack, overrides) });
    const objects = kubernetesObjects(run.resources).map((resource) => {
        const body = structuredClone(resource.inputs);
        if (!body.metadata?.name && resource.type !== TYPES.pvcPatch) {
            body.metadata = { name: `${resource.name}-<${AUTO_NAME_MARK}>`, ...body.metadata };
        }
        redactSecrets(resource, body);
        // References to generated names appear as the names Pulumi will give them.
        const text = JSON.stringify(body).replace(/"([a-z0-9-]+)-[0-9a-f]{8}"/g, `"$1-<${AUTO_NAME_MARK}>"`);
        return { resource, manifest: JSON.parse(text) };
    });
    return { objects, warnings: run.warnings };
}

async function main(): Promise<void> {
    const stack = process.argv[2];
    if (!stack) {
        throw new Error(`usage: npm run render -- <stack>   (stacks: ${stackNames().join(", ")})`);
    }
    const { objects, warnings } = await renderStack(stack);
    const documents = objects.map(({ resource, manifest }) => {
        const doc = new YAML.Document(manifest);
        doc.commentBefore = notes(resource).map((l) => ` ${l}`).join("\n");
        return doc.toString({ lineWidth: 0 });
    });
    for (const warning of warnings) {
        process.stderr.write(`warning: ${warning}\n`);
    }
    process.stdout.write(`# Kubernetes objects of stack "${stack}" (offline render; no cluster contacted)\n`);
    process.stdout.write(documents.map((d) => `---\n${d}`).join(""));
}

if (require.main === module) {
    main().catch((err) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    });
}
