import * as pulumi from "@pulumi/pulumi";
import { EmqxCluster, EmqxClusterArgs } from "../components";
import * as assert from "assert";
import { MockEngine, RegisteredResource, RunFailure, RunResult, TYPES, kubernetesObjects, single, valueOf } from "./harness";

export interface Deployment {
    readonly cluster: EmqxCluster;
    readonly resources: RegisteredResource[];
    readonly warnings: string[];
    /** Registered inputs of the one object of this type. */
    spec(type: string): Record<string, any>;
}

/** Deploys one EmqxCluster on a (new or given) mock engine. */
export async function deploy(
    args: EmqxClusterArgs,
    options: { engine?: MockEngine; name?: string; opts?: pulumi.ComponentResourceOptions } = {},
): Promise<Deployment> {
    const engine = options.engine ?? new MockEngine();
    const run: RunResult<EmqxCluster> = await engine.run(
        () => new EmqxCluster(options.name ?? "emqx", args, options.opts),
    );
    // Resolve every output so that nothing is still in flight when the test inspects the run.
    await valueOf(run.value.nodeNames);
    await valueOf(run.value.mqttUrl);
    return {
        cluster: run.value,
        resources: run.resources,
        warnings: run.warnings,
        spec: (type) => single(run.resources, type).state,
    };
}

export function statefulSetOf(d: Deployment): Record<string, any> {
    return d.spec(TYPES.statefulSet);
}

export function containerOf(d: Deployment): Record<string, any> {
    return statefulSetOf(d).spec.template.spec.containers[0];
}

/**
 * Asserts that the constructor refuses `args` with an error naming `field` and matching `fix`, and that no
 * Kubernetes object was registered.
 */
export async function assertRefusedBeforeCreating(args: EmqxClusterArgs, field: string, fix: RegExp, name = "emqx"): Promise<void> {
    let error: Error | undefined;
    const run = await new MockEngine().run(() => {
        try {
            new EmqxCluster(name, args);
        } catch (err) {
            error = err as Error;
        }
    });
    assert.ok(error, "no error");
    assert.ok(error.message.includes(`- ${field}:`), `error does not name ${field}: ${error.message}`);
    assert.match(error.message, fix);
    assert.deepStrictEqual(kubernetesObjects(run.resources), [], "objects were registered");
}

/** The problems EmqxCluster reports for `args` (plain or Outputs), after checking that no object was registered. */
export async function problemsOf(args: EmqxClusterArgs): Promise<string[]> {
    let message = "";
    let resources;
    try {
        const run = await new MockEngine().run(() => {
            try {
                new EmqxCluster("emqx", args);
            } catch (err) {
                message = (err as Error).message;
            }
        });
        resources = run.resources;
    } catch (err) {
        assert.ok(err instanceof RunFailure, `not a run failure: ${err}`);
        message = err.message;
        resources = err.resources;
    }
    assert.deepStrictEqual(kubernetesObjects(resources).map((r) => r.type), [], "objects were registered before the error");
    return message.split("\n").filter((line) => line.startsWith("  - ")).map((line) => line.slice(4));
}

