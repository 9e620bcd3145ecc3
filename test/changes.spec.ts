import * as assert from "assert";
import { EmqxClusterArgs } from "../components";
import { changeGuardProvider } from "../components/change-guard";
import { MockEngine, RegisteredResource, TYPES, kubernetesObjects, ofType } from "./harness";
import { Deployment, deploy, statefulSetOf } from "./deploy";

/** Fields of a StatefulSet the API server refuses to change: a change needs a replacement. */
const IMMUTABLE_STATEFULSET_FIELDS = ["selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates"];

interface Update {
    readonly before: Deployment;
    readonly after: Deployment;
    /** What the change guard says when the engine runs its check at preview time. */
    readonly refusals: string[];
}

/** Deploys `from`, then updates the same stack to `to`, as `pulumi up` twice would. */
async function update(from: EmqxClusterArgs, to: EmqxClusterArgs): Promise<Update> {
    const engine = new MockEngine();
    const before = await deploy(from, { engine });
    const after = await deploy(to, { engine });
    const guardOf = (d: Deployment) => d.resources.find((r) => r.type.endsWith(":ChangeGuard"))!.inputs;
    const checked = await changeGuardProvider.check!(guardOf(before), guardOf(after));
    return { before, after, refusals: (checked.failures ?? []).map((f) => f.reason) };
}

function byUrn(resources: readonly RegisteredResource[]): Map<string, RegisteredResource> {
    return new Map(kubernetesObjects(resources).map((r) => [r.urn, r]));
}

/** Kubernetes objects whose registered state differs between the two runs, by logical name. */
function changedObjects(u: Update): string[] {
    const before = byUrn(u.before.resources);
    return kubernetesObjects(u.after.resources)
        .filter((r) => JSON.stringify(before.get(r.urn)?.state) !== JSON.stringify(r.state))
        .map((r) => r.name)
        .sort();
}

function immutableChanges(u: Update): string[] {
    const [a, b] = [statefulSetOf(u.before).spec, statefulSetOf(u.after).spec];
    return IMMUTABLE_STATEFULSET_FIELDS.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
}

