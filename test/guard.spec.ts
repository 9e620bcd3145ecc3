/**
 * The change guard as `pulumi preview` runs it: its `check` gets the inputs the engine recorded at the last
 * successful update and the ones this run offers; a refusal stops the update, anything else becomes the record.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { EmqxClusterArgs } from "../components";
import { changeGuardProvider } from "../components/change-guard";
import { MockEngine, TYPES, kubernetesObjects } from "./harness";
import { deploy } from "./deploy";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

/** A stack the guard watches over: each `preview` runs the program and the guard's check as the engine would. */
class GuardedStack {
    private recorded: Record<string, unknown> | undefined;
    private readonly engine = new MockEngine();

    /** The refusals, as the user reads them; without any, the update goes ahead and the guard records it. */
    async update(args: EmqxClusterArgs): Promise<{ refusals: string[]; properties: string[]; warnings: string[] }> {
        const d = await deploy(args, { engine: this.engine });
        const offered = d.resources.find((r) => r.type.endsWith(":ChangeGuard"))!.inputs;
        const checked = await changeGuardProvider.check!(this.recorded ?? {}, offered);
        // What Pulumi's dynamic-provider server does with the answer: it must be a protobuf Struct.
        Struct.fromJavaScript(checked.inputs);
        const failures = checked.failures ?? [];
        if (failures.length === 0) {
            this.recorded = checked.inputs;
        }
        return { refusals: failures.map((f) => f.reason), properties: failures.map((f) => f.property), warnings: d.warnings };
    }
}

/** `value` with every object's keys in reverse order, as a record may come back from the engine in another order. */
function reordered(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(reordered);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).reverse().map(([k, v]) => [k, reordered(v)]));
    }
    return value;
}

