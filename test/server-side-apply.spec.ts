import * as assert from "assert";
import { EmqxCluster, EmqxClusterArgs } from "../components";
import { MockEngine, kubernetesObjects } from "./harness";

/** Builds the component with the default provider configured as `kubernetes:*` config says; returns the error. */
async function build(args: EmqxClusterArgs, config: Record<string, string>) {
    let error: Error | undefined;
    const run = await new MockEngine().run(
        () => {
            try {
                new EmqxCluster("emqx", args);
            } catch (err) {
                error = err as Error;
            }
        },
        { config },
    );
    return { error, objects: kubernetesObjects(run.resources) };
}

describe("the claim resize patches and server-side apply", () => {
    it("refuses, before anything is created, a default provider that turns server-side apply off", async () => {
        const { error, objects } = await build({}, { "kubernetes:enableServerSideApply": "false" });
        assert.match(error?.message ?? "", /resize patches need server-side apply.*enableServerSideApply=false.*remove that setting/);
        assert.deepStrictEqual(objects, []);
    });

    it("runs with server-side apply on (the default), and without persistence, which has no patches", async () => {
        assert.strictEqual((await build({}, {})).error, undefined);
        assert.strictEqual((await build({}, { "kubernetes:enableServerSideApply": "true" })).error, undefined);
        assert.strictEqual((await build({ persistence: false }, { "kubernetes:enableServerSideApply": "false" })).error, undefined);
    });
});