describe("changing a running cluster", () => {
    it("rolls the pods when a setting changes, and changes nothing else", async () => {
        const u = await update({ emqxConfig: { "mqtt.max_packet_size": "1MB" } }, { emqxConfig: { "mqtt.max_packet_size": "2MB" } });
        assert.deepStrictEqual(u.refusals, []);
        // The ConfigMap gets a new generated name, which the pod template refers to: the pods roll.
        assert.deepStrictEqual(changedObjects(u), ["emqx-settings", "emqx-sts"]);
        const [a, b] = [statefulSetOf(u.before), statefulSetOf(u.after)];
        assert.notDeepStrictEqual(a.spec.template, b.spec.template);
        assert.deepStrictEqual({ ...a.spec, template: undefined }, { ...b.spec, template: undefined });
        assert.deepStrictEqual(immutableChanges(u), [], "the StatefulSet would be replaced");
        assert.strictEqual(b.spec.updateStrategy.type, "RollingUpdate");
        assert.strictEqual(ofType(u.after.resources, TYPES.pdb)[0].state.spec.maxUnavailable, 1);
    });

    it("replaces the ConfigMap and Secret on any change, even with a provider that treats them as mutable", async () => {
        const d = await deploy({});
        for (const type of [TYPES.configMap, TYPES.secret]) {
            const object = ofType(d.resources, type).find((r) => r.name !== "emqx-credentials")!;
            assert.deepStrictEqual(object.replaceOnChanges, ["*"], type);
            assert.strictEqual(object.inputs.metadata.name, undefined, `${type} must be auto-named`);
        }
    });

    it("changes nothing when nothing changed", async () => {
        const u = await update({ discovery: "k8s" }, { discovery: "k8s" });
        assert.deepStrictEqual(changedObjects(u), []);
        assert.deepStrictEqual(u.refusals, []);
    });

    it("scales up and down in place, keeping the claims of removed pods unless told otherwise", async () => {
        const u = await update({ replicas: 3 }, { replicas: 5 });
        assert.deepStrictEqual(u.refusals, []);
        assert.deepStrictEqual(immutableChanges(u), []);
        assert.strictEqual(statefulSetOf(u.after).spec.replicas, 5);
        assert.strictEqual(ofType(u.after.resources, TYPES.pvcPatch).length, 5);
        const down = await update({ replicas: 5 }, { replicas: 3 });
        assert.deepStrictEqual(down.refusals, []);
        assert.strictEqual(statefulSetOf(down.after).spec.persistentVolumeClaimRetentionPolicy.whenScaled, "Retain");
        // Forgetting the resize patches of removed pods never touches their claims.
        assert.ok(ofType(down.before.resources, TYPES.pvcPatch).every((p) => p.retainOnDelete));
        const deleting = await deploy({ replicas: 3, volumeRetentionOnScaleDown: "Delete" });
        assert.strictEqual(statefulSetOf(deleting).spec.persistentVolumeClaimRetentionPolicy.whenScaled, "Delete");
        assert.strictEqual(statefulSetOf(deleting).spec.persistentVolumeClaimRetentionPolicy.whenDeleted, "Retain");
    });

    it("grows volumes in place: the same claims resized by patches, the StatefulSet left as it is", async () => {
        const u = await update({ storageSize: "1Gi" }, { storageSize: "5Gi" });
        assert.deepStrictEqual(u.refusals, []);
        const [a, b] = [ofType(u.before.resources, TYPES.statefulSet)[0], ofType(u.after.resources, TYPES.statefulSet)[0]];
        assert.strictEqual(a.urn, b.urn);
        assert.strictEqual(a.state.metadata.name, b.state.metadata.name);
        // The engine keeps the template's size from the state: the immutable claim template never changes.
        assert.deepStrictEqual(immutableChanges(u), [], "the StatefulSet would be replaced");
        assert.strictEqual(b.state.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "1Gi");
        const patches = ofType(u.after.resources, TYPES.pvcPatch);
        assert.deepStrictEqual(
            patches.map((p) => [p.state.metadata.name, p.state.spec.resources.requests.storage]),
            [0, 1, 2].map((i) => [`data-emqx-${i}`, "5Gi"]),
        );
    });

    for (const [title, from, to, field] of [
        ["a StorageClass change", { storageClass: "standard" }, { storageClass: "fast-ssd" }, "storageClass"],
        ["a shrink", { storageSize: "10Gi" }, { storageSize: "5Gi" }, "storageSize"],
        ["turning persistence off", {}, { persistence: false }, "persistence"],
    ] as [string, EmqxClusterArgs, EmqxClusterArgs, string][]) {
        it(`refuses ${title} at preview, unless volumeGeneration is bumped for new, empty volumes`, async () => {
            const refused = await update(from, to);
            assert.strictEqual(refused.refusals.length, 1);
            assert.match(refused.refusals[0], new RegExp(`^${field}: .*bump volumeGeneration \\(to 1\\)`));
            const accepted = await update(from, { ...to, volumeGeneration: 1 });
            assert.deepStrictEqual(accepted.refusals, []);
            // A new StatefulSet resource and object: created next to the old one, which Pulumi then deletes.
            const [old, next] = [ofType(accepted.before.resources, TYPES.statefulSet)[0], ofType(accepted.after.resources, TYPES.statefulSet)[0]];
            assert.notStrictEqual(next.urn, old.urn);
            assert.strictEqual(next.state.metadata.name, "emqx-g1");
            const claims = (d: Deployment) => ofType(d.resources, TYPES.pvcPatch).map((p) => p.state.metadata.name);
            if (next.state.spec.volumeClaimTemplates.length > 0) {
                assert.deepStrictEqual(claims(accepted.after), ["data-emqx-g1-0", "data-emqx-g1-1", "data-emqx-g1-2"], "new claims, never the old volumes");
            }
            // The Services and the PDB follow the new generation's pods only, so the two never form one cluster.
            const selectors = ofType(accepted.after.resources, TYPES.service).map((s) => s.state.spec.selector);
            assert.ok(selectors.every((s) => s["emqx.pulumi.io/volume-generation"] === "1"));
            assert.strictEqual(next.state.spec.selector.matchLabels["emqx.pulumi.io/volume-generation"], "1");
        });
    }

    it("refuses to lower volumeGeneration, which would bring old volumes back", async () => {
        const u = await update({ volumeGeneration: 2 }, { volumeGeneration: 1 });
        assert.match(u.refusals[0], /^volumeGeneration: .*only go up/);
    });

    it("rolls a version upgrade within a major: only the image changes", async () => {
        const u = await update({ version: "5.8.8" }, { version: "5.8.9" });
        assert.deepStrictEqual(u.refusals, []);
        assert.deepStrictEqual(immutableChanges(u), []);
        assert.strictEqual(statefulSetOf(u.after).spec.template.spec.containers[0].image, "emqx/emqx:5.8.9");
    });

    it("refuses 4.x to 5.x, naming the reason and the migration path", async () => {
        const u = await update({ version: "4.4.19", discovery: "k8s" }, { version: "5.8.9", discovery: "k8s" });
        assert.strictEqual(u.refusals.length, 1);
        assert.match(u.refusals[0], /^version: EMQX 4\.4\.19 -> 5\.8\.9 is not a rolling upgrade.*data export/);
    });

    it("refuses 5.0-5.3 straight to 5.10+, and accepts it from 5.4", async () => {
        const licensed = { licenseKey: "key" };
        const refused = await update({ version: "5.3.2" }, { version: "5.10.1", ...licensed });
        assert.match(refused.refusals[0], /^version: EMQX 5\.10\.1 cannot take over data from 5\.3\.2; roll to 5\.4\.0/);
        const accepted = await update({ version: "5.4.1" }, { version: "5.10.1", ...licensed });
        assert.deepStrictEqual(accepted.refusals, []);
    });

    it("treats a new namespace or clusterName as a new cluster with its own objects and claims", async () => {
        const u = await update({ namespace: "a" }, { namespace: "b" });
        assert.deepStrictEqual(u.refusals, []);
        for (const object of kubernetesObjects(u.after.resources)) {
            assert.strictEqual(object.state.metadata.namespace, "b");
        }
        const renamed = await update({ clusterName: "emqx" }, { clusterName: "broker" });
        assert.deepStrictEqual(renamed.refusals, []);
        const claims = (d: Deployment) => ofType(d.resources, TYPES.pvcPatch).map((p) => p.state.metadata.name);
        assert.ok(claims(renamed.after).every((c) => !claims(renamed.before).includes(c)), "two clusters would share claims");
    });
});