describe("the change guard", () => {
    it("sees no change in an update that changes nothing, whatever the key order of the stored record", async () => {
        const engine = new MockEngine();
        const offered = async () => (await deploy({}, { engine })).resources.find((r) => r.type.endsWith(":ChangeGuard"))!.inputs;
        const created = await changeGuardProvider.check!({}, await offered());
        const stored = reordered(created.inputs) as Record<string, unknown>;
        const again = await changeGuardProvider.check!(stored, await offered());
        assert.deepStrictEqual(again.failures ?? [], []);
        assert.strictEqual(again.inputs.previous, undefined, "a no-op update recorded a previous state");
        assert.strictEqual((await changeGuardProvider.diff!("id", stored, again.inputs)).changes, false);
    });

    it("says why and how to go ahead, without printing the recorded state", async () => {
        const stack = new GuardedStack();
        await stack.update({ storageClass: "standard" });
        const { refusals, properties } = await stack.update({ storageClass: "fast-ssd" });
        assert.strictEqual(refusals.length, 1);
        assert.match(refusals[0], /^storageClass: "standard" -> "fast-ssd" cannot apply to existing volumes; bump volumeGeneration/);
        assert.match(refusals[0], /add "storageClass" to acknowledgedChanges/);
        // The engine prints the whole value of a named property before the reason: name none.
        assert.deepStrictEqual(properties, [""]);
    });

    it("lets an acknowledged kind of change through, with a warning at every preview", async () => {
        const stack = new GuardedStack();
        await stack.update({ storageSize: "10Gi" });
        const acknowledged = await stack.update({ storageSize: "5Gi", acknowledgedChanges: ["storageSize"] });
        assert.deepStrictEqual(acknowledged.refusals, []);
        assert.match(acknowledged.warnings.join("\n"), /acknowledgedChanges lets storageSize changes through/);
        // Only the kind named: another unsafe change in the same update is still refused.
        const other = new GuardedStack();
        await other.update({ storageSize: "10Gi", storageClass: "standard" });
        const still = await other.update({ storageSize: "5Gi", storageClass: "fast-ssd", acknowledgedChanges: ["storageSize"] });
        assert.strictEqual(still.refusals.length, 1);
        assert.match(still.refusals[0], /^storageClass:/);
    });

    const EVERY_KIND: [string, EmqxClusterArgs, EmqxClusterArgs][] = [
        ["version", { version: "4.4.19" }, { version: "5.8.9" }],
        ["storageClass", { storageClass: "standard" }, { storageClass: "fast-ssd" }],
        ["storageSize", { storageSize: "2Gi" }, { storageSize: "1Gi" }],
        ["persistence", {}, { persistence: false }],
        ["volumeGeneration", { volumeGeneration: 2 }, { volumeGeneration: 1 }],
    ];
    for (const [kind, from, to] of EVERY_KIND) {
        it(`refuses a ${kind} change with the way to acknowledge it, and lets it through once acknowledged`, async () => {
            const stack = new GuardedStack();
            assert.deepStrictEqual((await stack.update(from)).refusals, []);
            const refused = await stack.update(to);
            assert.strictEqual(refused.refusals.length, 1, refused.refusals.join("\n"));
            assert.ok(refused.refusals[0].startsWith(`${kind}: `));
            assert.ok(refused.refusals[0].includes(`add "${kind}" to acknowledgedChanges`));
            assert.deepStrictEqual((await stack.update({ ...to, acknowledgedChanges: [kind] })).refusals, []);
        });
    }

    it("accepts reverting a change whose rollout may have failed, and still refuses going below where it was", async () => {
        const stack = new GuardedStack();
        await stack.update({ storageSize: "1Gi" });
        // A resize the StorageClass may refuse: the guard has recorded 2Gi before the claims were patched.
        assert.deepStrictEqual((await stack.update({ storageSize: "2Gi" })).refusals, []);
        assert.deepStrictEqual((await stack.update({ storageSize: "1Gi" })).refusals, [], "the revert is refused");
        assert.match((await stack.update({ storageSize: "512Mi" })).refusals[0] ?? "", /^storageSize: 1Gi -> 512Mi would shrink/);
    });

    it("refuses a shrink of a cluster deployed at that size from the start", async () => {
        const stack = new GuardedStack();
        await stack.update({ storageSize: "2Gi" });
        await stack.update({ replicas: 5, storageSize: "2Gi" });
        assert.match((await stack.update({ storageSize: "1Gi" })).refusals[0] ?? "", /^storageSize: 2Gi -> 1Gi/);
    });

    it("can be switched off where dynamic providers cannot run, with a warning at every preview", async () => {
        const d = await deploy({ changeGuard: false });
        assert.ok(!d.resources.some((r) => r.type.startsWith("pulumi-nodejs:dynamic")), "a dynamic resource is left");
        assert.match(d.warnings.join("\n"), /changeGuard is false: nothing refuses an update/);
        assert.ok(kubernetesObjects(d.resources).some((r) => r.type === TYPES.statefulSet));
        assert.deepStrictEqual((await deploy({ externalHost: "mqtt.example.com", tls: { secretName: "mqtt-tls" } })).warnings, []);
    });

    it("is the only dynamic-provider resource: the secrets need none", async () => {
        const d = await deploy({});
        assert.deepStrictEqual(
            d.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic")).map((r) => r.type),
            ["pulumi-nodejs:dynamic/emqx:ChangeGuard"],
        );
    });

    it("serializes to code that requires nothing but Node built-ins and @pulumi/pulumi", async function () {
        this.timeout(60_000);
        const { text } = await pulumi.runtime.serializeFunction(() => changeGuardProvider, { allowSecrets: true });
        const required = [...text.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
        assert.deepStrictEqual(required.filter((r) => !r.startsWith("@pulumi/pulumi") && !isBuiltin(r)), [], text);
        assert.match(text, /acknowledgedChanges/, "the rules are not in the serialized code");
    });
});

function isBuiltin(module: string): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("module").builtinModules.includes(module.replace(/^node:/, ""));
}
