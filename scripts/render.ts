/**
 * `npm run render -- <stack>`: prints the Kubernetes objects a stack creates, as one YAML stream (like
 * `helm template`), without a cluster or the Pulumi CLI. Runs the program on the tests' mock engine; names that
 * Pulumi or the API server generate, and secret values, are marked as such.
 */
import * as YAML from "yaml";
import { AUTO_NAME_MARK, MockEngine, RegisteredResource, TYPES, kubernetesObjects } from "../test/harness";
import { runProgram, stackConfig, stackNames } from "../test/stack-config";

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

async function main(): Promise<void> {
    const stack = process.argv[2];
    if (!stack) {
        throw new Error(`usage: npm run render -- <stack>   (stacks: ${stackNames().join(", ")})`);
    }
    const run = await new MockEngine().run(runProgram, { config: stackConfig(stack) });
    const documents = kubernetesObjects(run.resources).map((object) => {
        const body = structuredClone(object.inputs);
        if (!body.metadata?.name && object.type !== TYPES.pvcPatch) {
            body.metadata = { name: `${object.name}-<${AUTO_NAME_MARK}>`, ...body.metadata };
        }
        redactSecrets(object, body);
        // References to generated names appear as the names Pulumi will give them.
        const text = JSON.stringify(body).replace(/"([a-z0-9-]+)-[0-9a-f]{8}"/g, `"$1-<${AUTO_NAME_MARK}>"`);
        const doc = new YAML.Document(JSON.parse(text));
        doc.commentBefore = notes(object).map((l) => ` ${l}`).join("\n");
        return doc.toString({ lineWidth: 0 });
    });
    for (const warning of run.warnings) {
        process.stderr.write(`warning: ${warning}\n`);
    }
    process.stdout.write(`# Kubernetes objects of stack "${stack}" (offline render; no cluster contacted)\n`);
    process.stdout.write(documents.map((d) => `---\n${d}`).join(""));
}

main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
